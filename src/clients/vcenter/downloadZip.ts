// vCenter's /certs/download.zip: the trusted roots as certs/lin/<hash>.<n> PEM files (CRLs are
// <hash>.r<n>; mac/ and win/ hold copies). Roots are taken from lin/ only, deduplicated by DER.
import { unzipSync } from 'fflate';
import { describeCertificate, splitPem, type CertificateInfo } from './certificates.ts';
import { VCenterError } from './errors.ts';

const LIN_CERT = /(^|\/)certs\/lin\/[^/]+\.\d+$/;

export function rootsFromDownloadZip(zip: Uint8Array): CertificateInfo[] {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip, { filter: (f) => LIN_CERT.test(f.name) });
  } catch (err) {
    throw new VCenterError('downloadZip', `certs/download.zip is not a readable zip archive: ${(err as Error).message}`);
  }
  const seen = new Set<string>();
  const out: CertificateInfo[] = [];
  for (const name of Object.keys(files).sort()) {
    const data = files[name];
    if (!data) continue;
    for (const pem of splitPem(Buffer.from(data).toString('utf8'))) {
      const info = describeCertificate(pem);
      if (seen.has(info.fingerprints.sha256)) continue;
      seen.add(info.fingerprints.sha256);
      out.push(info);
    }
  }
  return out;
}
