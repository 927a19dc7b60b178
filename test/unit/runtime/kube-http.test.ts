// Requests made with a long-lived signal (an informer's lists) must not leave listeners on it:
// each one would keep its request, response and body in memory for as long as the signal lives.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeHttp, StaticKubeAuth } from '../../../src/runtime/index.ts';

describe('KubeHttp', function () {
  let server: http.Server;
  let kube: KubeHttp;

  before(async function () {
    server = http.createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ items: [], path: req.url, padding: 'x'.repeat(10_000) }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    kube = new KubeHttp(new StaticKubeAuth({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
  });
  after(async function () {
    kube.close();
    await new Promise((r) => server.close(r));
  });

  it('removes its abort listener from the caller’s signal once a request is done', async function () {
    const long = new AbortController();
    for (let i = 0; i < 20; i++) await kube.request('GET', `/api/v1/things?page=${i}`, { signal: long.signal });
    // 'close' follows the response's end by a tick.
    await new Promise((r) => setImmediate(r));
    assert.equal(getEventListeners(long.signal, 'abort').length, 0);
  });

  it('keeps at most maxSockets requests in flight; watches do not count', async function () {
    let inFlight = 0;
    let most = 0;
    const srv = http.createServer((req, res) => {
      if (req.url?.includes('watch=true')) {
        res.write('{"type":"BOOKMARK","object":{}}\n');
        return; // held open, like a watch
      }
      inFlight++;
      most = Math.max(most, inFlight);
      setTimeout(() => {
        inFlight--;
        res.end('{}');
      }, 20);
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const k = new KubeHttp(new StaticKubeAuth({ server: `http://127.0.0.1:${(srv.address() as AddressInfo).port}` }), { maxSockets: 4 });
    const stop = new AbortController();
    const watches = Array.from({ length: 6 }, () => k.watch('/api/v1/things', {}, () => undefined, stop.signal));
    await Promise.all(Array.from({ length: 20 }, (_, i) => k.request('GET', `/api/v1/things/${i}`)));
    assert.equal(most, 4);
    stop.abort();
    await Promise.all(watches);
    k.close();
    srv.closeAllConnections();
    await new Promise((r) => srv.close(r));
  });

  it('keeps every pooled connection between bursts, so a burst opens none (each would be a TLS handshake)', async function () {
    let connections = 0;
    const srv = http.createServer((_req, res) => setTimeout(() => res.end('{}'), 10));
    srv.on('connection', () => connections++);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const k = new KubeHttp(new StaticKubeAuth({ server: `http://127.0.0.1:${(srv.address() as AddressInfo).port}` }), { maxSockets: 16 });
    const burst = () => Promise.all(Array.from({ length: 40 }, (_, i) => k.request('PATCH', `/api/v1/things/${i}`, { body: {}, patch: 'merge' })));
    await burst();
    assert.equal(connections, 16);
    for (let i = 0; i < 3; i++) await burst();
    assert.equal(connections, 16, 'a later burst opened new connections');
    k.close();
    srv.closeAllConnections();
    await new Promise((r) => srv.close(r));
  });

  it('still aborts a request in flight', async function () {
    const ctl = new AbortController();
    const slow = http.createServer(() => undefined);
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const k = new KubeHttp(new StaticKubeAuth({ server: `http://127.0.0.1:${(slow.address() as AddressInfo).port}` }));
    const p = k.request('GET', '/hang', { signal: ctl.signal });
    setTimeout(() => ctl.abort(), 50);
    await assert.rejects(p, /aborted/);
    k.close();
    slow.closeAllConnections();
    await new Promise((r) => slow.close(r));
  });
});
