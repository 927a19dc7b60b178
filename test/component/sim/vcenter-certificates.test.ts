import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { SimCore, serveRoutes, type ServedRoutes, type SimRequest } from '../../../src/sim/core/index.ts';
import { createCA, inspectCertificate } from '../../../src/sim/pki.ts';
import { checkTrust, createVCenterService, type VCenterService } from '../../../src/sim/vcenter/index.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  peerDer?: Buffer;
}

const CHAINS = '/api/vcenter/certificate-management/vcenter/trusted-root-chains';
const REST_CHAINS = '/rest/vcenter/certificate-management/vcenter/trusted-root-chains';
const BASIC = `Basic ${Buffer.from('administrator@vsphere.local:VMware1!').toString('base64')}`;

describe('sim vCenter over HTTPS', () => {
  const clock = {
    t: Date.now(),
    now(): number {
      return this.t;
    },
  };
  const core = new SimCore({ clock });
  let a: VCenterService;
  let b: VCenterService;
  let servedA: ServedRoutes;
  let servedB: ServedRoutes;

  function call(
    served: ServedRoutes,
    ca: string | string[],
    method: string,
    path: string,
    opts: { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Reply> {
    const payload = opts.body === undefined ? '' : JSON.stringify(opts.body);
    const headers: Record<string, string> = { ...opts.headers };
    if (payload) headers['content-type'] = 'application/json';
    return new Promise((resolve, reject) => {
      const req = request(`${served.url}${path}`, { method, headers, ca }, (res) => {
        const peerDer = (res.socket as TLSSocket).getPeerCertificate().raw;
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? (JSON.parse(text) as unknown) : undefined, peerDer }));
      });
      req.on('error', reject);
      req.end(payload);
    });
  }
  const callA = (method: string, path: string, opts?: { body?: unknown; headers?: Record<string, string> }): Promise<Reply> =>
    call(servedA, a.vmca.certPem, method, path, opts);
  async function loginA(): Promise<Record<string, string>> {
    const r = await callA('POST', '/api/session', { headers: { authorization: BASIC } });
    assert.equal(r.status, 201);
    return { 'vmware-api-session-id': r.body as string };
  }
  const obj = (r: Reply): Record<string, unknown> => r.body as Record<string, unknown>;

  before(async () => {
    const opts = { username: 'administrator@vsphere.local', password: 'VMware1!', clock };
    a = await createVCenterService({ name: 'vc-a', ...opts });
    b = await createVCenterService({ name: 'vc-b', ...opts });
    servedA = await serveRoutes({ service: 'vcenter', instance: a.name, routes: a.routes, tls: a.tls, core, notFound: a.notFound, faultBody: a.faultBody });
    servedB = await serveRoutes({ service: 'vcenter', instance: b.name, routes: b.routes, tls: b.tls, core, notFound: b.notFound, faultBody: b.faultBody });
  });
  after(async () => {
    await servedA.close();
    await servedB.close();
  });
  beforeEach(() => {
    a.reset();
    b.reset();
  });

  describe('sessions', () => {
    it('creates /api sessions from Basic credentials and refuses calls without one', async () => {
      const denied = await callA('POST', '/api/session', {
        headers: { authorization: `Basic ${Buffer.from('administrator@vsphere.local:nope').toString('base64')}` },
      });
      assert.equal(denied.status, 401);
      assert.equal(obj(denied).error_type, 'UNAUTHENTICATED');
      assert.match(String(denied.headers['www-authenticate']), /^Basic realm=/);
      assert.equal((await callA('GET', CHAINS)).status, 401);

      const headers = await loginA();
      assert.match(headers['vmware-api-session-id'] ?? '', /^[0-9a-f]{32}$/);
      const info = obj(await callA('GET', '/api/session', { headers }));
      assert.equal(info.user, 'administrator@vsphere.local');
      assert.equal((await callA('GET', CHAINS, { headers })).status, 200);
      assert.equal((await callA('DELETE', '/api/session', { headers })).status, 204);
      assert.equal((await callA('GET', CHAINS, { headers })).status, 401);
    });

    it('serves the /rest session with {value} wrapping, the header opt-out of the cookie, and idle expiry', async () => {
      const withCookie = await callA('POST', '/rest/com/vmware/cis/session', { headers: { authorization: BASIC } });
      assert.equal(withCookie.status, 200);
      const token = obj(withCookie).value as string;
      assert.match(String(withCookie.headers['set-cookie']), new RegExp(`^vmware-api-session-id=${token}; Path=/rest`));
      const viaCookie = await callA('POST', '/rest/com/vmware/cis/session?~action=get', { headers: { cookie: `vmware-api-session-id=${token}` } });
      assert.equal((obj(viaCookie).value as { user: string }).user, 'administrator@vsphere.local');

      const headerOnly = await callA('POST', '/rest/com/vmware/cis/session', { headers: { authorization: BASIC, 'vmware-use-header-authn': 'x' } });
      assert.equal(headerOnly.headers['set-cookie'], undefined);
      const headers = { 'vmware-api-session-id': obj(headerOnly).value as string };
      clock.t += 31 * 60_000;
      const expired = await callA('GET', REST_CHAINS, { headers });
      assert.equal(expired.status, 401);
      assert.equal(obj(expired).type, 'com.vmware.vapi.std.errors.unauthenticated');
    });
  });

  describe('trusted root chains', () => {
    it('lists its own VMCA root and adds, deduplicates, refuses and deletes chains in the /api form', async () => {
      const headers = await loginA();
      const initial = (await callA('GET', CHAINS, { headers })).body as Array<{ chain: string }>;
      assert.equal(initial.length, 1);
      const own = obj(await callA('GET', `${CHAINS}/${initial[0]?.chain ?? ''}`, { headers }));
      assert.deepEqual(own, { cert_chain: { cert_chain: [inspectCertificate(a.vmca.certPem).pem] } });

      const created = await callA('POST', CHAINS, { headers, body: { cert_chain: { cert_chain: [b.vmca.certPem] } } });
      assert.equal(created.status, 201);
      const id = created.body as string;
      assert.equal(typeof id, 'string');
      const again = await callA('POST', CHAINS, { headers, body: { cert_chain: { cert_chain: [b.vmca.certPem] } } });
      assert.equal(again.body, id);
      assert.equal(((await callA('GET', CHAINS, { headers })).body as unknown[]).length, 2);

      const taken = await callA('POST', CHAINS, { headers, body: { cert_chain: { cert_chain: [b.vmca.certPem] }, chain: id } });
      assert.equal(taken.status, 400);
      assert.equal(obj(taken).error_type, 'ALREADY_EXISTS');

      const leaf = await callA('POST', CHAINS, { headers, body: { cert_chain: { cert_chain: [b.tls.certPem] } } });
      assert.equal(leaf.status, 500);
      assert.equal(obj(leaf).error_type, 'ERROR');
      const message = (obj(leaf).messages as Array<{ default_message: string }>)[0]?.default_message ?? '';
      assert.equal(message, 'create trusted root chain failed : Certificate bearing subject CN=vc-b, O=vc-b is not a valid CA certificate');
      const garbage = await callA('POST', CHAINS, {
        headers,
        body: { cert_chain: { cert_chain: ['-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----'] } },
      });
      assert.equal(garbage.status, 400);
      assert.equal(obj(garbage).error_type, 'INVALID_ARGUMENT');
      const mixed = await callA('POST', CHAINS, { headers, body: { cert_chain: { cert_chain: [(await createCA('other')).certPem, b.tls.certPem] } } });
      assert.equal(mixed.status, 500);
      assert.equal(((await callA('GET', CHAINS, { headers })).body as unknown[]).length, 2, 'refused chains are not stored');

      assert.equal((await callA('DELETE', `${CHAINS}/${id}`, { headers })).status, 204);
      const gone = await callA('DELETE', `${CHAINS}/${id}`, { headers });
      assert.equal(gone.status, 404);
      assert.equal(obj(gone).error_type, 'NOT_FOUND');
    });

    it('serves the same store in the /rest form with spec and value wrapping', async () => {
      const headers = await loginA();
      const created = await callA('POST', REST_CHAINS, { headers, body: { spec: { cert_chain: { cert_chain: [b.vmca.certPem] }, chain: 'vc-b-root' } } });
      assert.deepEqual([created.status, created.body], [200, { value: 'vc-b-root' }]);
      const list = obj(await callA('GET', REST_CHAINS, { headers })).value as Array<{ chain: string }>;
      assert.ok(list.some((c) => c.chain === 'vc-b-root'));
      assert.ok(((await callA('GET', CHAINS, { headers })).body as Array<{ chain: string }>).some((c) => c.chain === 'vc-b-root'));
      const got = obj(await callA('GET', `${REST_CHAINS}/vc-b-root`, { headers })).value as { cert_chain: { cert_chain: string[] } };
      assert.equal(got.cert_chain.cert_chain[0], inspectCertificate(b.vmca.certPem).pem);
      const leaf = await callA('POST', REST_CHAINS, { headers, body: { spec: { cert_chain: { cert_chain: [a.tls.certPem] } } } });
      assert.equal(obj(leaf).type, 'com.vmware.vapi.std.errors.error');
      assert.equal((await callA('DELETE', `${REST_CHAINS}/vc-b-root`, { headers })).status, 200);
      assert.equal((await callA('GET', `${REST_CHAINS}/vc-b-root`, { headers })).status, 404);
    });

    it('flips the cross-vCenter trust check when the other VMCA root is added and removed', async () => {
      const headers = await loginA();
      const before = checkTrust(a, b);
      assert.deepEqual(before, { trusted: false, fault: 'SSLVerifyFault', thumbprint: inspectCertificate(b.tls.certPem).sha1Fingerprint });
      // The check agrees with real TLS: vc-a's trust store does not verify vc-b's listener.
      const anchors = (): string[] => a.trustedRoots().flatMap((c) => c.certPems);
      await assert.rejects(call(servedB, anchors(), 'GET', '/api/session'));

      const id = (await callA('POST', CHAINS, { headers, body: { cert_chain: { cert_chain: [b.vmca.certPem] } } })).body as string;
      assert.deepEqual(checkTrust(a, b), { trusted: true });
      assert.equal(checkTrust(b, a).trusted, false, 'trust is one-way until the reverse root is added');
      assert.equal((await call(servedB, anchors(), 'GET', '/api/session')).status, 401);

      await callA('DELETE', `${CHAINS}/${id}`, { headers });
      assert.equal(checkTrust(a, b).trusted, false);
    });

    it('does not trust an impostor CA with the same subject as the other VMCA', async () => {
      const impostor = await createCA('CA', { organization: 'vc-b' });
      assert.equal(inspectCertificate(impostor.certPem).subject, inspectCertificate(b.vmca.certPem).subject);
      a.addTrustedRoot(impostor.certPem);
      assert.equal(a.trusts(b), false);
    });
  });

  describe('tls and download.zip', () => {
    it('reports the leaf it serves, issued by its own VMCA', async () => {
      const headers = await loginA();
      const r = await callA('GET', '/api/vcenter/certificate-management/vcenter/tls', { headers });
      const tls = obj(r);
      assert.equal(tls.cert, inspectCertificate(a.tls.certPem).pem);
      assert.deepEqual(r.peerDer, new X509Certificate(a.tls.certPem).raw);
      assert.equal(tls.issuer_dn, 'CN=CA, O=vc-a');
      assert.equal(tls.subject_dn, 'CN=vc-a, O=vc-a');
      assert.equal(tls.is_CA, false);
      assert.deepEqual(tls.subject_alternative_name, ['localhost', 'vc-a', '127.0.0.1']);
      assert.deepEqual(tls.extended_key_usage, ['serverAuth']);
      const rest = obj(await callA('GET', '/rest/vcenter/certificate-management/vcenter/tls', { headers }));
      assert.equal((rest.value as { thumbprint: string }).thumbprint, inspectCertificate(a.tls.certPem).sha1Fingerprint);
      // Each vCenter's listener is signed by its own VMCA only.
      await assert.rejects(call(servedA, b.vmca.certPem, 'GET', '/api/session'));
    });

    it('zips its trusted roots as certs/lin/<hash>.0 files that standard unzip reads', async () => {
      a.addTrustedRoot(b.vmca.certPem);
      const route = a.routes.find((r) => r.method === 'GET' && r.pattern === '/certs/download.zip');
      assert.ok(route);
      const req: SimRequest = {
        method: 'GET',
        path: '/certs/download.zip',
        params: {},
        query: new URLSearchParams(),
        headers: {},
        rawBody: '',
        body: undefined,
      };
      const res = await route.handler(req);
      assert.equal(res.status, 200);
      assert.equal(res.headers?.['content-type'], 'application/zip');
      assert.ok(Buffer.isBuffer(res.body));
      const dir = mkdtempSync(join(tmpdir(), 'vc-zip-'));
      try {
        const file = join(dir, 'download.zip');
        writeFileSync(file, res.body);
        assert.match(execFileSync('unzip', ['-t', file]).toString(), /No errors detected/);
        const names = execFileSync('unzip', ['-Z1', file]).toString().trim().split('\n');
        const lin = names.filter((n) => /^certs\/lin\/[0-9a-f]{8}\.0$/.test(n));
        assert.equal(lin.length, 2);
        assert.equal(names.filter((n) => n.startsWith('certs/win/') && n.endsWith('.0.crt')).length, 2);
        const pems = lin.map((n) => execFileSync('unzip', ['-p', file, n]).toString());
        assert.deepEqual(new Set(pems), new Set([a.vmca.certPem, b.vmca.certPem].map((p) => inspectCertificate(p).pem)));
        // Named by OpenSSL's subject hash, so certs/lin can serve as a CApath.
        lin.forEach((name, i) => {
          const hash = execFileSync('openssl', ['x509', '-hash', '-noout'], { input: pems[i] }).toString().trim();
          assert.equal(name, `certs/lin/${hash}.0`);
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
