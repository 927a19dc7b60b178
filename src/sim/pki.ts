// Certificates for the simulator: a CA per simulated service (a vCenter's VMCA, the VCD/NSX
// listeners' CA), server leaves those CAs sign for the HTTPS listeners, and the X.509 checks the
// vCenter trust store needs. Node's crypto parses and verifies certificates but cannot build them,
// so building uses @peculiar/x509 over Node's WebCrypto; everything else uses node:crypto.
//
// Keys are ECDSA P-256: generated in milliseconds (tests create many CAs) and accepted by Node's TLS.

// reflect-metadata must load before @peculiar/x509: its dependency container needs the polyfill.
import 'reflect-metadata';
import { X509Certificate as NodeX509, createPublicKey, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const crypto = webcrypto;
// The library's typings name the DOM's Crypto; Node's webcrypto is that same interface.
x509.cryptoProvider.set(crypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const KEY_ALGORITHM: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING_ALGORITHM: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export interface IssuedCertificate {
  certPem: string;
  /** PKCS#8 PEM ("BEGIN PRIVATE KEY"). */
  keyPem: string;
}

export interface ServerCertificateOptions {
  commonName: string;
  dnsNames: string[];
  ipAddresses: string[];
}

export interface CertificateAuthority {
  /** The CA's subject, as node:crypto prints it (e.g. "CN=vc-a VMCA\nO=vc-a"). */
  name: string;
  certPem: string;
  keyPem: string;
  /** A TLS server leaf (not a CA) for the given names, signed by this CA. */
  issueServer(opts: ServerCertificateOptions): Promise<IssuedCertificate>;
}

export interface PkiOptions {
  /** Extra subject attribute, e.g. the vCenter's name, so two VMCAs never share a subject. */
  organization?: string;
  /** Validity start is now minus an hour (tolerates clock skew); injectable for tests. */
  now?: () => Date;
  validDays?: number;
}

/** A PEM that is not a parseable X.509 certificate. */
export class CertificateParseError extends Error {
  override readonly name = 'CertificateParseError';
}

/** What the vCenter trust store and its `tls` endpoint need to know about one certificate. */
export interface CertificateInfo {
  subject: string;
  issuer: string;
  isCA: boolean;
  serialNumber: string;
  validFrom: Date;
  validTo: Date;
  /** Upper-case hex with colons, as vCenter and OpenSSL print them. */
  sha1Fingerprint: string;
  sha256Fingerprint: string;
  subjectAltNames: string[];
  /** Key usage names as in RFC 5280 (digitalSignature, keyCertSign ...). */
  keyUsage: string[];
  /** Extended key usage OIDs (node:crypto calls these keyUsage). */
  extendedKeyUsage: string[];
  /** Java-style name as vCenter prints it, e.g. SHA256withECDSA. */
  signatureAlgorithm: string;
  /** The certificate re-encoded as canonical PEM (normalises whitespace and line length). */
  pem: string;
}

export async function createCA(commonName: string, opts: PkiOptions = {}): Promise<CertificateAuthority> {
  const now = (opts.now ?? (() => new Date()))();
  const keys = await generateKeys();
  const subject = subjectName(commonName, opts.organization);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: subject,
    keys,
    serialNumber: randomSerial(),
    notBefore: new Date(now.getTime() - HOUR_MS),
    notAfter: new Date(now.getTime() + (opts.validDays ?? 3650) * DAY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const certPem = cert.toString('pem');
  const keyPem = await exportKeyPem(keys.privateKey);

  return {
    name: new NodeX509(certPem).subject,
    certPem,
    keyPem,
    async issueServer(server: ServerCertificateOptions): Promise<IssuedCertificate> {
      const leafKeys = await generateKeys();
      const issuedAt = (opts.now ?? (() => new Date()))();
      const leaf = await x509.X509CertificateGenerator.create({
        subject: subjectName(server.commonName, opts.organization),
        issuer: cert.subjectName,
        publicKey: leafKeys.publicKey,
        signingKey: keys.privateKey,
        serialNumber: randomSerial(),
        notBefore: new Date(issuedAt.getTime() - HOUR_MS),
        notAfter: new Date(issuedAt.getTime() + 825 * DAY_MS),
        signingAlgorithm: SIGNING_ALGORITHM,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
          new x509.SubjectAlternativeNameExtension([
            ...server.dnsNames.map((value) => ({ type: 'dns' as const, value })),
            ...server.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
          ]),
          await x509.SubjectKeyIdentifierExtension.create(leafKeys.publicKey),
          await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey),
        ],
      });
      return { certPem: leaf.toString('pem'), keyPem: await exportKeyPem(leafKeys.privateKey) };
    },
  };
}

/** A self-signed certificate that is not a CA (basicConstraints cA=false), as a user might wrongly upload. */
export async function createSelfSignedLeaf(commonName: string, opts: PkiOptions = {}): Promise<IssuedCertificate> {
  const now = (opts.now ?? (() => new Date()))();
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: subjectName(commonName, opts.organization),
    keys,
    serialNumber: randomSerial(),
    notBefore: new Date(now.getTime() - HOUR_MS),
    notAfter: new Date(now.getTime() + (opts.validDays ?? 365) * DAY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [new x509.BasicConstraintsExtension(false, undefined, true)],
  });
  return { certPem: cert.toString('pem'), keyPem: await exportKeyPem(keys.privateKey) };
}

const KEY_USAGE_NAMES: ReadonlyArray<readonly [number, string]> = [
  [x509.KeyUsageFlags.digitalSignature, 'digitalSignature'],
  [x509.KeyUsageFlags.nonRepudiation, 'nonRepudiation'],
  [x509.KeyUsageFlags.keyEncipherment, 'keyEncipherment'],
  [x509.KeyUsageFlags.dataEncipherment, 'dataEncipherment'],
  [x509.KeyUsageFlags.keyAgreement, 'keyAgreement'],
  [x509.KeyUsageFlags.keyCertSign, 'keyCertSign'],
  [x509.KeyUsageFlags.cRLSign, 'cRLSign'],
];

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The certificate blocks of a PEM bundle, in order; text outside the blocks is ignored. */
export function splitPemCertificates(text: string): string[] {
  return text.match(PEM_BLOCK) ?? [];
}

/** Parses one PEM certificate; throws CertificateParseError for anything else. */
export function inspectCertificate(pem: string): CertificateInfo {
  const blocks = splitPemCertificates(pem);
  if (blocks.length !== 1) {
    throw new CertificateParseError(blocks.length === 0 ? 'no PEM certificate found' : `expected one certificate, found ${blocks.length}`);
  }
  const cert = parseNode(blocks[0] as string);
  const details = new x509.X509Certificate(cert.raw);
  const usage = details.getExtension(x509.KeyUsagesExtension)?.usages ?? 0;
  // Typed against the DOM's Algorithm, which this project's lib settings do not include.
  const sig = details.signatureAlgorithm as unknown as { name: string; hash: { name: string } };
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    isCA: cert.ca,
    serialNumber: cert.serialNumber,
    validFrom: new Date(cert.validFrom),
    validTo: new Date(cert.validTo),
    sha1Fingerprint: cert.fingerprint,
    sha256Fingerprint: cert.fingerprint256,
    subjectAltNames: cert.subjectAltName ? cert.subjectAltName.split(', ') : [],
    keyUsage: KEY_USAGE_NAMES.filter(([flag]) => (usage & flag) !== 0).map(([, name]) => name),
    extendedKeyUsage: cert.keyUsage ?? [],
    signatureAlgorithm: `${sig.hash.name.replace('-', '')}with${sig.name === 'ECDSA' ? 'ECDSA' : 'RSA'}`,
    pem: cert.toString(),
  };
}

/**
 * Whether `leafPem` chains to one of `rootPems` at time `at`: some root that is a CA, is valid
 * now, names the leaf's issuer and whose key verifies the leaf's signature. One level deep, which
 * is what VMCA-signed machine certificates need; intermediates in `rootPems` count as anchors.
 */
export function chainsTo(leafPem: string, rootPems: readonly string[], at: Date = new Date()): boolean {
  const leaf = parseNode(leafPem);
  if (!validAt(leaf, at)) return false;
  return rootPems.some((pem) => {
    let root: NodeX509;
    try {
      root = parseNode(pem);
    } catch {
      return false;
    }
    return root.ca && validAt(root, at) && leaf.checkIssued(root) && leaf.verify(root.publicKey);
  });
}

function validAt(cert: NodeX509, at: Date): boolean {
  return new Date(cert.validFrom) <= at && at <= new Date(cert.validTo);
}

function parseNode(pem: string): NodeX509 {
  try {
    const cert = new NodeX509(pem);
    // Touch the key so a certificate with an unparseable key fails here, not in a later check.
    createPublicKey(cert.publicKey.export({ type: 'spki', format: 'pem' }));
    return cert;
  } catch (err) {
    throw new CertificateParseError(`not a valid X.509 certificate: ${(err as Error).message}`);
  }
}

function subjectName(commonName: string, organization: string | undefined): x509.JsonName {
  return organization ? [{ CN: [commonName] }, { O: [organization] }] : [{ CN: [commonName] }];
}

function generateKeys(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
}

async function exportKeyPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/** 16 random bytes, high bit cleared so the DER INTEGER stays positive. */
function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return Buffer.from(bytes).toString('hex');
}
