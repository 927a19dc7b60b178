// The Argo CD health checks in deploy/argocd, run the way Argo CD runs resource_customizations
// tests (every health_test.yaml: each inputPath object through health.lua, status and message
// compared exactly), on gopher-lua with the libraries argocd-cm overrides get. Also: the files
// are what scripts/gen-argocd.ts generates, and every kind of src/api has a check.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { kinds } from '../../../src/api/index.ts';
import { GROUP, Reasons } from '../../../src/api/common.ts';
import { ARGOCD_DIR, CASES, renderArgoCD } from '../../../scripts/gen-argocd.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const customizations = join(ARGOCD_DIR, 'resource_customizations');

interface HealthTests {
  tests: { inputPath: string; healthStatus: { status: string; message?: string } }[];
}
interface LuaResult {
  status?: string;
  message?: string;
  error?: string;
}

function runLua(jobs: { script: string; obj: unknown }[]): LuaResult[] {
  const bin = execFileSync('bash', [join(root, 'scripts', 'argocd-health.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  return JSON.parse(execFileSync(bin, [], { input: JSON.stringify(jobs), encoding: 'utf8' })) as LuaResult[];
}

describe('Argo CD health checks (deploy/argocd)', function () {
  this.timeout(180_000);

  it('are what scripts/gen-argocd.ts generates', function () {
    for (const [rel, text] of renderArgoCD()) {
      const onDisk = existsSync(join(ARGOCD_DIR, rel)) ? readFileSync(join(ARGOCD_DIR, rel), 'utf8') : undefined;
      assert.ok(onDisk === text, `deploy/argocd/${rel} is out of date: run npm run gen:argocd and commit the result`);
    }
  });

  it('cover every kind of src/api', function () {
    const dirs = readdirSync(join(customizations, GROUP));
    for (const k of kinds) assert.ok(dirs.includes(k.kind), `no health check for ${k.kind}`);
  });

  it('classify every reason of src/api as Healthy, Progressing or Degraded in some test case', function () {
    const classified = new Set(Object.values(CASES).flatMap((k) => [k.ready[0], ...k.progressing, ...k.degraded]));
    classified.add(Reasons.ReconcileSuccess); // a Synced reason, never Ready's
    const missing = Object.values(Reasons).filter((r) => !classified.has(r));
    assert.deepEqual(missing, [], 'add these reasons to a kind in scripts/gen-argocd.ts (and to the Lua transient list if the operator resolves them by itself)');
  });

  const kindDirs = existsSync(join(customizations, GROUP)) ? readdirSync(join(customizations, GROUP)).sort() : [];
  for (const kind of kindDirs) {
    it(`${GROUP}/${kind}: health_test.yaml passes`, function () {
      const dir = join(customizations, GROUP, kind);
      const script = readFileSync(join(dir, 'health.lua'), 'utf8');
      const spec = parse(readFileSync(join(dir, 'health_test.yaml'), 'utf8')) as HealthTests;
      assert.ok(spec.tests.length > 0);
      const statuses = new Set(spec.tests.map((t) => t.healthStatus.status));
      for (const s of ['Healthy', 'Progressing', 'Degraded']) assert.ok(statuses.has(s), `${kind} has a ${s} case`);
      const results = runLua(spec.tests.map((t) => ({ script, obj: parse(readFileSync(join(dir, t.inputPath), 'utf8')) as unknown })));
      spec.tests.forEach((t, i) => {
        const r = results[i];
        assert.equal(r?.error, undefined, `${t.inputPath}: ${r?.error ?? ''}`);
        assert.deepEqual({ status: r?.status, message: r?.message ?? '' }, { status: t.healthStatus.status, message: t.healthStatus.message ?? '' }, t.inputPath);
      });
    });
  }

  it('the runner is not a rubber stamp: an unknown status becomes Unknown, a script error is reported', function () {
    const [bad, broken, noTable] = runLua([
      { script: 'return { status = "Fine" }', obj: {} },
      { script: 'return obj.status.conditions[1].type', obj: {} },
      { script: 'return "Healthy"', obj: {} },
    ]);
    assert.deepEqual(bad, { status: 'Unknown', message: 'Lua returned an invalid health status' });
    assert.match(broken?.error ?? '', /attempt to index/);
    assert.match(noTable?.error ?? '', /expect table output/);
  });

  it('runs without the string library, as argocd-cm overrides do', function () {
    const [r] = runLua([{ script: 'return { status = "Healthy", message = string.format("%s", "x") }', obj: {} }]);
    assert.match(r?.error ?? '', /string/);
  });
});
