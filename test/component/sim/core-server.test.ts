// The shared simulator server: routing, latency, fault injection, counters and the audit log,
// which every simulated service (VCD, NSX, vCenter) relies on behaving the same way.
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { SimCore, mergeKnobs, defaultKnobs, serveRoutes, type Route, type ServedRoutes, type SimRequest } from '../../../src/sim/core/index.ts';
import { createCA } from '../../../src/sim/pki.ts';

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

describe('simulator core: serveRoutes', () => {
  let caPem: string;
  let tls: { certPem: string; keyPem: string };
  let core: SimCore;
  let server: ServedRoutes;
  let seen: SimRequest[];
  let writes: number;

  const call = (method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Res> =>
    new Promise((resolve, reject) => {
      const req = request(new URL(path, server.url), { method, ca: caPem, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });

  const routes: Route[] = [
    { method: 'GET', pattern: '/things/{id}', handler: (req) => (seen.push(req), { status: 200, body: { kind: 'param', id: req.params['id'] } }) },
    { method: 'GET', pattern: '/things/special', handler: () => ({ status: 200, body: { kind: 'literal' } }) },
    { method: 'POST', pattern: '/things', handler: (req) => (seen.push(req), writes++, { status: 201, body: { made: true } }) },
    { method: 'GET', pattern: '/text', handler: () => ({ status: 200, headers: { 'content-type': 'application/xml' }, body: '<x/>' }) },
  ];

  before(async () => {
    const ca = await createCA('core test CA');
    caPem = ca.certPem;
    tls = await ca.issueServer({ commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  });
  beforeEach(async () => {
    core = new SimCore();
    seen = [];
    writes = 0;
    server = await serveRoutes({
      service: 'vcd',
      instance: 'vcd',
      routes,
      tls,
      core,
      notFound: (req) => ({ status: 404, body: { missing: req.path } }),
      faultBody: (status) => ({ injected: status }),
      internalRoutes: [{ method: 'GET', pattern: '/admin/ping', handler: () => ({ status: 200, body: 'pong' }) }],
    });
  });
  afterEach(() => server.close());

  it('prefers literal segments over parameters and decodes parameters', async () => {
    assert.deepEqual(JSON.parse((await call('GET', '/things/special')).text), { kind: 'literal' });
    const res = await call('GET', `/things/${encodeURIComponent('urn:vcloud:ipSpace:a b')}?filter=x%3D%3Dy`);
    assert.deepEqual(JSON.parse(res.text), { kind: 'param', id: 'urn:vcloud:ipSpace:a b' });
    assert.equal(seen[0]?.query.get('filter'), 'x==y');
    assert.equal((await call('GET', '/text')).headers['content-type'], 'application/xml');
  });

  it('answers unmatched requests through notFound and counts them apart', async () => {
    const res = await call('GET', '/nowhere');
    assert.equal(res.status, 404);
    assert.deepEqual(JSON.parse(res.text), { missing: '/nowhere' });
    await call('GET', '/things/1');
    await call('GET', '/things/2');
    assert.equal(core.callCount('GET /things/{id}'), 2);
    assert.equal(core.callCount('GET <unmatched>'), 1);
  });

  it('adds the configured latency before handling', async () => {
    core.setKnobs({ latencyMs: 60 });
    const started = process.hrtime.bigint();
    await call('GET', '/things/1');
    assert.ok(Number(process.hrtime.bigint() - started) / 1e6 >= 55, 'the request waited at least the latency');
  });

  it('injects status faults a given number of times, without running the handler, with Retry-After', async () => {
    core.addFault({ route: 'POST /things', kind: 'status', status: 429, retryAfterSeconds: 3, times: 2 });
    for (let i = 0; i < 2; i++) {
      const r = await call('POST', '/things', '{}', { 'content-type': 'application/json' });
      assert.equal(r.status, 429);
      assert.equal(r.headers['retry-after'], '3');
      assert.deepEqual(JSON.parse(r.text), { injected: 429 });
    }
    assert.equal(writes, 0);
    assert.equal((await call('POST', '/things', '{}')).status, 201);
    assert.equal(writes, 1);
    assert.deepEqual(core.faults(), [], 'a used-up rule is gone');
  });

  it('runs the handler and then drops the connection for drop-after-commit', async () => {
    core.addFault({ route: 'POST /things', kind: 'drop-after-commit', times: 1 });
    await assert.rejects(call('POST', '/things', '{}'), /socket hang up|ECONNRESET/);
    assert.equal(writes, 1, 'the write committed');
    const audit = core.audit();
    assert.equal(audit.length, 1);
    assert.equal(audit[0]?.status, 201);
  });

  it('hands task-error and slow-task faults to the handler, and matches rules by service and instance', async () => {
    core.addFault({ route: 'GET /things/{id}', kind: 'task-error', service: 'nsx' });
    await call('GET', '/things/1');
    assert.equal(seen[0]?.fault, undefined, 'a rule for another service does not apply');
    core.addFault({ route: 'GET /things/{id}', kind: 'slow-task', delayMs: 500, instance: 'vcd' });
    await call('GET', '/things/2');
    assert.equal(seen[1]?.fault?.kind, 'slow-task');
    assert.equal(seen[1]?.fault?.delayMs, 500);
  });

  it('audits writes only, with secrets removed from JSON and form bodies', async () => {
    await call('GET', '/things/1');
    await call('POST', '/things', JSON.stringify({ name: 'x', password: 'p4ss', nested: { apiToken: 't0k', keep: 1 } }), {
      'content-type': 'application/json',
    });
    await call('POST', '/things', 'grant_type=refresh_token&refresh_token=s3cret', { 'content-type': 'application/x-www-form-urlencoded' });
    const audit = core.audit();
    assert.equal(audit.length, 2);
    assert.deepEqual(audit[0]?.body, { name: 'x', password: '***', nested: { apiToken: '***', keep: 1 } });
    assert.deepEqual(audit[1]?.body, { grant_type: 'refresh_token', refresh_token: '***' });
    assert.ok(!JSON.stringify(audit).includes('s3cret') && !JSON.stringify(audit).includes('p4ss'));
    assert.deepEqual(
      core.audit(audit[0]?.seq).map((e) => e.seq),
      [audit[1]?.seq],
    );
    assert.equal(audit[0]?.route, 'POST /things');
  });

  it('keeps internal (admin) routes out of latency, faults, counters and the audit', async () => {
    core.setKnobs({ latencyMs: 10_000 });
    core.addFault({ route: 'GET /admin/ping', kind: 'status', status: 500 });
    const res = await call('GET', '/admin/ping');
    assert.equal(res.text, 'pong');
    assert.deepEqual(core.counters(), []);
  });

  it('validates fault rules and knobs', () => {
    assert.throws(() => core.addFault({ route: 'things', kind: 'status', status: 500 }), /METHOD \/pattern/);
    assert.throws(() => core.addFault({ route: 'GET /x', kind: 'status', status: 200 }), /4xx\/5xx/);
    assert.throws(() => mergeKnobs({ ...defaultKnobs }, { latencyMs: -1 }), /non-negative/);
    assert.throws(() => mergeKnobs({ ...defaultKnobs }, { serializeEdges: 'yes' }), /boolean/);
    assert.equal(mergeKnobs({ ...defaultKnobs }, { taskDurationMs: 5 }).taskDurationMs, 5);
  });
});
