// The control plane must never outlive the test run, whatever way the run ends.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function holdAndKill(signal: NodeJS.Signals): Promise<{ pids: number[]; dir: string }> {
  const child = spawn(process.execPath, ['test/harness/hold-control-plane.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`holder exited early with ${code}`)));
  });
  const started = JSON.parse(line) as { pids: number[]; dir: string };
  assert.equal(started.pids.length, 2);
  assert.ok(started.pids.every(alive));
  child.kill(signal);
  const deadline = Date.now() + 15_000;
  while (started.pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return started;
}

describe('test control plane cleanup', function () {
  this.timeout(60_000);

  for (const signal of ['SIGKILL', 'SIGINT', 'SIGTERM'] as const) {
    it(`leaves no etcd, kube-apiserver or data directory behind when the test process gets ${signal}`, async function () {
      const { pids, dir } = await holdAndKill(signal);
      assert.deepEqual(pids.filter(alive), []);
      const deadline = Date.now() + 5000;
      while (existsSync(dir) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal(existsSync(dir), false, `${dir} is left behind`);
    });
  }
});
