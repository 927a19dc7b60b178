// A simulated vCenter's certificate side: its own VMCA, the HTTPS leaf that VMCA signs, sessions,
// the trusted-root-chains store and /certs/download.zip. Several run at once (one HTTPS listener
// each, started by the simulator with `tls`); checkTrust answers what a cross-vCenter vMotion
// needs: does the source vCenter trust the destination's certificate chain, or would it fail with
// SSLVerifyFault (reference B5)?
import type { SimClock } from '../core/core.ts';
import type { Route, SimRequest, SimResponse } from '../core/types.ts';
import { chainsTo, createCA, inspectCertificate, type CertificateAuthority, type IssuedCertificate } from '../pki.ts';
import { flavorOf, vapiError, type VapiErrorType } from './errors.ts';
import { API_CERTS, REST_CERTS, buildRoutes } from './routes.ts';
import { VCenterSessions } from './sessions.ts';
import { TrustStore, type TrustedChain } from './trust-store.ts';

export { API_CERTS, REST_CERTS, type TrustedChain };

export interface VCenterServiceOptions {
  /** Instance name, also the TLS leaf's common name and a DNS SAN when it is a valid hostname. */
  name: string;
  username: string;
  password: string;
  clock?: SimClock;
  /** Idle session lifetime; 30 minutes by default. */
  sessionIdleTimeoutMs?: number;
}

export interface VCenterState {
  name: string;
  vmca: { subject: string; sha1: string };
  tls: { subject: string; issuer: string; sha1: string };
  trustedRoots: Array<{ chain: string; subjects: string[]; sha1: string[] }>;
  /** How many sessions are open (never their tokens). */
  sessions: number;
}

/** The steps of a VMCA renewal, as an admin runs them on a real vCenter. */
export type VmcaRotationStep =
  /** A new VMCA root (same subject, new key) joins this vCenter's trusted roots; the old one still signs what is served. */
  | 'renew'
  /** The machine TLS certificate is re-issued by the newest VMCA root and served from now on. */
  | 'switch'
  /** Earlier VMCA roots are removed from this vCenter's own trusted roots. */
  | 'retire';

export interface VCenterService {
  name: string;
  /** The newest VMCA (it signs the next TLS certificate). */
  readonly vmca: CertificateAuthority;
  /** The HTTPS certificate served now, signed by one of this vCenter's VMCA roots. */
  readonly tls: IssuedCertificate;
  /** Every VMCA root this vCenter has had, oldest first. */
  readonly vmcaRoots: string[];
  /** One step of a VMCA renewal; returns the newest VMCA root. */
  rotateVmca: (step: VmcaRotationStep) => Promise<string>;
  /** Told when the served certificate changes (the listener swaps its TLS context). */
  onTlsChange?: (tls: IssuedCertificate) => void;
  routes: Route[];
  notFound: (req: SimRequest) => SimResponse;
  faultBody: (status: number, req: SimRequest) => unknown;
  /** Whether this vCenter trusts `other`'s TLS chain now (needed to migrate VMs to it). */
  trusts: (other: Pick<VCenterService, 'tls'>) => boolean;
  trustedRoots: () => TrustedChain[];
  /** Adds a root as the API would (same checks); for fixtures and demos. Returns the chain id. */
  addTrustedRoot: (certPem: string, chain?: string) => string;
  state: () => VCenterState;
  /** Back to the initial trust store (its own VMCA root only) and no sessions. */
  reset: () => void;
}

export type TrustCheck =
  | { trusted: true }
  | {
      trusted: false;
      /** What vCenter raises for a cross-vCenter relocate/clone to an untrusted destination. */
      fault: 'SSLVerifyFault';
      /** The destination certificate's SHA-1 thumbprint, which the fault reports. */
      thumbprint: string;
    };

/** The admin check: would a cross-vCenter vMotion from `source` to `destination` pass TLS verification? */
export function checkTrust(source: VCenterService, destination: Pick<VCenterService, 'tls'>): TrustCheck {
  if (source.trusts(destination)) return { trusted: true };
  return { trusted: false, fault: 'SSLVerifyFault', thumbprint: inspectCertificate(destination.tls.certPem).sha1Fingerprint };
}

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

export async function createVCenterService(opts: VCenterServiceOptions): Promise<VCenterService> {
  const clock: SimClock = opts.clock ?? { now: () => Date.now() };
  const now = (): Date => new Date(clock.now());
  // Like a real VMCA: every vCenter's root is "CN=CA", told apart by the organization.
  const issueTls = (ca: CertificateAuthority): Promise<IssuedCertificate> =>
    ca.issueServer({
      commonName: opts.name,
      dnsNames: HOSTNAME.test(opts.name) && opts.name !== 'localhost' ? ['localhost', opts.name] : ['localhost'],
      ipAddresses: ['127.0.0.1'],
    });
  const firstVmca = await createCA('CA', { organization: opts.name, now });
  const firstTls = await issueTls(firstVmca);
  let vmcas: CertificateAuthority[] = [firstVmca];
  let tls = firstTls;
  const sessions = new VCenterSessions({
    username: opts.username,
    password: opts.password,
    clock,
    idleTimeoutMs: opts.sessionIdleTimeoutMs ?? 30 * 60_000,
  });
  const trust = new TrustStore();
  const seed = (): void => {
    trust.clear();
    trust.create([firstVmca.certPem], undefined, now());
  };
  seed();
  const newest = (): CertificateAuthority => vmcas[vmcas.length - 1] as CertificateAuthority;
  const setTls = (next: IssuedCertificate): void => {
    tls = next;
    service.onTlsChange?.(next);
  };

  const service: VCenterService = {
    name: opts.name,
    get vmca() {
      return newest();
    },
    get tls() {
      return tls;
    },
    get vmcaRoots() {
      return vmcas.map((v) => v.certPem);
    },
    rotateVmca: async (step) => {
      if (step === 'renew') {
        const next = await createCA('CA', { organization: opts.name, now });
        vmcas = [...vmcas, next];
        trust.create([next.certPem], undefined, now());
      } else if (step === 'switch') {
        setTls(await issueTls(newest()));
      } else {
        const keep = inspectCertificate(newest().certPem).sha256Fingerprint;
        for (const c of trust.list()) {
          const retired = c.certPems.some((p) =>
            vmcas.some((v) => v.certPem !== newest().certPem && inspectCertificate(v.certPem).sha256Fingerprint === inspectCertificate(p).sha256Fingerprint),
          );
          if (retired && !c.certPems.some((p) => inspectCertificate(p).sha256Fingerprint === keep)) trust.delete(c.chain);
        }
      }
      return newest().certPem;
    },
    routes: buildRoutes({ sessions, trust, clock, tlsCertPem: () => tls.certPem }),
    notFound: (req) => vapiError(flavorOf(req.path), 'NOT_FOUND', 'vapi.method.input.invalid.path', `No operation at ${req.path}.`),
    faultBody: (status, req) => vapiError(flavorOf(req.path), errorTypeFor(status), 'vapi.fault.injected', `Injected fault: HTTP ${status}.`).body,
    trusts: (other) => chainsTo(other.tls.certPem, trust.allCertificates(), now()),
    trustedRoots: () => trust.list(),
    addTrustedRoot: (certPem, chain) => trust.create([certPem], chain, now()),
    state: () => ({
      name: opts.name,
      vmca: { subject: inspectCertificate(newest().certPem).subject, sha1: inspectCertificate(newest().certPem).sha1Fingerprint },
      tls: (({ subject, issuer, sha1Fingerprint }) => ({ subject, issuer, sha1: sha1Fingerprint }))(inspectCertificate(tls.certPem)),
      trustedRoots: trust.list().map((c) => {
        const infos = c.certPems.map((p) => inspectCertificate(p));
        return { chain: c.chain, subjects: infos.map((i) => i.subject), sha1: infos.map((i) => i.sha1Fingerprint) };
      }),
      sessions: sessions.count,
    }),
    reset: () => {
      vmcas = [firstVmca];
      if (tls !== firstTls) setTls(firstTls);
      seed();
      sessions.clear();
    },
  };
  return service;
}

function errorTypeFor(status: number): VapiErrorType {
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'UNAUTHORIZED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 503) return 'SERVICE_UNAVAILABLE';
  return 'ERROR';
}
