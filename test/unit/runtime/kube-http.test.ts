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
