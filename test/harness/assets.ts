// Where the test control plane binaries are: explicit TEST_ASSET_* paths, then a directory
// (VCD_TEST_ASSETS or KUBEBUILDER_ASSETS), then the cache that scripts/test-bins.sh fills.
import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Assets {
  kubeApiserver: string;
  etcd: string;
  kubectl: string;
  helm: string | undefined;
}

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function pinnedVersions(): Record<string, string> {
  const text = readFileSync(join(repoRoot, 'scripts', 'test-bins.env'), 'utf8');
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(\S+)/.exec(line.trim());
    if (m?.[1] && m[2]) out[m[1]] = m[2];
  }
  return out;
}

export function cacheAssetsDir(): string {
  const v = pinnedVersions();
  const cache = process.env.VCD_OPERATOR_CACHE ?? join(homedir(), '.cache', 'vcd-operator');
  return join(cache, 'bin', `assets-k8s${v.K8S_VERSION}-etcd${v.ETCD_VERSION}-helm${v.HELM_VERSION}`);
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export class MissingAssetsError extends Error {}

export function findAssets(): Assets {
  const dirs = [process.env.VCD_TEST_ASSETS, process.env.KUBEBUILDER_ASSETS, cacheAssetsDir()].filter((d): d is string => !!d);
  const pick = (envName: string, bin: string): string | undefined => {
    const explicit = process.env[envName];
    if (explicit) return explicit;
    return dirs.map((d) => join(d, bin)).find(executable);
  };
  const kubeApiserver = pick('TEST_ASSET_KUBE_APISERVER', 'kube-apiserver');
  const etcd = pick('TEST_ASSET_ETCD', 'etcd');
  const kubectl = pick('TEST_ASSET_KUBECTL', 'kubectl');
  const helm = pick('TEST_ASSET_HELM', 'helm');
  if (!kubeApiserver || !etcd || !kubectl) {
    throw new MissingAssetsError(
      `test control plane binaries not found (looked in ${dirs.join(', ')}). ` +
        'Run `npm run test-bins` (needs Go), or set KUBEBUILDER_ASSETS to a directory with kube-apiserver, etcd and kubectl.',
    );
  }
  return { kubeApiserver, etcd, kubectl, helm };
}
