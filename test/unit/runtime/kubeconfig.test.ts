// The operator reads common kubeconfigs itself (client-node only for exotic auth), so these must
// come out exactly as kubectl would use them.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeAuth, StaticKubeAuth } from '../../../src/runtime/index.ts';
import { materialFromKubeconfig, type KubeRequestOptions } from '../../../src/runtime/kubeconfig.ts';
import { createCA } from '../../../src/sim/pki.ts';

const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
writeFileSync(join(dir, 'ca.crt'), 'CA PEM');
writeFileSync(join(dir, 'token'), 'file-token-1\n');

function kubeconfig(user: Record<string, unknown>, cluster: Record<string, unknown> = {}) {
  return {
    'current-context': 'x',
    contexts: [
      { name: 'other', context: { cluster: 'c2', user: 'u2' } },
      { name: 'x', context: { cluster: 'c', user: 'u' } },
    ],
    clusters: [{ name: 'c', cluster: { server: 'https://10.0.0.1:6443', 'certificate-authority': 'ca.crt', ...cluster } }],
    users: [{ name: 'u', user }],
  };
}

const authOf = (o: https.RequestOptions): unknown => (o.headers as Record<string, unknown> | undefined)?.authorization;

async function applied(auth: { applyToHTTPSOptions(o: KubeRequestOptions): Promise<void> }): Promise<KubeRequestOptions> {
  const opts: KubeRequestOptions = { headers: { accept: 'application/json' } };
  await auth.applyToHTTPSOptions(opts);
  return opts;
}

describe('kubeconfig loading', function () {
  it('reads the current context: server, CA file relative to the kubeconfig, bearer token', async function () {
    const m = materialFromKubeconfig(kubeconfig({ token: 'abc' }), dir);
    assert.ok(m);
    const auth = new StaticKubeAuth(m);
    assert.equal(auth.getCurrentCluster().server, 'https://10.0.0.1:6443');
    const opts = await applied(auth);
    assert.equal(String(opts.ca), 'CA PEM');
    assert.equal((opts.headers as Record<string, string>).authorization, 'Bearer abc');
    assert.equal((opts.headers as Record<string, string>).accept, 'application/json');
  });

  it('supports inline client certificates, basic auth and skipping verification', async function () {
    const cert = Buffer.from('CERT').toString('base64');
    const key = Buffer.from('KEY').toString('base64');
    const m = materialFromKubeconfig(
      kubeconfig({ 'client-certificate-data': cert, 'client-key-data': key, username: 'a', password: 'b' }, { 'insecure-skip-tls-verify': true }),
      dir,
    );
    const opts = await applied(new StaticKubeAuth(m!));
    assert.equal(String(opts.cert), 'CERT');
    assert.equal(Buffer.isBuffer(opts.key) ? opts.key.toString() : opts.key, 'KEY');
    assert.equal(opts.rejectUnauthorized, false);
    assert.equal((opts.headers as Record<string, string>).authorization, `Basic ${Buffer.from('a:b').toString('base64')}`);
  });

  it('gives every connection the one TLS context built from the CA and client certificate', async function () {
    const ca = await createCA('test-ca');
    const auth = new StaticKubeAuth({ server: 'https://k', ca: Buffer.from(ca.certPem), cert: Buffer.from(ca.certPem), key: Buffer.from(ca.keyPem) });
    const [a, b] = [await applied(auth), await applied(auth)];
    assert.ok(a.secureContext, 'a TLS context is set');
    assert.equal(a.secureContext, b.secureContext, 'and shared, not built per socket');
    // Material that does not parse gets no shared context: the connection fails on it as before.
    assert.equal((await applied(new StaticKubeAuth({ server: 'https://k', cert: Buffer.from('CERT'), key: Buffer.from('KEY') }))).secureContext, undefined);
  });

  it('re-reads a token file once a minute', async function () {
    let now = 0;
    const tokenFile = join(dir, 'token');
    const auth = new StaticKubeAuth({ server: 'https://k', tokenFile }, () => now);
    assert.equal(authOf(await applied(auth)), 'Bearer file-token-1');
    writeFileSync(tokenFile, 'file-token-2');
    now = 30_000;
    assert.equal(authOf(await applied(auth)), 'Bearer file-token-1');
    now = 61_000;
    assert.equal(authOf(await applied(auth)), 'Bearer file-token-2');
  });

  it('leaves exec plugins, auth providers and proxies to client-node', function () {
    assert.equal(materialFromKubeconfig(kubeconfig({ exec: { command: 'aws' } }), dir), undefined);
    assert.equal(materialFromKubeconfig(kubeconfig({ 'auth-provider': { name: 'oidc' } }), dir), undefined);
    assert.equal(materialFromKubeconfig(kubeconfig({ token: 't' }, { 'proxy-url': 'http://proxy:3128' }), dir), undefined);
  });

  it('falls back to client-node for those, with the same result shape', async function () {
    const file = join(dir, 'exec.yaml');
    writeFileSync(
      file,
      'apiVersion: v1\nkind: Config\ncurrent-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n' +
        'clusters: [{name: c, cluster: {server: "https://10.0.0.2:6443", proxy-url: "http://proxy:3128"}}]\nusers: [{name: u, user: {token: t}}]\n',
    );
    const auth = await loadKubeAuth(file, {});
    assert.ok(!(auth instanceof StaticKubeAuth));
    assert.equal(auth.getCurrentCluster()?.server, 'https://10.0.0.2:6443');
  });

  it('uses the in-cluster service account when no kubeconfig is named', async function () {
    // Without the service account files this must fail on reading them, not silently use ~/.kube.
    await assert.rejects(loadKubeAuth(undefined, { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }), /ca\.crt/);
  });

  it('refuses a kubeconfig whose current context does not exist', function () {
    assert.throws(() => materialFromKubeconfig({ ...kubeconfig({}), 'current-context': 'nope' }, dir), /current context nope not found/);
  });
});
