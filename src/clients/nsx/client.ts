// NsxClient: the NSX Policy API with Basic or session (+XSRF) auth, `_revision`-checked writes
// that re-read and retry on a stale revision, interface statistics, and read-modify-write helpers
// for tier-0 routing objects that keep what other writers (VCD, admins) put there.
import { isDeepStrictEqual } from 'node:util';
import type http from 'node:http';
import type { Registry } from 'prom-client';
import { systemClock, type Clock } from '../common/clock.ts';
import { parseRetryAfter } from '../common/backoff.ts';
import { CloudNetworkError, ClientClosedError, TlsVerificationError } from '../common/errors.ts';
import { HttpCore, type HttpMethod, type HttpResponse } from '../common/http.ts';
import { Semaphore } from '../common/limits.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import { RequestMetrics } from '../common/metrics.ts';
import { resolveRetry, withRetries, type RetryDecision, type RetryOptions, type RetryPolicy } from '../common/retry.ts';
import { SecretSet } from '../common/secrets.ts';
import { createAgent } from '../common/tls.ts';
import { NsxApiError, NsxAuthError, NsxConflictError, NsxNotFoundError, NsxStaleRevisionError, toNsxApiError } from './errors.ts';
import { mergeOwned } from './merge.ts';
import type {
  InterfaceStatistics,
  InterfaceStatisticsSummary,
  ListResult,
  LocaleServices,
  PolicyResource,
  PrefixEntry,
  PrefixList,
  RedistributionRule,
  RouteMap,
  RouteMapEntry,
} from './types.ts';

export const POLICY = '/policy/api/v1';

export interface NsxConnectOptions {
  url: string;
  username: string;
  password: string;
  /** 'session' (default) logs in once and sends JSESSIONID + X-XSRF-TOKEN; 'basic' sends Basic on every call. */
  authMode?: 'session' | 'basic';
  caPem?: string;
  insecureSkipVerify?: boolean;
  logger?: Logger;
  /** Metrics are registered with the prefix nsx_client_. */
  metrics?: Registry;
  /** The `connection` label of this client's metrics (the operator passes the connection key). */
  metricsConnection?: string;
  maxInFlight?: number;
  retry?: RetryOptions;
  /** Read-modify-write attempts before NsxConflictError (default 5). */
  maxRevisionAttempts?: number;
  requestTimeoutMs?: number;
  clock?: Clock;
  random?: () => number;
}

export interface OwnedEntries<T> {
  /** Our entries, in order. */
  desired: T[];
  /** True for entries this caller manages; all others are kept as they are. */
  owns: (entry: T) => boolean;
}

export interface StatisticsOptions {
  edgePath?: string;
  enforcementPointPath?: string;
  source?: 'realtime' | 'cached';
}

interface Session {
  cookie: string;
  xsrf: string;
}

// 500 included: NSX answers 500 with error_code 607 when it aborted a transaction, which can be repeated.
const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
// Retry-After rides on the error under a symbol: out of its fields and its JSON.
const RETRY_AFTER = Symbol('retryAfterMs');

export class NsxClient {
  readonly #core: HttpCore;
  readonly #agent: http.Agent;
  readonly #secrets: SecretSet;
  readonly #o: Required<Pick<NsxConnectOptions, 'username' | 'password' | 'authMode' | 'maxRevisionAttempts'>>;
  readonly #retry: RetryPolicy;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #logger: Logger;
  #session: Session | undefined;
  #pendingLogin: Promise<Session> | undefined;
  #closed = false;

  private constructor(opts: NsxConnectOptions) {
    this.#logger = opts.logger ?? silentLogger;
    this.#clock = opts.clock ?? systemClock;
    this.#random = opts.random ?? Math.random;
    this.#secrets = new SecretSet();
    this.#secrets.addBasic(opts.username, opts.password);
    const maxInFlight = opts.maxInFlight ?? 8;
    this.#agent = createAgent({
      url: opts.url,
      maxSockets: maxInFlight,
      logger: this.#logger,
      service: 'nsx',
      ...(opts.caPem ? { caPem: opts.caPem } : {}),
      ...(opts.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
    });
    this.#core = new HttpCore({
      service: 'nsx',
      baseUrl: opts.url,
      agent: this.#agent,
      logger: this.#logger,
      metrics: new RequestMetrics('nsx_client_', opts.metrics, opts.metricsConnection),
      limiter: new Semaphore(maxInFlight),
      secrets: this.#secrets,
      clock: this.#clock,
      requestTimeoutMs: opts.requestTimeoutMs ?? 60_000,
    });
    this.#retry = resolveRetry(opts.retry);
    this.#o = { username: opts.username, password: opts.password, authMode: opts.authMode ?? 'session', maxRevisionAttempts: opts.maxRevisionAttempts ?? 5 };
  }

  /** Builds the client and proves the credentials (creates the session, or reads /infra with Basic). */
  static async connect(opts: NsxConnectOptions): Promise<NsxClient> {
    const client = new NsxClient(opts);
    try {
      if (client.#o.authMode === 'session') await client.#ensureSession();
      else await client.get(`${POLICY}/infra/tier-0s`, 'connect');
      return client;
    } catch (err) {
      client.#agent.destroy();
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const s = this.#session;
    this.#session = undefined;
    if (s) {
      try {
        await this.#core.send({
          operation: 'session.destroy',
          method: 'POST',
          path: '/api/session/destroy',
          headers: { Cookie: s.cookie, 'X-XSRF-TOKEN': s.xsrf, Accept: 'application/json' },
        });
      } catch (err) {
        this.#logger.warn({ service: 'nsx', err: (err as Error).message }, 'NSX session destroy failed; it will time out on its own');
      }
    }
    this.#agent.destroy();
  }

  /** GET one object by policy path (with or without the /policy/api/v1 prefix). */
  async get<T extends PolicyResource>(path: string, operation = 'get'): Promise<T> {
    return (await this.#call(operation, 'GET', path)).data as T;
  }

  /** GET, or undefined on 404. */
  async find<T extends PolicyResource>(path: string, operation = 'get'): Promise<T | undefined> {
    try {
      return await this.get<T>(path, operation);
    } catch (err) {
      if (err instanceof NsxNotFoundError) return undefined;
      throw err;
    }
  }

  /** Every object of a collection, following the cursor. */
  async list<T extends PolicyResource>(path: string, operation = 'list'): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | undefined;
    for (let guard = 0; guard < 10_000; guard++) {
      const res = await this.#call(operation, 'GET', path, undefined, cursor ? { cursor } : undefined);
      const page = (res.data ?? {}) as ListResult<T>;
      out.push(...(page.results ?? []));
      if (!page.cursor || page.cursor === cursor || (page.result_count !== undefined && out.length >= page.result_count)) break;
      cursor = page.cursor;
    }
    return out;
  }

  /** PUT the whole object; it must carry the current `_revision` when it exists. */
  async put<T extends PolicyResource>(path: string, body: T, operation = 'put'): Promise<T> {
    return (await this.#call(operation, 'PUT', path, body)).data as T;
  }

  /** PATCH (create or merge); `_revision`, when given, is checked by NSX. */
  async patch(path: string, body: PolicyResource, operation = 'patch'): Promise<void> {
    await this.#call(operation, 'PATCH', path, body);
  }

  /** DELETE; NSX treats deleting a missing object as success. */
  async delete(path: string, operation = 'delete'): Promise<void> {
    await this.#call(operation, 'DELETE', path);
  }

  /**
   * Read-modify-write under `_revision`: reads the object (undefined when absent), applies
   * `mutate`, and PUTs the result with the revision it read. A stale revision re-reads and
   * re-applies. `mutate` returning undefined, or an unchanged object, writes nothing.
   * Resolves with the stored object and whether a write happened.
   */
  async update<T extends PolicyResource>(
    path: string,
    mutate: (current: T | undefined) => T | undefined,
    operation = 'update',
  ): Promise<{ object: T | undefined; changed: boolean }> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.find<T>(path, `${operation}.read`);
      const next = mutate(current === undefined ? undefined : structuredClone(current));
      if (next === undefined || (current !== undefined && isDeepStrictEqual(next, current))) return { object: current, changed: false };
      const body: T = { ...next };
      if (current?._revision !== undefined) body._revision = current._revision;
      else delete body._revision;
      try {
        return { object: await this.put<T>(path, body, operation), changed: true };
      } catch (err) {
        if (!(err instanceof NsxStaleRevisionError)) throw err;
        if (attempt >= this.#o.maxRevisionAttempts) throw new NsxConflictError(operation, path, attempt);
        this.#logger.info({ service: 'nsx', operation, path: stripPrefix(path), attempt }, 'NSX object changed under us; reading it again');
      }
    }
  }

  /** Per-edge-node counters of a gateway interface (policy path of the interface). */
  async interfaceStatistics(interfacePath: string, opts: StatisticsOptions = {}): Promise<InterfaceStatistics> {
    return (await this.#call('interfaceStatistics', 'GET', `${stripPrefix(interfacePath)}/statistics`, undefined, statsQuery(opts)))
      .data as InterfaceStatistics;
  }

  /** Per-edge-node counters of a Tier-0's end of its link to one Tier-1 (a shared Tier-0's downlink to a tenant). */
  async tier1LinkStatistics(tier0Path: string, tier1Path: string, opts: StatisticsOptions = {}): Promise<InterfaceStatistics> {
    const query = { ...statsQuery(opts), tier1_path: tier1Path };
    return (await this.#call('tier1LinkStatistics', 'GET', `${stripPrefix(tier0Path)}/tier-1-interface/statistics`, undefined, query))
      .data as InterfaceStatistics;
  }

  /** The interface's counters aggregated over its edge nodes. */
  async interfaceStatisticsSummary(interfacePath: string, opts: Pick<StatisticsOptions, 'enforcementPointPath'> = {}): Promise<InterfaceStatisticsSummary> {
    return (await this.#call('interfaceStatisticsSummary', 'GET', `${stripPrefix(interfacePath)}/statistics/summary`, undefined, statsQuery(opts)))
      .data as InterfaceStatisticsSummary;
  }

  /**
   * Makes our entries of a tier-0 prefix list equal `desired`, keeping other entries in order
   * (ours go before a trailing ANY entry). Creates the list when missing; deletes it when nothing
   * would be left.
   */
  async reconcilePrefixList(
    tier0Id: string,
    listId: string,
    entries: OwnedEntries<PrefixEntry>,
  ): Promise<{ object: PrefixList | undefined; changed: boolean }> {
    const path = `/infra/tier-0s/${enc(tier0Id)}/prefix-lists/${enc(listId)}`;
    return this.#reconcileList<PrefixList, PrefixEntry>(path, 'prefixLists.reconcile', 'PrefixList', listId, 'prefixes', entries, (e) => e.network === 'ANY');
  }

  /** Same for a tier-0 route map's entries (e.g. ours are those matching our prefix list). */
  async reconcileRouteMap(tier0Id: string, mapId: string, entries: OwnedEntries<RouteMapEntry>): Promise<{ object: RouteMap | undefined; changed: boolean }> {
    const path = `/infra/tier-0s/${enc(tier0Id)}/route-maps/${enc(mapId)}`;
    return this.#reconcileList<RouteMap, RouteMapEntry>(path, 'routeMaps.reconcile', 'Tier0RouteMap', mapId, 'entries', entries, () => false);
  }

  /**
   * Makes our redistribution rules on a tier-0 locale service equal `desired`, keeping the rules
   * others own (VCD's among them) and the rest of the locale service as it is.
   */
  async reconcileRedistribution(
    tier0Id: string,
    localeServiceId: string,
    rules: OwnedEntries<RedistributionRule>,
  ): Promise<{ object: LocaleServices | undefined; changed: boolean }> {
    const path = `/infra/tier-0s/${enc(tier0Id)}/locale-services/${enc(localeServiceId)}`;
    return this.update<LocaleServices>(
      path,
      (current) => {
        if (!current)
          throw new NsxNotFoundError({
            operation: 'redistribution.reconcile',
            status: 404,
            errorCode: undefined,
            moduleName: undefined,
            serverMessage: `no locale service at ${path}`,
          });
        const config = current.route_redistribution_config ?? {};
        const merged = mergeOwned(config.redistribution_rules ?? [], rules.desired, rules.owns);
        return { ...current, route_redistribution_config: { ...config, redistribution_rules: merged } };
      },
      'redistribution.reconcile',
    );
  }

  async #reconcileList<T extends PolicyResource, E>(
    path: string,
    operation: string,
    resourceType: string,
    id: string,
    field: string,
    entries: OwnedEntries<E>,
    isCatchAll: (e: E) => boolean,
  ): Promise<{ object: T | undefined; changed: boolean }> {
    let emptied = false;
    // update() re-reads on a stale revision, so the merge is redone against what others just wrote.
    const result = await this.update<T>(
      path,
      (now) => {
        const merged = mergeOwned((now?.[field] as E[] | undefined) ?? [], entries.desired, entries.owns, isCatchAll);
        emptied = merged.length === 0;
        if (emptied) return undefined;
        const base = now ?? ({ id, display_name: id, resource_type: resourceType } as PolicyResource);
        return { ...base, [field]: merged } as T;
      },
      operation,
    );
    if (emptied && result.object) {
      await this.delete(path, `${operation}.delete`);
      return { object: undefined, changed: true };
    }
    return result;
  }

  async #ensureSession(): Promise<Session> {
    if (this.#session) return this.#session;
    this.#pendingLogin ??= this.#login().finally(() => (this.#pendingLogin = undefined));
    return this.#pendingLogin;
  }

  async #login(): Promise<Session> {
    const res = await withRetries(this.#retryContext('session.create'), () =>
      this.#core
        .send({
          operation: 'session.create',
          method: 'POST',
          path: '/api/session/create',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
          body: new URLSearchParams({ j_username: this.#o.username, j_password: this.#o.password }).toString(),
        })
        .then((r) => (RETRYABLE_STATUS.has(r.status) ? Promise.reject(this.#apiError('session.create', r)) : r)),
    );
    const jsession = /JSESSIONID=([^;,\s]+)/.exec(res.headers['set-cookie'] ?? '')?.[1];
    const xsrf = res.headers['x-xsrf-token'];
    if (res.status >= 300 || !jsession || !xsrf) {
      const err = this.#apiError('session.create', res);
      throw new NsxAuthError({
        operation: 'session.create',
        status: res.status,
        errorCode: err.errorCode,
        moduleName: err.moduleName,
        serverMessage: res.status >= 300 ? err.serverMessage : 'the session response lacked JSESSIONID or X-XSRF-TOKEN',
      });
    }
    this.#secrets.add(jsession);
    this.#secrets.add(xsrf);
    const session = { cookie: `JSESSIONID=${jsession}`, xsrf };
    this.#session = session;
    this.#logger.info({ service: 'nsx' }, 'NSX session created');
    return session;
  }

  async #call(operation: string, method: HttpMethod, path: string, body?: unknown, query?: Record<string, string | undefined>): Promise<HttpResponse> {
    if (this.#closed) throw new ClientClosedError('nsx', operation);
    const full = path.startsWith(POLICY) || path.startsWith('/api/') ? path : `${POLICY}${path}`;
    return withRetries(this.#retryContext(operation), async () => {
      let rebuilt = false;
      for (;;) {
        const headers: Record<string, string> = { Accept: 'application/json' };
        let session: Session | undefined;
        if (this.#o.authMode === 'session') {
          session = await this.#ensureSession();
          headers['Cookie'] = session.cookie;
          headers['X-XSRF-TOKEN'] = session.xsrf;
        } else {
          headers['Authorization'] = `Basic ${Buffer.from(`${this.#o.username}:${this.#o.password}`).toString('base64')}`;
        }
        const res = await this.#core.send({ operation, method, path: full, headers, ...(body !== undefined ? { body } : {}), ...(query ? { query } : {}) });
        if (res.status >= 200 && res.status < 300) return res;
        const err = this.#apiError(operation, res);
        // 401, or 403 with 98 (bad XSRF) / 403 (bad or expired session): build a new session once.
        const authFailure = res.status === 401 || (res.status === 403 && (err.errorCode === 98 || err.errorCode === 403));
        if (authFailure && session && !rebuilt) {
          rebuilt = true;
          if (this.#session === session) this.#session = undefined;
          this.#logger.info({ service: 'nsx', operation }, 'NSX session rejected; creating a new one');
          continue;
        }
        if (authFailure)
          throw new NsxAuthError({ operation, status: res.status, errorCode: err.errorCode, moduleName: err.moduleName, serverMessage: err.serverMessage });
        throw Object.assign(err, { [RETRY_AFTER]: parseRetryAfter(res.headers['retry-after'], this.#clock.now()) });
      }
    });
  }

  #apiError(operation: string, res: HttpResponse): NsxApiError {
    return toNsxApiError(operation, res.status, res.data, (s) => this.#secrets.scrub(s));
  }

  // Every NSX operation this client sends is safe to repeat: reads, PATCH merges, deletes, and
  // PUTs that quote a revision (a repeat of a committed PUT gets 412 and is re-read by update()).
  #retryContext(operation: string): Parameters<typeof withRetries>[0] {
    return {
      policy: this.#retry,
      clock: this.#clock,
      random: this.#random,
      logger: this.#logger,
      service: 'nsx',
      operation,
      classify: (err): RetryDecision | undefined => {
        if (err instanceof NsxApiError && !(err instanceof NsxAuthError) && RETRYABLE_STATUS.has(err.status)) {
          const retryAfterMs = (err as { [RETRY_AFTER]?: number })[RETRY_AFTER];
          return { reason: `HTTP ${err.status}`, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
        }
        if (err instanceof TlsVerificationError) return undefined;
        if (err instanceof CloudNetworkError) return { reason: err.code };
        return undefined;
      },
    };
  }
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

function stripPrefix(path: string): string {
  return path.startsWith(POLICY) ? path.slice(POLICY.length) : path;
}

function statsQuery(opts: StatisticsOptions): Record<string, string | undefined> {
  return { edge_path: opts.edgePath, enforcement_point_path: opts.enforcementPointPath, source: opts.source };
}
