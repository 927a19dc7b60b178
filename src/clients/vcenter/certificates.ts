// Certificate helpers for trust management: split PEM bundles, compare certificates by DER, and
// compute the fingerprints vCenter shows (SHA-1 "thumbprint") and we key chain ids on (SHA-256).
import { X509Certificate, createHash } from 'node:crypto';

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The certificates of a PEM bundle, each re-emitted in canonical PEM form. */
export function splitPem(bundle: string): string[] {
  return (bundle.match(PEM_BLOCK) ?? []).map((block) => new X509Certificate(block).toString());
}

export function pemToDer(pem: string): Buffer {
  return new X509Certificate(pem).raw;
}

export interface Fingerprints {
  /** Upper-case hex with colons, as vCenter and OpenSSL print it. */
  sha1: string;
  sha256: string;
}

export function fingerprints(pem: string): Fingerprints {
  const der = pemToDer(pem);
  return { sha1: colonHex(createHash('sha1').update(der).digest('hex')), sha256: colonHex(createHash('sha256').update(der).digest('hex')) };
}

/** True when both PEMs hold the same certificate (whitespace and line breaks do not matter). */
export function sameCertificate(a: string, b: string): boolean {
  return pemToDer(a).equals(pemToDer(b));
}

export interface CertificateInfo {
  pem: string;
  subject: string;
  issuer: string;
  isCA: boolean;
  notBefore: Date;
  notAfter: Date;
  fingerprints: Fingerprints;
}

export function describeCertificate(pem: string): CertificateInfo {
  const cert = new X509Certificate(pem);
  return {
    pem: cert.toString(),
    subject: cert.subject,
    issuer: cert.issuer,
    isCA: cert.ca,
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    fingerprints: fingerprints(pem),
  };
}

function colonHex(hex: string): string {
  return (hex.toUpperCase().match(/../g) ?? []).join(':');
}
