// VcdClient: one connection to a VCD endpoint as one org (or as provider, org 'System'), with
// the API groups controllers use. Transport concerns live below this file; this one wires them.
import type http from 'node:http';
import type { Registry } from 'prom-client';
import { systemClock, type Clock } from '../common/clock.ts';
import { type BackoffPolicy } from '../common/backoff.ts';
import { HttpCore } from '../common/http.ts';
import { KeyedMutex, Semaphore } from '../common/limits.ts';
import { silentLogger, type Logger } from '../common/logger.ts';
import { RequestMetrics } from '../common/metrics.ts';
import { resolveRetry, withRetries, type RetryOptions } from '../common/retry.ts';
import { SecretSet } from '../common/secrets.ts';
import { createAgent } from '../common/tls.ts';
import { redactUrl } from '../common/url.ts';
import { CloudNetworkError, TlsVerificationError } from '../common/errors.ts';
import type { VcdContext } from './context.ts';
import { ApplicationPortProfilesApi, EdgeGatewaysApi, FirewallApi, FirewallGroupsApi, OrgVdcNetworksApi } from './edgeGateways.ts';
import { VcdApiError, VcdNotFoundError } from './errors.ts';
import { toVcdApiError } from './errorMapping.ts';
import { IpSpacesApi } from './ipSpaces.ts';
import { ExternalNetworksApi, OrgsApi } from './inventory.ts';
import { TasksApi, type TaskRecordView } from './taskQuery.ts';
import { StaticRoutesApi } from './staticRoutes.ts';
import { VcdSession, type VcdAuth } from './session.ts';
import type { MessageBusAccess } from './message-bus.ts';
import { VcdTransport, type TaskOptions, type TenantContext } from './transport.ts';
import type { VcdTask } from './task.ts';
import { negotiateVersion, parseSupportedVersions, productVersionFor } from './versions.ts';

export interface VcdConnectOptions {
  /** https://vcd.example.com (any path is ignored). */
  url: string;
  /** The org to log in to; 'System' for a provider connection. */
  org: string;
  auth: VcdAuth;
  /** PEM CA bundle to verify the server with; the system roots when absent. */
  caPem?: string;
  /** Turns TLS verification off. Logged as a warning. Never use it outside a lab. */
  insecureSkipVerify?: boolean;
  /** Use exactly this API version (the server must offer it) instead of negotiating. */
  apiVersion?: string;
  logger?: Logger;
  /** Metrics are registered here with the prefix vcd_client_; a private registry otherwise. */
  metrics?: Registry;
  /** The `connection` label of this client's metrics (the operator passes the connection key). */
  metricsConnection?: string;
  /** Requests in flight at once on this connection (default 8). */
  maxInFlight?: number;
  /** Retries of safe operations (default 5 attempts, 200 ms doubling to 10 s, half jitter). */
  retry?: RetryOptions;
  /**
   * Retries after BUSY_ENTITY, which waits for another task on the same edge or IP Space to end
   * (default 10 attempts, 500 ms doubling to 15 s, half jitter: about a minute in all).
   */
  busyRetry?: RetryOptions;
  /** Task polling intervals (default 100 ms growing 1.5x to 3 s, with jitter). */
  taskPoll?: Partial<BackoffPolicy>;
  /** Overall deadline for one task (default 10 minutes). */
  taskTimeoutMs?: number;
  /** Deadline of a single HTTP request (default 60 s). */
  requestTimeoutMs?: number;
  clock?: Clock;
  random?: () => number;
}

const DEFAULT_BUSY_RETRY = { maxAttempts: 10, backoff: { initialDelayMs: 500, maxDelayMs: 15_000, multiplier: 2, jitter: 0.5 } };
// Task reads: until a task of an operation has ended its duration is unknown, and the first second
// of such a task is read every 50 ms (waitForTask), then growing by 1.3; later tasks of the
// operation are read first when they are due (TaskDurations), then from a twentieth of that.
const DEFAULT_TASK_POLL: BackoffPolicy = { initialDelayMs: 50, maxDelayMs: 3000, multiplier: 1.3, jitter: 0.2 };

/** Shared by a connection and its forOrg views. */
interface Connection {
  transport: VcdTransport;
  locks: KeyedMutex;
  agent: http.Agent;
  metrics: RequestMetrics;
  logger: Logger;
  serverHighest: string | undefined;
  orgIds: Map<string, Promise<string>>;
  endpoint: { url: string; caPem?: string; insecureSkipVerify?: boolean };
}

export class VcdClient {
  readonly org: string;
  readonly ipSpaces: IpSpacesApi;
  readonly edgeGateways: EdgeGatewaysApi;
  readonly firewall: FirewallApi;
  readonly staticRoutes: StaticRoutesApi;
  readonly firewallGroups: FirewallGroupsApi;
  readonly applicationPortProfiles: ApplicationPortProfilesApi;
  readonly orgVdcNetworks: OrgVdcNetworksApi;
  readonly orgs: OrgsApi;
  readonly externalNetworks: ExternalNetworksApi;
  /**
   * Tasks by href, e.g. the taskHref of a VcdTaskTimeoutError: wait for it again (it resolves with
   * the finished task, whose owner / resultContent hold the outcome) or cancel it.
   */
  readonly tasks: {
    wait(href: string, opts?: TaskOptions): Promise<VcdTask>;
    cancel(href: string): Promise<void>;
    /** Task records of one operation on one object since a time (the query service). */
    recent(o: { name: string; objectId: string; since: Date }): Promise<TaskRecordView[]>;
  };
  readonly #conn: Connection;
  readonly #tenant: (() => Promise<TenantContext>) | undefined;

  private constructor(conn: Connection, org: string, tenant: (() => Promise<TenantContext>) | undefined) {
    this.#conn = conn;
    this.org = org;
    this.#tenant = tenant;
    const ctx: VcdContext = { transport: conn.transport, locks: conn.locks, tenant: async () => (this.#tenant ? this.#tenant() : undefined) };
    this.ipSpaces = new IpSpacesApi(ctx);
    this.edgeGateways = new EdgeGatewaysApi(ctx);
    this.firewall = new FirewallApi(ctx);
    this.staticRoutes = new StaticRoutesApi(ctx);
    this.firewallGroups = new FirewallGroupsApi(ctx);
    this.applicationPortProfiles = new ApplicationPortProfilesApi(ctx);
    this.orgVdcNetworks = new OrgVdcNetworksApi(ctx);
    this.orgs = new OrgsApi(ctx);
    this.externalNetworks = new ExternalNetworksApi(ctx);
    const query = new TasksApi(ctx);
    this.tasks = {
      wait: async (href, opts) => conn.transport.waitForTask('task.wait', href, await ctx.tenant(), opts),
      cancel: async (href) => conn.transport.cancelTask(href, await ctx.tenant()),
      recent: (o) => query.recent(o),
    };
  }

  /**
   * Negotiates the API version, logs in and returns a ready client. Throws
   * UnsupportedApiVersionError, VcdAuthError, TlsVerificationError or CloudNetworkError.
   */
  static async connect(opts: VcdConnectOptions): Promise<VcdClient> {
    const logger = opts.logger ?? silentLogger;
    const clock = opts.clock ?? systemClock;
    const random = opts.random ?? Math.random;
    const maxInFlight = opts.maxInFlight ?? 8;
    const secrets = new SecretSet();
    const metrics = new RequestMetrics('vcd_client_', opts.metrics, opts.metricsConnection);
    const agent = createAgent({
      url: opts.url,
      maxSockets: maxInFlight,
      logger,
      service: 'vcd',
      ...(opts.caPem ? { caPem: opts.caPem } : {}),
      ...(opts.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
    });
    const requestTimeoutMs = opts.requestTimeoutMs ?? 60_000;
    const core = new HttpCore({
      service: 'vcd',
      baseUrl: opts.url,
      agent,
      logger,
      metrics,
      limiter: new Semaphore(maxInFlight),
      secrets,
      clock,
      requestTimeoutMs,
    });
    const retry = resolveRetry(opts.retry);
    // The session reads the negotiated version lazily, when it first logs in.
    const session: VcdSession = new VcdSession({ core, org: opts.org, auth: opts.auth, secrets, clock, logger, apiVersion: () => transport.apiVersion });
    const transport = new VcdTransport({
      core,
      session,
      secrets,
      clock,
      random,
      logger,
      retry,
      busyRetry: resolveRetry(opts.busyRetry, DEFAULT_BUSY_RETRY),
      taskPoll: { ...DEFAULT_TASK_POLL, ...opts.taskPoll },
      taskTimeoutMs: opts.taskTimeoutMs ?? 600_000,
      requestTimeoutMs,
    });
    // An API token is exchanged for a session without naming an API version, so the exchange runs
    // beside the version negotiation: the first call after start-up waits one round trip less.
    // (A password login sends the version and waits for it.)
    const early = 'apiToken' in opts.auth ? session.token() : undefined;
    early?.catch(() => undefined); // its failure is the one awaited below
    try {
      const versions = await withRetries(
        {
          policy: retry,
          clock,
          random,
          logger,
          service: 'vcd',
          operation: 'versions.get',
          classify: (err) =>
            err instanceof CloudNetworkError && !(err instanceof TlsVerificationError)
              ? { reason: err.code }
              : err instanceof VcdApiError && (err.status >= 500 || err.status === 429)
                ? { reason: `HTTP ${err.status}` }
                : undefined,
        },
        async () => {
          const res = await core.send({ operation: 'versions.get', method: 'GET', path: '/api/versions', headers: { Accept: 'application/*+xml' } });
          if (res.status !== 200) throw toVcdApiError('versions.get', res, (s) => secrets.scrub(s));
          return parseSupportedVersions(res.data);
        },
      );
      const negotiated = negotiateVersion(versions, opts.apiVersion);
      transport.apiVersion = negotiated.apiVersion;
      await session.token();
      logger.info(
        { service: 'vcd', host: new URL(redactUrl(opts.url)).host, org: opts.org, apiVersion: negotiated.apiVersion, serverHighest: negotiated.serverHighest },
        'connected to VCD',
      );
      const endpoint = {
        url: new URL(opts.url).origin,
        ...(opts.caPem ? { caPem: opts.caPem } : {}),
        ...(opts.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
      };
      return new VcdClient(
        { transport, locks: new KeyedMutex(), agent, metrics, logger, serverHighest: negotiated.serverHighest, orgIds: new Map(), endpoint },
        opts.org,
        undefined,
      );
    } catch (err) {
      // A session opened beside a negotiation that failed is closed again when it can be named.
      if (early && transport.apiVersion) await early.then(() => session.logout()).catch(() => undefined);
      agent.destroy();
      throw err;
    }
  }

  /** The API version every request is sent with. */
  get apiVersion(): string {
    return this.#conn.transport.apiVersion;
  }

  /** The VCD release implied by the newest API version the server offers, e.g. '10.4.2'. */
  get vcdVersion(): string | undefined {
    return productVersionFor(this.#conn.serverHighest);
  }

  get isProvider(): boolean {
    return this.#conn.transport.session.isProvider;
  }

  /** The registry holding this connection's vcd_client_* metrics. */
  get metricsRegistry(): Registry {
    return this.#conn.metrics.registry;
  }

  /**
   * A view of this provider connection that acts inside `org` (tenant-context headers on every
   * request). Pass { name, id } to skip the lookup of the org's id. Shares session, locks and
   * limits with this client; closing the view does nothing.
   */
  forOrg(org: string | { name: string; id: string }): VcdClient {
    const name = typeof org === 'string' ? org : org.name;
    const known = typeof org === 'string' ? undefined : org.id;
    const resolve = async (): Promise<TenantContext> => {
      const id = known ?? (await this.#orgId(name));
      return { orgName: name, orgId: bareUuid(id) };
    };
    return new VcdClient(this.#conn, name, resolve);
  }

  /** What a message-bus subscription needs: the endpoint, its TLS settings and this session's token. */
  messageBusAccess(): MessageBusAccess {
    const session = this.#conn.transport.session;
    const transport = this.#conn.transport;
    let who: Promise<{ orgId: string; userId: string; provider: boolean }> | undefined;
    return {
      ...this.#conn.endpoint,
      token: () => session.token(),
      renew: (stale) => session.invalidate(stale),
      whoAmI: () => {
        who ??= transport
          .getJson<{ org?: { id?: string }; user?: { id?: string } }>({ operation: 'sessions.current', path: '/cloudapi/1.0.0/sessions/current' })
          .then((s) => ({
            orgId: s.org?.id ?? '',
            userId: s.user?.id ?? '',
            provider: session.isProvider,
          }));
        who.catch(() => (who = undefined));
        return who;
      },
    };
  }

  /** Logs out and closes the connection's sockets. Views (forOrg) leave the connection open. */
  async close(): Promise<void> {
    if (this.#tenant || this.#conn.transport.closed) return;
    this.#conn.transport.close();
    await this.#conn.transport.session.logout();
    this.#conn.agent.destroy();
  }

  #orgId(name: string): Promise<string> {
    let p = this.#conn.orgIds.get(name);
    if (!p) {
      p = this.orgs.findByName(name).then((org) => {
        if (!org)
          throw new VcdNotFoundError({
            operation: 'orgs.findByName',
            status: 404,
            minorErrorCode: undefined,
            serverMessage: `no organization named ${name}`,
            requestId: undefined,
          });
        return org.id;
      });
      p.catch(() => this.#conn.orgIds.delete(name));
      this.#conn.orgIds.set(name, p);
    }
    return p;
  }
}

/** VCD wants the bare UUID in the tenant-context header, not the URN (10.2 answers 401 to a URN). */
export function bareUuid(idOrUrn: string): string {
  const i = idOrUrn.lastIndexOf(':');
  return i === -1 ? idOrUrn : idOrUrn.slice(i + 1);
}
