// A vCenter's trusted root certificate chains (VECS TRUSTED_ROOTS behind the
// certificate-management API, reference B2). Only CA certificates are accepted, as vCenter does;
// ids are the SHA-1 thumbprint of the chain's first certificate (the aliases VECS generates look
// like that). Adding an identical chain without an id returns the existing id rather than a
// duplicate; an explicit id that is taken is ALREADY_EXISTS.
import { CertificateParseError, inspectCertificate, splitPemCertificates } from '../pki.ts';
import { VapiError } from './errors.ts';

export interface TrustedChain {
  chain: string;
  /** Canonical PEMs, first (usually the root) first. */
  certPems: string[];
}

export class TrustStore {
  #chains = new Map<string, TrustedChain>();

  list(): TrustedChain[] {
    return [...this.#chains.values()].map((c) => ({ chain: c.chain, certPems: [...c.certPems] }));
  }

  get(chain: string): TrustedChain {
    const found = this.#chains.get(chain);
    if (!found) throw notFound(chain);
    return { chain: found.chain, certPems: [...found.certPems] };
  }

  /** Validates the chain as vCenter does and stores it; returns its id. */
  create(certChain: unknown, requestedId: unknown, now: Date): string {
    if (!isStringList(certChain) || certChain.length === 0) {
      throw new VapiError('INVALID_ARGUMENT', 'vapi.bindings.typeconverter.invalid', 'cert_chain.cert_chain must be a non-empty list of PEM strings.');
    }
    if (requestedId !== undefined && (typeof requestedId !== 'string' || requestedId === '' || requestedId.includes('/'))) {
      throw new VapiError('INVALID_ARGUMENT', 'vapi.bindings.typeconverter.invalid', 'chain must be a non-empty string without "/".');
    }
    const certPems: string[] = [];
    for (const element of certChain) {
      const blocks = splitPemCertificates(element);
      if (blocks.length === 0) throw invalidCertificate('no PEM certificate found');
      for (const block of blocks) {
        let info;
        try {
          info = inspectCertificate(block);
        } catch (err) {
          if (err instanceof CertificateParseError) throw invalidCertificate(err.message);
          throw err;
        }
        const subject = info.subject.split('\n').join(', ');
        if (!info.isCA) {
          throw new VapiError(
            'ERROR',
            'com.vmware.certificatemanagement.error',
            `create trusted root chain failed : Certificate bearing subject ${subject} is not a valid CA certificate`,
          );
        }
        if (info.validTo < now || info.validFrom > now) {
          throw new VapiError(
            'ERROR',
            'com.vmware.certificatemanagement.error',
            `create trusted root chain failed : Certificate bearing subject ${subject} is not valid at this time`,
          );
        }
        certPems.push(info.pem);
      }
    }
    if (typeof requestedId === 'string') {
      if (this.#chains.has(requestedId)) {
        throw new VapiError('ALREADY_EXISTS', 'com.vmware.certificatemanagement.already.exists', `A trusted root chain with id ${requestedId} already exists.`);
      }
      this.#chains.set(requestedId, { chain: requestedId, certPems });
      return requestedId;
    }
    const same = [...this.#chains.values()].find((c) => c.certPems.join('') === certPems.join(''));
    if (same) return same.chain;
    const base = inspectCertificate(certPems[0] as string)
      .sha1Fingerprint.replaceAll(':', '')
      .toLowerCase();
    let id = base;
    // Same first certificate, different rest of chain: a distinct entry needs a distinct id.
    for (let n = 1; this.#chains.has(id); n++) id = `${base}-${n}`;
    this.#chains.set(id, { chain: id, certPems });
    return id;
  }

  delete(chain: string): void {
    if (!this.#chains.delete(chain)) throw notFound(chain);
  }

  clear(): void {
    this.#chains.clear();
  }

  /** Every trusted certificate, across chains. */
  allCertificates(): string[] {
    return [...this.#chains.values()].flatMap((c) => c.certPems);
  }
}

function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

function notFound(chain: string): VapiError {
  return new VapiError('NOT_FOUND', 'com.vmware.certificatemanagement.not.found', `Trusted root chain ${chain} was not found.`);
}

function invalidCertificate(reason: string): VapiError {
  return new VapiError('INVALID_ARGUMENT', 'com.vmware.certificatemanagement.invalid.certificate', `Invalid certificate: ${reason}.`);
}
