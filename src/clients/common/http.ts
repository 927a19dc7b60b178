// One HTTP attempt, the way every cloud client sends it: through the connection's agent and
// in-flight limit, timed into the request metrics, logged without headers or bodies, and with
// transport failures turned into typed errors that hold no request data.
import axios, { AxiosError, type AxiosInstance } from 'axios';
import type http from 'node:http';
import type { Clock } from './clock.ts';
import { abortReason } from './clock.ts';
import { CloudNetworkError, TlsVerificationError, type ServiceKind } from './errors.ts';
import type { Priority, Semaphore } from './limits.ts';
import type { Logger } from './logger.ts';
import type { RequestMetrics } from './metrics.ts';
import type { SecretSet } from './secrets.ts';
import { isTlsVerificationCode } from './tls.ts';
import { redactUrl, urlUserinfoSecret } from './url.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  /** Stable name for metrics and errors, e.g. 'ipSpaces.allocate'. */
  operation: string;
  method: HttpMethod;
  /** A path on the connection's origin, or an absolute URL (only its path and query are used). */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  /** Objects are sent as JSON; strings as they are (set Content-Type yourself). */
  body?: unknown;
  signal?: AbortSignal;
  /** Overrides the connection's per-request timeout (e.g. to end at a task deadline). */
  timeoutMs?: number;
  /** Its place among requests waiting for a slot of the connection (ordinary by default). */
  priority?: Priority;
}

export interface HttpResponse {
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  raw: Buffer;
  /** Parsed JSON when the response says JSON (or looks like it), else the text. */
  data: unknown;
  /** When the request that got this answer left (clock ms), after any wait for a slot in flight. */
  sentAt: number;
}

export interface HttpCoreOptions {
  service: ServiceKind;
  baseUrl: string;
  agent: http.Agent;
  logger: Logger;
  metrics: RequestMetrics;
  limiter: Semaphore;
  secrets: SecretSet;
  clock: Clock;
  requestTimeoutMs: number;
}

// Codes that prove the request never reached the server, so even a non-idempotent write did not happen.
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export class HttpCore {
  readonly service: ServiceKind;
  readonly origin: string;
  readonly #opts: HttpCoreOptions;
  readonly #axios: AxiosInstance;

  constructor(opts: HttpCoreOptions) {
    this.#opts = opts;
    this.service = opts.service;
    // Credentials in the URL are never sent, shown or parsed into an error (which would quote it).
    opts.secrets.add(urlUserinfoSecret(opts.baseUrl));
    this.origin = new URL(redactUrl(opts.baseUrl)).origin;
    const isHttps = this.origin.startsWith('https:');
    this.#axios = axios.create({
      baseURL: this.origin,
      ...(isHttps ? { httpsAgent: opts.agent } : { httpAgent: opts.agent }),
      proxy: false,
      maxRedirects: 0,
      timeout: opts.requestTimeoutMs,
      responseType: 'arraybuffer',
      // Statuses are the caller's business; axios should only fail when no response came back.
      validateStatus: () => true,
      transformResponse: [(d: unknown) => d],
    });
  }

  /** Path and query of `path` relative to this origin, for following server-given links. */
  relative(path: string): string {
    if (!/^https?:\/\//i.test(path)) return path;
    const u = new URL(path);
    return `${u.pathname}${u.search}`;
  }

  async send(req: HttpRequest): Promise<HttpResponse> {
    const { logger, metrics, limiter, clock, service } = this.#opts;
    return limiter.run(async () => {
      const started = clock.now();
      const path = this.relative(req.path);
      const headers: Record<string, string> = { ...(req.headers ?? {}) };
      let data: unknown = req.body;
      if (req.body !== undefined && typeof req.body !== 'string') {
        data = JSON.stringify(req.body);
        headers['Content-Type'] ??= 'application/json';
      }
      try {
        const res = await this.#axios.request<ArrayBuffer>({
          method: req.method,
          url: path,
          params: cleanQuery(req.query),
          headers,
          data,
          signal: req.signal,
          ...(req.timeoutMs !== undefined ? { timeout: Math.max(1, Math.round(req.timeoutMs)) } : {}),
        });
        const seconds = (clock.now() - started) / 1000;
        metrics.observe(req.operation, res.status, seconds);
        logger.debug(
          { service, operation: req.operation, method: req.method, path: pathOnly(path), status: res.status, ms: Math.round(seconds * 1000) },
          'cloud request',
        );
        return toResponse(res.status, res.headers, res.data, started);
      } catch (err) {
        metrics.observe(req.operation, 'network_error', (clock.now() - started) / 1000);
        throw this.#networkError(req, err);
      }
    }, req.priority);
  }

  #networkError(req: HttpRequest, err: unknown): Error {
    if (req.signal?.aborted) return abortReason(req.signal);
    const code = errorCode(err);
    const detail = this.#opts.secrets.scrub(err instanceof Error ? err.message : String(err));
    this.#opts.logger.debug(
      { service: this.service, operation: req.operation, method: req.method, path: pathOnly(this.relative(req.path)), code },
      'cloud request failed without a response',
    );
    if (isTlsVerificationCode(code)) return new TlsVerificationError(this.service, req.operation, code, detail);
    return new CloudNetworkError(this.service, req.operation, code, detail, !NOT_SENT_CODES.has(code));
  }
}

function errorCode(err: unknown): string {
  if (err instanceof AxiosError) {
    const causeCode = (err.cause as { code?: unknown } | undefined)?.code;
    if (typeof causeCode === 'string') return causeCode;
    if (err.code) return err.code;
  }
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

function cleanQuery(query: HttpRequest['query']): Record<string, string> | undefined {
  if (!query) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(query)) if (v !== undefined) out[k] = String(v);
  return out;
}

function pathOnly(path: string): string {
  const q = path.indexOf('?');
  return q === -1 ? path : path.slice(0, q);
}

function toResponse(status: number, rawHeaders: Record<string, unknown>, body: ArrayBuffer | undefined, sentAt: number): HttpResponse {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(rawHeaders)) {
    if (v === undefined || v === null) continue;
    headers[k.toLowerCase()] = Array.isArray(v) ? v.map(String).join(', ') : typeof v === 'string' ? v : JSON.stringify(v);
  }
  const raw = body ? Buffer.from(body) : Buffer.alloc(0);
  return { status, headers, raw, data: parseBody(raw, headers['content-type']), sentAt };
}

function parseBody(raw: Buffer, contentType: string | undefined): unknown {
  if (raw.length === 0) return undefined;
  const type = (contentType ?? '').toLowerCase();
  if (type.includes('zip') || type.includes('octet-stream')) return raw;
  const text = raw.toString('utf8');
  if (type.includes('json') || /^\s*[[{"]/.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}
