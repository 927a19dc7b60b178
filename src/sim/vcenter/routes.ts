// The vCenter routes: sessions, trusted-root-chains and the tls leaf in both the /api and the
// deprecated /rest families (the latter wraps bodies as {"value": …} and POST bodies as
// {"spec": …}), and the unauthenticated /certs/download.zip with the trusted roots.
import type { SimClock } from '../core/core.ts';
import type { HttpMethod, Route, SimRequest, SimResponse } from '../core/types.ts';
import { inspectCertificate } from '../pki.ts';
import { VapiError, flavorOf, type Flavor } from './errors.ts';
import { opensslSubjectHash } from './subject-hash.ts';
import { SESSION_HEADER, type VCenterSessions } from './sessions.ts';
import type { TrustStore } from './trust-store.ts';
import { writeZip, type ZipEntry } from './zip.ts';

export const API_CERTS = '/api/vcenter/certificate-management/vcenter';
export const REST_CERTS = '/rest/vcenter/certificate-management/vcenter';

export interface RouteDeps {
  sessions: VCenterSessions;
  trust: TrustStore;
  clock: SimClock;
  /** The TLS certificate served now (it changes when the VMCA renews it). */
  tlsCertPem: () => string;
}

type Handler = (req: SimRequest) => SimResponse;

const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
};

export function buildRoutes(deps: RouteDeps): Route[] {
  /** Renders VapiErrors in the request's flavor; `authenticated` handlers need a session first. */
  const wrap =
    (authenticated: boolean, handler: Handler): Handler =>
    (req) => {
      try {
        if (authenticated) deps.sessions.require(req);
        return handler(req);
      } catch (err) {
        if (err instanceof VapiError) return err.toResponse(flavorOf(req.path));
        throw err;
      }
    };
  const route = (method: HttpMethod, pattern: string, handler: Handler, authenticated = true): Route => ({
    method,
    pattern,
    handler: wrap(authenticated, handler),
  });
  const now = (): Date => new Date(deps.clock.now());

  const routes: Route[] = [
    route('POST', '/api/session', (req) => json(201, deps.sessions.login(req)), false),
    route('GET', '/api/session', (req) => json(200, deps.sessions.require(req).info), false),
    route(
      'DELETE',
      '/api/session',
      (req) => {
        deps.sessions.logout(deps.sessions.require(req).token);
        return { status: 204 };
      },
      false,
    ),
    route(
      'POST',
      '/rest/com/vmware/cis/session',
      (req) => {
        if (req.query.get('~action') === 'get') return json(200, { value: deps.sessions.require(req).info });
        const token = deps.sessions.login(req);
        const res = json(200, { value: token });
        // Browsers get the cookie; API clients opt out of it with vmware-use-header-authn (CSRF protection).
        if (req.headers['vmware-use-header-authn'] === undefined) {
          res.headers = { ...res.headers, 'set-cookie': `${SESSION_HEADER}=${token}; Path=/rest; Secure; HttpOnly` };
        }
        return res;
      },
      false,
    ),
    route('GET', '/rest/com/vmware/cis/session', (req) => json(200, { value: deps.sessions.require(req).info }), false),
    route(
      'DELETE',
      '/rest/com/vmware/cis/session',
      (req) => {
        deps.sessions.logout(deps.sessions.require(req).token);
        return { status: 200 };
      },
      false,
    ),
    route('GET', '/certs/download.zip', () => downloadZip(deps, now()), false),
  ];

  for (const [flavor, base] of [
    ['api', API_CERTS],
    ['rest', REST_CERTS],
  ] as const) {
    const chains = `${base}/trusted-root-chains`;
    routes.push(
      route('GET', chains, () =>
        reply(
          flavor,
          200,
          deps.trust.list().map((c) => ({ chain: c.chain })),
        ),
      ),
      route('POST', chains, (req) => {
        const spec = (flavor === 'rest' ? field(req.body, 'spec') : req.body) ?? {};
        const id = deps.trust.create(field(field(spec, 'cert_chain'), 'cert_chain'), field(spec, 'chain'), now());
        return reply(flavor, flavor === 'api' ? 201 : 200, id);
      }),
      route('GET', `${chains}/{chain}`, (req) => reply(flavor, 200, { cert_chain: { cert_chain: deps.trust.get(req.params.chain ?? '').certPems } })),
      route('DELETE', `${chains}/{chain}`, (req) => {
        deps.trust.delete(req.params.chain ?? '');
        return { status: flavor === 'api' ? 204 : 200 };
      }),
      route('GET', `${base}/tls`, () => reply(flavor, 200, tlsInfo(deps.tlsCertPem()))),
    );
  }
  return routes;
}

function json(status: number, value: unknown): SimResponse {
  // A bare JSON string (the /api session token, a chain id) must still go out as JSON.
  return typeof value === 'string' ? { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) } : { status, body: value };
}

function reply(flavor: Flavor, status: number, value: unknown): SimResponse {
  return json(status, flavor === 'rest' ? { value } : value);
}

function field(obj: unknown, name: string): unknown {
  return obj !== null && typeof obj === 'object' && !Array.isArray(obj) ? (obj as Record<string, unknown>)[name] : undefined;
}

function tlsInfo(certPem: string): Record<string, unknown> {
  const info = inspectCertificate(certPem);
  const dn = (name: string): string => name.split('\n').join(', ');
  return {
    cert: info.pem,
    issuer_dn: dn(info.issuer),
    subject_dn: dn(info.subject),
    serial_number: info.serialNumber,
    thumbprint: info.sha1Fingerprint,
    valid_from: info.validFrom.toISOString(),
    valid_to: info.validTo.toISOString(),
    signature_algorithm: info.signatureAlgorithm,
    version: 3,
    key_usage: info.keyUsage,
    extended_key_usage: info.extendedKeyUsage.map((oid) => EKU_NAMES[oid] ?? oid),
    subject_alternative_name: info.subjectAltNames.map((san) => san.replace(/^(DNS|IP Address):/, '')),
    authority_information_access_uri: [],
    is_CA: info.isCA,
    path_length_constraint: -1,
  };
}

/**
 * The trusted roots as vCenter's download.zip lays them out: certs/lin/<hash>.<n>, certs/mac/…
 * and certs/win/<hash>.<n>.crt, where <hash> is OpenSSL's subject hash and roots sharing a
 * subject get .0, .1, … (so certs/lin works as an OpenSSL CApath).
 */
function downloadZip(deps: RouteDeps, now: Date): SimResponse {
  const entries: ZipEntry[] = [];
  const used = new Map<string, number>();
  for (const pem of deps.trust.allCertificates()) {
    const info = inspectCertificate(pem);
    const hash = opensslSubjectHash(info.pem);
    const n = used.get(hash) ?? 0;
    used.set(hash, n + 1);
    const data = Buffer.from(info.pem);
    entries.push({ name: `certs/lin/${hash}.${n}`, data }, { name: `certs/mac/${hash}.${n}`, data }, { name: `certs/win/${hash}.${n}.crt`, data });
  }
  return {
    status: 200,
    headers: { 'content-type': 'application/zip', 'content-disposition': 'attachment; filename="download.zip"' },
    body: writeZip(entries, now),
  };
}
