// One HTTPS listener running one service's routes. The cross-cutting behaviour every simulated API
// shares lives here, applied identically to VCD, NSX and each vCenter: per-request latency, fault
// injection, per-route counters and the audit log of writes.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FaultRule, HttpMethod, Route, ServiceKind, SimRequest, SimResponse } from './types.ts';
import type { SimCore } from './core.ts';
import { Router } from './router.ts';

export interface ServeRoutesOptions {
  service: ServiceKind;
  /** Instance name, e.g. 'vcd', 'nsx' or a vCenter's name; used by counters, audit and fault rules. */
  instance: string;
  routes: Route[];
  tls: { certPem: string; keyPem: string };
  /** The simulator's shared knobs, faults, counters and audit log. */
  core: SimCore;
  host?: string;
  /** 0 or absent: a free port. */
  port?: number;
  /** The answer when no route matches (VCD and NSX differ); a bare 404 by default. */
  notFound?: (req: SimRequest) => SimResponse;
  /** The body of an injected 'status' fault, in the service's own error shape. */
  faultBody?: (status: number, req: SimRequest) => unknown;
  /** Routes that bypass latency, faults, counters and audit (the admin API). */
  internalRoutes?: Route[];
  /**
   * Called before a write route's handler runs (with what it names in its path still there);
   * the function it returns gets the response once the write ran (VCD publishes its events so).
   */
  onWrite?: (req: SimRequest, routeKey: string) => ((res: SimResponse) => void) | undefined;
  /** HTTP upgrades (the VCD message bus); answers false for paths it does not serve. */
  onUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;
}

export interface ServedRoutes {
  url: string;
  port: number;
  /** Serve another certificate from now on (new connections; open ones keep theirs until they close). */
  setTls(tls: { certPem: string; keyPem: string }): void;
  close(): Promise<void>;
}

const METHODS: ReadonlySet<string> = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
const MAX_BODY_BYTES = 8 * 1024 * 1024;

export async function serveRoutes(opts: ServeRoutesOptions): Promise<ServedRoutes> {
  const router = new Router(opts.routes);
  const internal = new Router(opts.internalRoutes ?? []);
  const host = opts.host ?? '127.0.0.1';
  const server: Server = createServer({ cert: opts.tls.certPem, key: opts.tls.keyPem }, (req, res) => {
    handle(opts, router, internal, req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, { status: 500, body: { message: err instanceof Error ? err.message : String(err) } });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (!opts.onUpgrade?.(req, socket, head)) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://${host}:${port}`,
    port,
    setTls: (tls) => {
      server.setSecureContext({ cert: tls.certPem, key: tls.keyPem });
      // Keep-alive connections would go on presenting the old certificate.
      server.closeIdleConnections();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(opts: ServeRoutesOptions, router: Router, internal: Router, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const rawBody = await readBody(req);
  const url = new URL(req.url ?? '/', 'https://sim.invalid');
  const method = (req.method ?? 'GET').toUpperCase();
  const simReq: SimRequest = {
    method: (METHODS.has(method) ? method : 'GET') as HttpMethod,
    path: url.pathname,
    params: {},
    query: url.searchParams,
    headers: lowerHeaders(req),
    rawBody,
    body: parseJson(rawBody),
  };
  if (!METHODS.has(method)) {
    send(res, { status: 405, body: { message: `method ${method} not allowed` } });
    return;
  }

  const adminHit = internal.match(simReq.method, simReq.path);
  if (adminHit) {
    simReq.params = adminHit.params;
    send(res, await adminHit.route.handler(simReq));
    return;
  }

  const { core, service, instance } = opts;
  if (core.knobs.latencyMs > 0) await sleep(core.knobs.latencyMs);

  const hit = router.match(simReq.method, simReq.path);
  if (!hit) {
    core.count(service, instance, `${simReq.method} <unmatched>`);
    send(res, opts.notFound ? opts.notFound(simReq) : { status: 404, body: { message: 'not found' } });
    return;
  }
  simReq.params = hit.params;
  const routeKey = `${hit.route.method} ${hit.route.pattern}`;
  core.count(service, instance, routeKey);

  const fault: FaultRule | undefined = core.takeFault(service, instance, routeKey);
  const isWrite = hit.route.write ?? simReq.method !== 'GET';
  const audit = (status: number, note?: string): void => {
    if (!isWrite) return;
    const body = simReq.body ?? formBody(simReq);
    core.recordWrite({
      service,
      instance,
      method: simReq.method,
      path: simReq.path,
      route: note ? `${routeKey} [${note}]` : routeKey,
      status,
      ...(body === undefined ? {} : { body }),
    });
  };

  if (fault?.kind === 'status') {
    const status = fault.status ?? 500;
    const headers: Record<string, string> = {};
    if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
    const body = opts.faultBody ? opts.faultBody(status, simReq) : { message: `injected fault ${status}` };
    audit(status, 'fault');
    send(res, { status, headers, body });
    return;
  }
  if (fault) simReq.fault = fault;

  const written = isWrite ? opts.onWrite?.(simReq, routeKey) : undefined;
  const response = await hit.route.handler(simReq);
  audit(response.status);
  if (response.status < 400) written?.(response);
  if (fault?.kind === 'drop-after-commit') {
    // The write has happened; the client just never learns the outcome.
    res.socket?.destroy();
    return;
  }
  send(res, response);
}

function send(res: ServerResponse, r: SimResponse): void {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = v;
  let payload: string | Uint8Array = '';
  if (r.body !== undefined) {
    if (r.body instanceof Uint8Array) {
      // Binary bodies (vCenter's download.zip) go out as bytes, never as JSON of a Buffer.
      payload = r.body;
      headers['content-type'] ??= 'application/octet-stream';
    } else if (typeof r.body === 'string') {
      payload = r.body;
      // A string that is an XML document (VCD's legacy errors, e.g. from an injected fault) says so.
      headers['content-type'] ??= r.body.startsWith('<?xml') ? 'application/xml' : 'text/plain; charset=utf-8';
    } else {
      payload = JSON.stringify(r.body);
      headers['content-type'] ??= 'application/json';
    }
  }
  headers['content-length'] = String(typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength);
  res.writeHead(r.status, headers);
  res.end(payload);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(raw: string): unknown {
  if (raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

/** Form-encoded bodies (OAuth token grants) are audited as objects so their secrets get redacted. */
function formBody(req: SimRequest): Record<string, string> | undefined {
  if (!req.rawBody || !(req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')) return undefined;
  return Object.fromEntries(new URLSearchParams(req.rawBody));
}

function lowerHeaders(req: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}
