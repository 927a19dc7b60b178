// Everything between a VcdClient method and the wire: auth (re-login on 401), the negotiated
// version in Accept, tenant-context headers, retries of operations that are safe to repeat,
// error mapping, task waiting and paging.
import type { HttpCore, HttpMethod, HttpResponse } from '../common/http.ts';
import type { Clock } from '../common/clock.ts';
import type { Logger } from '../common/logger.ts';
import type { SecretSet } from '../common/secrets.ts';
import type { Priority } from '../common/limits.ts';
import { CloudNetworkError, ClientClosedError, TlsVerificationError } from '../common/errors.ts';
import { parseRetryAfter, type BackoffPolicy } from '../common/backoff.ts';
import { withRetries, type RetryDecision, type RetryPolicy } from '../common/retry.ts';
import { VcdApiError, VcdAuthError, VcdBusyError } from './errors.ts';
import { toVcdApiError } from './errorMapping.ts';
import { MAX_PAGE_SIZE, nextPage, type PageEnvelope } from './paging.ts';
import { parseTask, TaskDurations, waitForTask, type VcdTask } from './task.ts';
import type { VcdSession } from './session.ts';

/** A provider acting inside an org: VCD wants the org's bare UUID and its name. */
export interface TenantContext {
  orgId: string;
  orgName: string;
}

export interface VcdRequest {
  operation: string;
  method: HttpMethod;
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /**
   * True when repeating the request cannot do harm: reads, PUTs of a whole object, deletes of a
   * known id. Only these are retried after 5xx or a lost response. Every request is retried after
   * a re-login on 401, on 429 and on BUSY_ENTITY, which say the request was not carried out.
   */
  idempotent: boolean;
  tenant?: TenantContext | undefined;
  accept?: string;
  signal?: AbortSignal | undefined;
  /** Absolute time (clock ms) by which the call must be done: bounds each attempt and the retries. */
  deadline?: number | undefined;
  /** False: a BUSY_ENTITY answer is thrown at once, for a caller that knows what to wait for. */
  retryBusy?: boolean;
  /** 'urgent' for a write something waits on (an allocate its IP Space is idle for): it goes before queued reads and marks. */
  priority?: Priority;
}

export interface TaskOptions {
  /** Overall deadline for the task, overriding the connection's default. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Called once VCD accepted the request with a task. `whenDue` calls back with when this task is
   * due to end (clock ms) as soon as that is known: at once, or when the first task of the
   * operation has ended; never after `signal` aborts.
   */
  onAccepted?: (whenDue: (signal: AbortSignal, then: (dueAt: number) => void) => void) => void;
}

export interface TransportOptions {
  core: HttpCore;
  session: VcdSession;
  secrets: SecretSet;
  clock: Clock;
  random: () => number;
  logger: Logger;
  retry: RetryPolicy;
  /** Retries of BUSY_ENTITY: the entity is busy for as long as another task runs on it. */
  busyRetry: RetryPolicy;
  taskPoll: BackoffPolicy;
  taskTimeoutMs: number;
  requestTimeoutMs: number;
}

const RETRYABLE_5XX = new Set([500, 502, 503, 504]);

// Retry-After rides on the error under a symbol: out of its fields and its JSON, read only by the retry loop.
const RETRY_AFTER = Symbol('retryAfterMs');

export class VcdTransport {
  apiVersion = '';
  readonly #o: TransportOptions;
  readonly #durations = new TaskDurations();
  #closed = false;

  constructor(o: TransportOptions) {
    this.#o = o;
  }

  get session(): VcdSession {
    return this.#o.session;
  }

  get clock(): Clock {
    return this.#o.clock;
  }

  close(): void {
    this.#closed = true;
  }

  /** How soon to look again at a task of this operation that was due and is still running (TaskDurations.recheckMs). */
  taskRecheckMs(operation: string): number | undefined {
    return this.#durations.recheckMs(operation);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends with auth and retries; resolves with a 2xx response or throws a typed error. */
  async call(req: VcdRequest): Promise<HttpResponse> {
    if (this.#closed) throw new ClientClosedError('vcd', req.operation);
    return withRetries(
      {
        policy: this.#o.retry,
        clock: this.#o.clock,
        random: this.#o.random,
        logger: this.#o.logger,
        service: 'vcd',
        operation: req.operation,
        signal: req.signal,
        deadline: req.deadline,
        classify: (err) => this.#classify(err, req.idempotent, req.retryBusy ?? true),
      },
      () => this.#authenticated(req),
    );
  }

  /** Like call(), and when the server answers 202 waits for the task and returns it. */
  async callAndWait(req: VcdRequest, opts: TaskOptions = {}): Promise<{ response: HttpResponse; task: VcdTask | undefined }> {
    const response = await this.call({ ...req, signal: opts.signal ?? req.signal });
    if (response.status !== 202) return { response, task: undefined };
    const location = response.headers['location'];
    if (!location)
      throw new VcdApiError({
        operation: req.operation,
        status: 202,
        minorErrorCode: undefined,
        serverMessage: 'accepted without a task Location',
        requestId: response.headers['x-vmware-vcloud-request-id'],
      });
    // VCD started the task about when the request that made it left (not when it was queued).
    opts.onAccepted?.((signal, then) => this.#durations.whenDue(req.operation, response.sentAt, signal, then));
    const task = await this.waitForTask(req.operation, location, req.tenant, { startedAt: response.sentAt, ...opts });
    return { response, task };
  }

  async waitForTask(operation: string, href: string, tenant: TenantContext | undefined, opts: TaskOptions & { startedAt?: number } = {}): Promise<VcdTask> {
    const path = this.#o.core.relative(href);
    return waitForTask({
      operation,
      href,
      clock: this.#o.clock,
      random: this.#o.random,
      poll: this.#o.taskPoll,
      timeoutMs: opts.timeoutMs ?? this.#o.taskTimeoutMs,
      durations: this.#durations,
      ...(opts.startedAt !== undefined ? { startedAt: opts.startedAt } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      fetch: async (signal, deadline) => {
        const res = await this.call({
          operation: 'task.get',
          method: 'GET',
          path,
          idempotent: true,
          tenant,
          accept: `application/*+xml;version=${this.apiVersion}`,
          signal,
          deadline,
        });
        return parseTask(res.data, href);
      },
    });
  }

  /** Asks VCD to cancel a task (POST {task}/action/cancel); the task then ends aborted. */
  async cancelTask(href: string, tenant: TenantContext | undefined): Promise<void> {
    await this.call({
      operation: 'task.cancel',
      method: 'POST',
      path: `${this.#o.core.relative(href)}/action/cancel`,
      idempotent: true,
      tenant,
      accept: `application/*+xml;version=${this.apiVersion}`,
    });
  }

  /** Path and query of a server-given link, relative to this connection's origin. */
  relative(href: string): string {
    return this.#o.core.relative(href);
  }

  async getJson<T>(req: Omit<VcdRequest, 'method' | 'idempotent'>): Promise<T> {
    const res = await this.call({ ...req, method: 'GET', idempotent: true });
    return res.data as T;
  }

  /** Every item of a paged list, pageSize 128, following nextPage links or the page count. */
  async listAll<T>(req: Omit<VcdRequest, 'method' | 'idempotent'>): Promise<T[]> {
    const out: T[] = [];
    let page = 1;
    let path = req.path;
    let query: VcdRequest['query'] = { ...req.query, page, pageSize: MAX_PAGE_SIZE };
    // A server that keeps pointing forward must not keep us here forever.
    for (let guard = 0; guard < 10_000; guard++) {
      const res = await this.call({ ...req, path, query, method: 'GET', idempotent: true });
      const env = (res.data ?? {}) as PageEnvelope<T>;
      out.push(...(env.values ?? []));
      const next = nextPage(env, res.headers['link'], { page, pageSize: MAX_PAGE_SIZE });
      if (!next) return out;
      if (next.kind === 'link') {
        path = this.#o.core.relative(next.href);
        query = undefined;
        page = Number(new URL(next.href, 'https://x').searchParams.get('page') ?? page + 1);
      } else {
        page = next.page;
        path = req.path;
        query = { ...req.query, page, pageSize: MAX_PAGE_SIZE };
      }
    }
    return out;
  }

  async #authenticated(req: VcdRequest): Promise<HttpResponse> {
    let relogged = false;
    for (;;) {
      const token = await this.#o.session.token();
      const headers: Record<string, string> = {
        Accept: req.accept ?? `application/json;version=${this.apiVersion}`,
        Authorization: `Bearer ${token}`,
      };
      if (req.tenant) {
        headers['X-VMWARE-VCLOUD-TENANT-CONTEXT'] = req.tenant.orgId;
        headers['X-VMWARE-VCLOUD-AUTH-CONTEXT'] = req.tenant.orgName;
      }
      const res = await this.#o.core.send({
        operation: req.operation,
        method: req.method,
        path: req.path,
        headers,
        ...(req.query ? { query: req.query } : {}),
        ...(req.body !== undefined ? { body: req.body } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
        ...(req.deadline !== undefined ? { timeoutMs: Math.min(this.#o.requestTimeoutMs, req.deadline - this.#o.clock.now()) } : {}),
        ...(req.priority ? { priority: req.priority } : {}),
      });
      if (res.status === 401) {
        // A 401 means the request was not carried out, so even a non-idempotent one may be resent.
        this.#o.session.invalidate(token);
        if (!relogged) {
          relogged = true;
          this.#o.logger.info({ service: 'vcd', operation: req.operation }, 'VCD rejected the token; logging in again');
          continue;
        }
        const err = toVcdApiError(req.operation, res, (s) => this.#o.secrets.scrub(s));
        throw new VcdAuthError(req.operation, 401, err.serverMessage, err.requestId);
      }
      if (res.status >= 200 && res.status < 300) return res;
      throw Object.assign(
        toVcdApiError(req.operation, res, (s) => this.#o.secrets.scrub(s)),
        {
          [RETRY_AFTER]: parseRetryAfter(res.headers['retry-after'], this.#o.clock.now()),
        },
      );
    }
  }

  #classify(err: unknown, idempotent: boolean, retryBusy: boolean): RetryDecision | undefined {
    if (err instanceof VcdBusyError) return retryBusy ? { reason: 'BUSY_ENTITY', policy: this.#o.busyRetry } : undefined;
    if (err instanceof VcdApiError) {
      const retryAfterMs = (err as { [RETRY_AFTER]?: number })[RETRY_AFTER];
      const extra = retryAfterMs !== undefined ? { retryAfterMs } : {};
      if (err.status === 429) return { reason: 'HTTP 429', ...extra };
      if (idempotent && RETRYABLE_5XX.has(err.status)) return { reason: `HTTP ${err.status}`, ...extra };
      return undefined;
    }
    if (err instanceof TlsVerificationError) return undefined;
    if (err instanceof CloudNetworkError && (idempotent || !err.outcomeUnknown)) return { reason: err.code };
    return undefined;
  }
}
