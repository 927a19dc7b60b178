// Certificate facts the trust planner works on: fingerprints, key identifiers, the chain id the
// operator gives a root it adds, which trusted root issued a vCenter's TLS certificate, and the
// checks extra roots must pass before anything is written.
// reflect-metadata must load before @peculiar/x509: its dependency container needs the polyfill.
import 'reflect-metadata';
import { X509Certificate, createHash } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/** One root certificate as the planner sees it. */
export interface Root {
  /** Canonical PEM. */
  pem: string;
  /** SHA-256 of the DER, lower-case hex without separators: the identity roots are compared by. */
  sha256: string;
  /** Subject DN, normalised (RDNs sorted, one comma-separated line). */
  subject: string;
  /** Subject key identifier (hex), when the certificate has one. */
  ski?: string;
  isCA: boolean;
  notBefore: Date;
  notAfter: Date;
}

/** Prefix of every chain id the operator creates; chains without it are never touched. */
export const CHAIN_PREFIX = 'vcd-operator-';
// `vcd-operator-<cluster tag>-<root>`; releases before the tag wrote `vcd-operator-<root>`.
const OPERATOR_CHAIN = /^vcd-operator-(?:[0-9a-f]{8}-)?[0-9a-f]{16}$/;

/**
 * The short tag of a cluster identity (the kube-system namespace's UID) that chain ids carry, so
 * that operators of two clusters meshing the same vCenter each prune only the chains they added.
 */
export function clusterTagOf(clusterId: string): string {
  return createHash('sha256').update(clusterId).digest('hex').slice(0, 8);
}

/** The chain id this cluster gives a root it adds: stable across restarts, so a retry never makes a second copy. */
export function chainIdOf(clusterTag: string, sha256: string): string {
  return `${CHAIN_PREFIX}${clusterTag}-${sha256.slice(0, 16)}`;
}

/** A chain some operator added (this cluster's, another's, or an untagged one from an earlier release): a peer's root, never the member's own. */
export function isOperatorChain(id: string): boolean {
  return OPERATOR_CHAIN.test(id);
}

/**
 * A chain this cluster added: the only ones it removes. An untagged chain of an earlier release
 * cannot tell which cluster added it, so it is left in place (it still counts as holding its root).
 */
export function isOwnChain(id: string, clusterTag: string): boolean {
  return isOperatorChain(id) && id.startsWith(`${CHAIN_PREFIX}${clusterTag}-`);
}

/** Upper-case, colon-separated, as vCenter and OpenSSL print fingerprints. */
export function displayFingerprint(sha256: string): string {
  return (sha256.toUpperCase().match(/../g) ?? []).join(':');
}

/** Short form for messages: the first 8 bytes. */
export function shortFingerprint(sha256: string): string {
  return displayFingerprint(sha256.slice(0, 16));
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

export function pemBlocks(text: string): string[] {
  return text.match(PEM_BLOCK) ?? [];
}

/** Parses one PEM certificate; throws with a readable message when it is not one. */
export function parseRoot(pem: string): Root {
  const cert = new X509Certificate(pem);
  const ski = new x509.X509Certificate(cert.raw).getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  return {
    pem: cert.toString(),
    sha256: createHash('sha256').update(cert.raw).digest('hex'),
    subject: normaliseDn(cert.subject),
    ...(ski ? { ski: ski.toLowerCase() } : {}),
    isCA: cert.ca,
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
  };
}

/** DNs as Node prints them (one RDN per line) or as vCenter does ("CN=CA, O=x"), compared in any order. */
export function normaliseDn(dn: string): string {
  return dn
    .split(/\n|,\s*(?=[A-Za-z.0-9]+=)/)
    .map((p) => p.trim())
    .filter(Boolean)
    .sort()
    .join(', ');
}

/** What identifies the issuer of a TLS leaf: its issuer DN and authority key identifier. */
export interface IssuerRef {
  subject: string;
  aki?: string;
  /** The leaf itself, to verify its signature against a candidate. */
  leafPem: string;
}

export function issuerRefOf(leafPem: string): IssuerRef {
  const leaf = new X509Certificate(leafPem);
  const aki = new x509.X509Certificate(leaf.raw).getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
  return { subject: normaliseDn(leaf.issuer), ...(aki ? { aki: aki.toLowerCase() } : {}), leafPem: leaf.toString() };
}

/**
 * Whether `root` issued the leaf: same subject as the leaf's issuer, the same key identifier when
 * both carry one, and its key verifies the leaf's signature (so two roots that share a subject, as
 * an old and a renewed VMCA do, are told apart).
 */
export function issued(root: Root, issuer: IssuerRef): boolean {
  if (!root.isCA || root.subject !== issuer.subject) return false;
  if (root.ski && issuer.aki && root.ski !== issuer.aki) return false;
  try {
    return new X509Certificate(issuer.leafPem).verify(new X509Certificate(root.pem).publicKey);
  } catch {
    return false;
  }
}

export interface RootProblem {
  index: number;
  message: string;
}

/**
 * Parses a PEM bundle of roots every member must trust. Any block that is not a well-formed,
 * currently valid CA certificate is a problem; the caller writes nothing while there is one.
 */
export function checkRoots(bundle: string, now: Date): { roots: Root[]; problems: RootProblem[] } {
  const roots: Root[] = [];
  const problems: RootProblem[] = [];
  const blocks = pemBlocks(bundle);
  if (blocks.length === 0) problems.push({ index: 0, message: 'holds no PEM certificate' });
  blocks.forEach((block, index) => {
    let root: Root;
    try {
      root = parseRoot(block);
    } catch (err) {
      problems.push({ index, message: `is not a well-formed certificate (${(err as Error).message})` });
      return;
    }
    if (!root.isCA)
      problems.push({
        index,
        message: `(${root.subject}) is not a CA certificate (basicConstraints CA:FALSE); vCenter accepts only CA certificates as trusted roots`,
      });
    else if (root.notAfter < now || root.notBefore > now)
      problems.push({ index, message: `(${root.subject}) is not valid now (valid ${root.notBefore.toISOString()} to ${root.notAfter.toISOString()})` });
    else if (!roots.some((r) => r.sha256 === root.sha256)) roots.push(root);
  });
  return { roots, problems };
}
