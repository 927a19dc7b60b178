import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheAssetsDir, findAssets, MissingAssetsError, pinnedVersions } from '../harness/assets.ts';

describe('test control plane binaries lookup', function () {
  const saved = { ...process.env };
  let dir: string;
  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'assets-'));
    for (const k of ['VCD_TEST_ASSETS', 'KUBEBUILDER_ASSETS', 'TEST_ASSET_KUBE_APISERVER', 'TEST_ASSET_ETCD', 'TEST_ASSET_KUBECTL', 'TEST_ASSET_HELM']) {
      delete process.env[k];
    }
    process.env.VCD_OPERATOR_CACHE = join(dir, 'empty-cache');
  });
  afterEach(function () {
    process.env = { ...saved };
    rmSync(dir, { recursive: true, force: true });
  });

  const fakeBin = (name: string) => {
    writeFileSync(join(dir, name), '#!/bin/sh\n');
    chmodSync(join(dir, name), 0o755);
  };

  it('names the cache directory after the pinned versions', function () {
    const v = pinnedVersions();
    assert.match(v.K8S_VERSION ?? '', /^1\.\d+\.\d+$/);
    assert.ok(cacheAssetsDir().endsWith(`assets-k8s${v.K8S_VERSION}-etcd${v.ETCD_VERSION}-helm${v.HELM_VERSION}`));
  });

  it('uses KUBEBUILDER_ASSETS when it holds the binaries', function () {
    for (const b of ['kube-apiserver', 'etcd', 'kubectl']) fakeBin(b);
    process.env.KUBEBUILDER_ASSETS = dir;
    const a = findAssets();
    assert.equal(a.kubeApiserver, join(dir, 'kube-apiserver'));
    assert.equal(a.etcd, join(dir, 'etcd'));
    assert.equal(a.helm, undefined);
  });

  it('fails with instructions when nothing is found', function () {
    assert.throws(
      () => findAssets(),
      (err: Error) => err instanceof MissingAssetsError && /npm run test-bins/.test(err.message),
    );
  });

  it('ignores files that are not executable', function () {
    for (const b of ['kube-apiserver', 'etcd', 'kubectl']) writeFileSync(join(dir, b), '');
    process.env.KUBEBUILDER_ASSETS = dir;
    assert.throws(() => findAssets(), MissingAssetsError);
  });
});
