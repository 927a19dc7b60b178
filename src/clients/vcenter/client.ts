// VCenterClient: a vSphere Automation session, the trusted-root-chains store, the machine TLS
// certificate and the roots in /certs/download.zip. Speaks /api (7.0 U2+) and falls back to the
// deprecated /rest family (bodies wrapped in {value} / {spec}) when /api is not there.
import type http from 'node:http';
import type { Registry } from 'prom-client';
import { systemClock, type Clock } from '../common/clock.ts';
import { CloudNetworkError, ClientClosedError, TlsVerificationError } from '../common/errors.ts';
import { HttpCore, type HttpMethod, type HttpResponse } from '../common/http.ts';
import { Semaphore } from '../common/limits.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import { RequestMetrics } from '../common/metrics.ts';
import { resolveRetry, withRetries, type RetryDecision, type RetryOptions, type RetryPolicy } from '../common/retry.ts';
import { SecretSet } from '../common/secrets.ts';
import { createAgent } from '../common/tls.ts';
import { X509Certificate } from 'node:crypto';
import { describeCertificate, sameCertificate, splitPem, type CertificateInfo } from './certificates.ts';
import { rootsFromDownloadZip } from './downloadZip.ts';
import { VCenterAlreadyExistsError, VCenterApiError, VCenterAuthError, VCenterNotFoundError, toVCenterApiError } from './errors.ts';

export type ApiFamily = 'api' | 'rest';

export interface VCenterConnectOptions {
  url: string;
  username: string;
  password: string;
  caPem?: string;
  insecureSkipVerify?: boolean;
  /** Force one URL family; by default /api is tried first and /rest used when /api answers 404. */
  apiFamily?: ApiFamily;
  logger?: Logger;
  /** Metrics are registered with the prefix vcenter_client_. */
  metrics?: Registry;
  /** The `connection` label of this client's metrics (the operator passes the connection key). */
  metricsConnection?: string;
  maxInFlight?: number;
  retry?: RetryOptions;
  requestTimeoutMs?: number;
  clock?: Clock;
  random?: () => number;
}

/** GET .../vcenter/tls: the machine SSL (leaf) certificate. */
export interface TlsInfo {
  cert: string;
  issuer_dn?: string;
  subject_dn?: string;
  serial_number?: string;
  thumbprint?: string;
  valid_from?: string;
  valid_to?: string;
  [field: string]: unknown;
}

const CERTS = '/vcenter/certificate-management/vcenter';
const SESSION_HEADER = 'vmware-api-session-id';
const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);

export class VCenterClient {
  readonly #core: HttpCore;
  readonly #agent: http.Agent;
  readonly #secrets: SecretSet;
  readonly #username: string;
  readonly #password: string;
  readonly #retry: RetryPolicy;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #logger: Logger;
  #family: ApiFamily | undefined;
  #session: string | undefined;
  #pendingLogin: Promise<string> | undefined;
  #closed = false;

  readonly trustedRootChains = {
    /** Ids of every trusted root chain (vCenter's own VMCA roots included). */
    list: async (): Promise<string[]> => {
      const items = (await this.#call('trustedRootChains.list', 'GET', `${CERTS}/trusted-root-chains`, true)) as { chain?: string }[] | undefined;
      return (items ?? []).map((i) => i.chain).filter((c): c is string => typeof c === 'string');
    },
    /** The PEM certificates of one chain. Throws VCenterNotFoundError. */
    get: async (chain: string): Promise<string[]> => {
      const body = (await this.#call('trustedRootChains.get', 'GET', `${CERTS}/trusted-root-chains/${encodeURIComponent(chain)}`, true)) as
        { cert_chain?: { cert_chain?: string[] } } | undefined;
      return body?.cert_chain?.cert_chain ?? [];
    },
    /**
     * Adds a chain (PEMs, root last) and returns its id. With `chain` the id is ours and the call
     * is safe to repeat (a repeat answers ALREADY_EXISTS, thrown as VCenterAlreadyExistsError).
     */
    create: async (certPems: string[], chain?: string): Promise<string> => {
      const spec = { cert_chain: { cert_chain: certPems }, ...(chain ? { chain } : {}) };
      const body = this.#family === 'rest' ? { spec } : spec;
      const id = await this.#call('trustedRootChains.create', 'POST', `${CERTS}/trusted-root-chains`, chain !== undefined, body);
      if (typeof id !== 'string')
        throw new VCenterApiError({
          operation: 'trustedRootChains.create',
          status: 200,
          errorType: undefined,
          serverMessage: 'the create answer held no chain id',
        });
      return id;
    },
    /** Resolves false when the chain was already gone. */
    delete: async (chain: string): Promise<boolean> => {
      try {
        await this.#call('trustedRootChains.delete', 'DELETE', `${CERTS}/trusted-root-chains/${encodeURIComponent(chain)}`, true);
        return true;
      } catch (err) {
        if (err instanceof VCenterNotFoundError) return false;
        throw err;
      }
    },
    /**
     * Makes chain `chain` hold exactly `certPems`: creates it when missing, replaces it when it
     * differs, and does nothing when it matches. Resolves with what it did.
     */
    ensure: async (chain: string, certPems: string[]): Promise<'created' | 'replaced' | 'unchanged'> => {
      const current = await this.trustedRootChains.get(chain).catch((err: unknown) => {
        if (err instanceof VCenterNotFoundError) return undefined;
        throw err;
      });
      if (current && samePems(current, certPems)) return 'unchanged';
      if (current) await this.trustedRootChains.delete(chain);
      try {
        await this.trustedRootChains.create(certPems, chain);
      } catch (err) {
        // A retried create whose first answer was lost: fine if what is there now is ours.
        if (!(err instanceof VCenterAlreadyExistsError) || !samePems(await this.trustedRootChains.get(chain), certPems)) throw err;
      }
      return current ? 'replaced' : 'created';
    },
  };

  private constructor(opts: VCenterConnectOptions) {
    this.#logger = opts.logger ?? silentLogger;
    this.#clock = opts.clock ?? systemClock;
    this.#random = opts.random ?? Math.random;
    this.#secrets = new SecretSet();
    this.#secrets.addBasic(opts.username, opts.password);
    this.#username = opts.username;
    this.#password = opts.password;
    this.#family = opts.apiFamily;
    const maxInFlight = opts.maxInFlight ?? 4;
    this.#agent = createAgent({
      url: opts.url,
      maxSockets: maxInFlight,
      logger: this.#logger,
      service: 'vcenter',
      ...(opts.caPem ? { caPem: opts.caPem } : {}),
      ...(opts.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
    });
    this.#core = new HttpCore({
      service: 'vcenter',
      baseUrl: opts.url,
      agent: this.#agent,
      logger: this.#logger,
      metrics: new RequestMetrics('vcenter_client_', opts.metrics, opts.metricsConnection),
      limiter: new Semaphore(maxInFlight),
      secrets: this.#secrets,
      clock: this.#clock,
      requestTimeoutMs: opts.requestTimeoutMs ?? 60_000,
    });
    this.#retry = resolveRetry(opts.retry);
  }

  /** Logs in (choosing /api or /rest) and returns a ready client. */
  static async connect(opts: VCenterConnectOptions): Promise<VCenterClient> {
    const client = new VCenterClient(opts);
    try {
      await client.#ensureSession();
      return client;
    } catch (err) {
      client.#agent.destroy();
      throw err;
    }
  }

  /** The URL family in use. */
  get apiFamily(): ApiFamily {
    return this.#family ?? 'api';
  }

  /** The machine SSL certificate vCenter serves (a leaf; its issuer is the VMCA root). */
  async tls(): Promise<TlsInfo> {
    return (await this.#call('tls.get', 'GET', `${CERTS}/tls`, true)) as TlsInfo;
  }

  /** The trusted roots published in /certs/download.zip (unauthenticated; verified over TLS). */
  async downloadRoots(): Promise<CertificateInfo[]> {
    const res = await withRetries(this.#retryContext('downloadZip', true), () => this.#send('downloadZip', 'GET', '/certs/download.zip', undefined));
    if (res.status !== 200) throw toVCenterApiError('downloadZip', res.status, res.data, (s) => this.#secrets.scrub(s));
    return rootsFromDownloadZip(res.raw);
  }

  /**
   * This vCenter's own VMCA root: the trusted root that issued its TLS certificate, found among the
   * trusted-root-chains by the leaf's issuer (and signature), else in download.zip.
   */
  async vmcaRoot(): Promise<CertificateInfo> {
    const leafPem = (await this.tls()).cert;
    const leaf = new X509Certificate(leafPem);
    const issuedLeaf = (pem: string): boolean => {
      const cert = new X509Certificate(pem);
      return sameDn(cert.subject, leaf.issuer) && leaf.checkIssued(cert) && leaf.verify(cert.publicKey);
    };
    for (const chain of await this.trustedRootChains.list()) {
      const pems = (await this.trustedRootChains.get(chain)).flatMap(splitPem);
      const root = pems.find(issuedLeaf);
      if (root) return describeCertificate(root);
    }
    const fromZip = (await this.downloadRoots()).find((r) => issuedLeaf(r.pem));
    if (!fromZip)
      throw new VCenterNotFoundError({
        operation: 'vmcaRoot',
        status: 404,
        errorType: 'NOT_FOUND',
        serverMessage: `no trusted root issued this vCenter's certificate (issuer ${leaf.issuer.replace(/\n/g, ', ')})`,
      });
    return fromZip;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const token = this.#session;
    this.#session = undefined;
    if (token) {
      const path = this.apiFamily === 'rest' ? '/rest/com/vmware/cis/session' : '/api/session';
      try {
        await this.#core.send({ operation: 'session.delete', method: 'DELETE', path, headers: { [SESSION_HEADER]: token, Accept: 'application/json' } });
      } catch (err) {
        this.#logger.warn({ service: 'vcenter', err: (err as Error).message }, 'vCenter logout failed; the session will expire on its own');
      }
      this.#secrets.remove(token);
    }
    this.#agent.destroy();
  }

  async #ensureSession(): Promise<string> {
    if (this.#session) return this.#session;
    this.#pendingLogin ??= this.#login().finally(() => (this.#pendingLogin = undefined));
    return this.#pendingLogin;
  }

  async #login(): Promise<string> {
    const basic = `Basic ${Buffer.from(`${this.#username}:${this.#password}`).toString('base64')}`;
    const attempt = async (family: ApiFamily): Promise<HttpResponse> =>
      withRetries(this.#retryContext('session.create', true), async () => {
        const res = await this.#core.send({
          operation: 'session.create',
          method: 'POST',
          path: family === 'api' ? '/api/session' : '/rest/com/vmware/cis/session',
          headers: { Authorization: basic, Accept: 'application/json', ...(family === 'rest' ? { 'vmware-use-header-authn': 'true' } : {}) },
        });
        if (RETRYABLE_STATUS.has(res.status)) throw toVCenterApiError('session.create', res.status, res.data, (s) => this.#secrets.scrub(s));
        return res;
      });
    let family: ApiFamily = this.#family ?? 'api';
    let res = await attempt(family);
    if (res.status === 404 && this.#family === undefined) {
      this.#logger.info({ service: 'vcenter' }, 'vCenter has no /api; using the deprecated /rest API');
      family = 'rest';
      res = await attempt(family);
    }
    if (res.status >= 300) {
      const err = toVCenterApiError('session.create', res.status, res.data, (s) => this.#secrets.scrub(s));
      if (res.status === 401 || res.status === 403)
        throw new VCenterAuthError({ operation: 'session.create', status: res.status, errorType: err.errorType, serverMessage: err.serverMessage });
      throw err;
    }
    const value = family === 'rest' ? (res.data as { value?: unknown } | undefined)?.value : res.data;
    if (typeof value !== 'string' || value === '')
      throw new VCenterAuthError({ operation: 'session.create', status: res.status, errorType: undefined, serverMessage: 'the session answer held no token' });
    this.#secrets.add(value);
    this.#family = family;
    this.#session = value;
    this.#logger.info({ service: 'vcenter', apiFamily: family }, 'vCenter session created');
    return value;
  }

  /** An authenticated call; unwraps /rest's {value}. Re-logs in once on 401. */
  async #call(operation: string, method: HttpMethod, path: string, idempotent: boolean, body?: unknown): Promise<unknown> {
    if (this.#closed) throw new ClientClosedError('vcenter', operation);
    return withRetries(this.#retryContext(operation, idempotent), async () => {
      let relogged = false;
      for (;;) {
        const token = await this.#ensureSession();
        const res = await this.#send(operation, method, `/${this.apiFamily}${path}`, body, token);
        if (res.status === 401 && !relogged) {
          relogged = true;
          if (this.#session === token) {
            this.#session = undefined;
            this.#secrets.remove(token);
          }
          continue;
        }
        if (res.status >= 200 && res.status < 300) {
          return this.apiFamily === 'rest' ? (res.data as { value?: unknown } | undefined)?.value : res.data;
        }
        throw toVCenterApiError(operation, res.status, res.data, (s) => this.#secrets.scrub(s));
      }
    });
  }

  #send(operation: string, method: HttpMethod, path: string, body: unknown, token?: string): Promise<HttpResponse> {
    return this.#core.send({
      operation,
      method,
      path,
      headers: { Accept: 'application/json', ...(token ? { [SESSION_HEADER]: token } : {}) },
      ...(body !== undefined ? { body } : {}),
    });
  }

  #retryContext(operation: string, idempotent: boolean): Parameters<typeof withRetries>[0] {
    return {
      policy: this.#retry,
      clock: this.#clock,
      random: this.#random,
      logger: this.#logger,
      service: 'vcenter',
      operation,
      classify: (err): RetryDecision | undefined => {
        if (err instanceof VCenterApiError && !(err instanceof VCenterAuthError) && RETRYABLE_STATUS.has(err.status) && (idempotent || err.status === 429)) {
          return { reason: `HTTP ${err.status}` };
        }
        if (err instanceof TlsVerificationError) return undefined;
        if (err instanceof CloudNetworkError && (idempotent || !err.outcomeUnknown)) return { reason: err.code };
        return undefined;
      },
    };
  }
}

/** DNs as Node prints them (one RDN per line) or as vCenter does ("CN=CA, O=x"), in any order. */
function sameDn(a: string, b: string): boolean {
  const norm = (dn: string): string =>
    dn
      .split(/\n|,\s*(?=[A-Za-z.]+=)/)
      .map((p) => p.trim())
      .filter(Boolean)
      .sort()
      .join(',');
  return norm(a) === norm(b);
}

function samePems(a: string[], b: string[]): boolean {
  const ca = a.flatMap(splitPem);
  const cb = b.flatMap(splitPem);
  return ca.length === cb.length && ca.every((pem, i) => sameCertificate(pem, cb[i] as string));
}
