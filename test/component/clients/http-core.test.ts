// The connection-level guarantees every client inherits from HttpCore: at most maxInFlight
// requests on the wire at once, and keep-alive reuse of the same few sockets.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock } from '../../../src/clients/common/clock.ts';
import { HttpCore } from '../../../src/clients/common/http.ts';
import { Semaphore } from '../../../src/clients/common/limits.ts';
import { silentLogger } from '../../../src/clients/common/logger.ts';
import { RequestMetrics } from '../../../src/clients/common/metrics.ts';
import { SecretSet } from '../../../src/clients/common/secrets.ts';
import { createAgent } from '../../../src/clients/common/tls.ts';
import { CloudNetworkError } from '../../../src/clients/common/errors.ts';

describe('HttpCore connection limits', () => {
  let server: http.Server;
  let url: string;
  let active = 0;
  let peak = 0;
  let connections = 0;

  before(async () => {
    server = http.createServer((req, res) => {
      active++;
      peak = Math.max(peak, active);
      setTimeout(() => {
        active--;
        if (req.url === '/reset') {
          req.socket.destroy();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      }, 20);
    });
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  function core(maxInFlight: number): { core: HttpCore; agent: http.Agent } {
    const agent = createAgent({ url, maxSockets: maxInFlight, logger: silentLogger, service: 'vcd' });
    return {
      agent,
      core: new HttpCore({
        service: 'vcd',
        baseUrl: url,
        agent,
        logger: silentLogger,
        metrics: new RequestMetrics('t_'),
        limiter: new Semaphore(maxInFlight),
        secrets: new SecretSet(),
        clock: systemClock,
        requestTimeoutMs: 5000,
      }),
    };
  }

  it('keeps at most maxInFlight requests in flight and reuses kept-alive sockets', async () => {
    peak = 0;
    connections = 0;
    const { core: c, agent } = core(2);
    const results = await Promise.all(Array.from({ length: 10 }, () => c.send({ operation: 'ping', method: 'GET', path: '/ping' })));
    assert.ok(results.every((r) => r.status === 200 && (r.data as { ok?: boolean }).ok === true));
    assert.equal(peak, 2);
    assert.equal(connections, 2);
    agent.destroy();
  });

  it('reports a reset connection as an outcome-unknown network error', async () => {
    const { core: c, agent } = core(1);
    await assert.rejects(
      c.send({ operation: 'write', method: 'POST', path: '/reset', body: { a: 1 } }),
      (err: unknown) => err instanceof CloudNetworkError && err.outcomeUnknown && err.code === 'ECONNRESET',
    );
    agent.destroy();
  });
});
