// The one HTTP path to the Kubernetes API for the runtime: JSON requests and line-delimited
// watch streams, authenticated from a KubeConfig. Our own transport (rather than client-node's
// Watch) so the informer controls timeouts, sees HTTP status codes and can count every request.
import http from 'node:http';
import https from 'node:https';
import { createInterface } from 'node:readline';
import type { KubeAuth, KubeRequestOptions } from './kubeconfig.ts';
import { KubeApiError } from './errors.ts';
import { Semaphore, type Priority as RequestPriority } from '../clients/common/limits.ts';

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

const patchContentType: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface RequestInfo {
  method: string;
  path: string;
  /** HTTP status, or 0 when no response arrived. */
  status: number;
  durationMs: number;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  patch?: PatchType;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Which queued requests this one goes before or after when every slot is taken (default ordinary). */
  priority?: RequestPriority;
}

export interface KubeHttpOptions {
  /** Called after every request (metrics, tests counting writes). Must not throw. */
  onRequest?: (info: RequestInfo) => void;
  requestTimeoutMs?: number;
  /** Requests in flight at once (watches not counted); default 32. */
  maxSockets?: number;
}

/** What the runtime needs from a transport; KubeHttp in production, a recorder in unit tests. */
export interface KubeTransport {
  request<T>(method: string, path: string, opts?: RequestOptions): Promise<T>;
  watch(path: string, query: RequestOptions['query'], onLine: (value: unknown) => void, signal: AbortSignal): Promise<void>;
}

export class KubeHttp implements KubeTransport {
  readonly #kc: KubeAuth;
  readonly #server: URL;
  readonly #agent: http.Agent;
  readonly #slots: Semaphore;
  readonly #watchAgent: http.Agent;
  readonly #onRequest: (info: RequestInfo) => void;
  readonly #timeoutMs: number;

  constructor(kc: KubeAuth, opts: KubeHttpOptions = {}) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.#kc = kc;
    this.#server = new URL(cluster.server);
    const isHttps = this.#server.protocol === 'https:';
    // Requests share a bounded pool: bursts of status writes queue for a slot instead of opening
    // (and then keeping) hundreds of TLS connections, each holding buffers on both ends. Every
    // socket of the pool stays open between bursts: closing all but a few made each burst pay a
    // TLS handshake per request on both ends (671 handshakes for 1,000 claims). Watches hold their
    // connection for minutes, so they get their own agent and never starve requests.
    const Agent = isHttps ? https.Agent : http.Agent;
    const maxSockets = opts.maxSockets ?? 32;
    this.#slots = new Semaphore(maxSockets);
    this.#agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
    this.#watchAgent = new Agent({ keepAlive: false });
    this.#onRequest = opts.onRequest ?? (() => undefined);
    this.#timeoutMs = opts.requestTimeoutMs ?? 30_000;
  }

  /** A JSON request; resolves with the parsed body, throws KubeApiError for any non-2xx status. */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const started = Date.now();
    let status = 0;
    try {
      const text = await this.#slots.run(async () => {
        const res = await this.#send(method, path, opts);
        status = res.statusCode ?? 0;
        return readBody(res);
      }, opts.priority);
      const body = parseJson(text);
      if (status < 200 || status > 299) throw new KubeApiError(method, path, status, body ?? text);
      return body as T;
    } finally {
      this.#onRequest({ method, path, status, durationMs: Date.now() - started });
    }
  }

  /**
   * Streams a watch: calls onLine for each JSON line until the server closes the stream (resolves)
   * or the connection fails (rejects). Abort the signal to end it; that resolves too.
   */
  async watch(path: string, query: RequestOptions['query'], onLine: (value: unknown) => void, signal: AbortSignal): Promise<void> {
    const started = Date.now();
    let res: http.IncomingMessage;
    try {
      res = await this.#send('GET', path, { query: { ...query, watch: true }, signal, timeoutMs: 0 }, this.#watchAgent);
    } catch (err) {
      this.#onRequest({ method: 'WATCH', path, status: 0, durationMs: Date.now() - started });
      if (signal.aborted) return;
      throw err;
    }
    const status = res.statusCode ?? 0;
    this.#onRequest({ method: 'WATCH', path, status, durationMs: Date.now() - started });
    if (status !== 200) {
      const text = await readBody(res);
      throw new KubeApiError('WATCH', path, status, parseJson(text) ?? text);
    }
    await new Promise<void>((resolve, reject) => {
      const lines = createInterface({ input: res, crlfDelay: Infinity });
      let failed: Error | undefined;
      let settled = false;
      const settle = (): void => {
        if (settled) return;
        settled = true;
        lines.close();
        if (failed && !signal.aborted) reject(failed);
        else resolve();
      };
      // readline re-emits input errors; both must be listened to or they crash the process.
      res.on('error', (err) => (failed ??= err));
      lines.on('error', (err) => (failed ??= err));
      res.on('aborted', () => (failed ??= new Error('watch connection aborted')));
      lines.on('line', (line) => {
        if (settled || !line.trim()) return;
        const value = parseJson(line);
        if (value !== undefined) onLine(value);
      });
      lines.on('close', settle);
      // A destroyed response may never end readline's input; let buffered lines drain, then settle.
      res.on('close', () => setImmediate(settle));
    });
  }

  async #send(method: string, path: string, opts: RequestOptions, agent: http.Agent = this.#agent): Promise<http.IncomingMessage> {
    const url = new URL(this.#server.href.replace(/\/$/, '') + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const reqOpts: KubeRequestOptions = { method, headers: { accept: 'application/json' } };
    await this.#kc.applyToHTTPSOptions(reqOpts);
    let payload: string | undefined;
    if (opts.body !== undefined) {
      payload = JSON.stringify(opts.body);
      reqOpts.headers = {
        ...reqOpts.headers,
        'content-type': opts.patch ? patchContentType[opts.patch] : 'application/json',
        'content-length': Buffer.byteLength(payload),
      };
    }
    // client-node picks a proxy agent when the kubeconfig names a proxy; otherwise our
    // keep-alive agent saves a TLS handshake per request.
    if (!this.#kc.getCurrentCluster()?.proxyUrl) reqOpts.agent = agent;
    const timeoutMs = opts.timeoutMs ?? this.#timeoutMs;
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, reqOpts, resolve);
      req.on('error', reject);
      if (timeoutMs > 0) {
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no response within ${timeoutMs} ms`)));
      }
      const signal = opts.signal;
      if (signal) {
        if (signal.aborted) req.destroy(new Error('aborted'));
        else {
          // The signal may outlive the request by hours (an informer's); a listener left on it would
          // keep the request, its response and the whole body in memory until then.
          const onAbort = (): void => void req.destroy(new Error('aborted'));
          signal.addEventListener('abort', onAbort, { once: true });
          req.once('close', () => signal.removeEventListener('abort', onAbort));
        }
      }
      req.end(payload);
    });
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.#agent.destroy();
    this.#watchAgent.destroy();
  }
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => (text += c));
    res.on('end', () => resolve(text));
    res.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
