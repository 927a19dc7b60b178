// The control-plane binaries for the demo and the benchmark: found where the tests find them, or
// built once by scripts/test-bins.sh (with its progress shown).
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findAssets, MissingAssetsError, type Assets } from '../../test/harness/assets.ts';

const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-bins.sh');

export async function ensureTestBins(log: (line: string) => void): Promise<Assets> {
  try {
    return findAssets();
  } catch (err) {
    if (!(err instanceof MissingAssetsError)) throw err;
  }
  log('building the local control plane (kube-apiserver, etcd, kubectl, helm) from the Go module proxy; the first time takes a few minutes');
  await new Promise<void>((resolve, reject) => {
    const child = spawn('bash', [script], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`scripts/test-bins.sh failed with exit code ${code ?? 'null'}`))));
  });
  return findAssets();
}
