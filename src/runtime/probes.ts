// /metrics, /healthz and /readyz on one small HTTP server.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface Readiness {
  ready: boolean;
  /** Shown in the body, e.g. leader, standby, not-synced. */
  detail: string;
}

export interface ProbeServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  readiness: () => Readiness;
}

export class ProbeServer {
  readonly #server: http.Server;
  readonly #o: ProbeServerOptions;

  constructor(opts: ProbeServerOptions) {
    this.#o = opts;
    this.#server = http.createServer((req, res) => void this.#handle(req, res));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#o.port, this.#o.host ?? '0.0.0.0', () => resolve());
    });
    return (this.#server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (path === '/metrics') {
        const body = await this.#o.registry.metrics();
        res.writeHead(200, { 'content-type': this.#o.registry.contentType }).end(body);
      } else if (path === '/healthz' || path === '/livez') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      } else if (path === '/readyz') {
        const r = this.#o.readiness();
        res.writeHead(r.ready ? 200 : 503, { 'content-type': 'text/plain' }).end(r.detail);
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      }
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(err instanceof Error ? err.message : 'error');
    }
  }
}
