// Kills the control plane when the process that started it dies, however it dies (SIGKILL
// included): the parent holds this process's stdin open, so end-of-input means the parent is gone.
// Protocol on stdin, one per line: "add <pid>", "del <pid>", "dir <path>" (removed after the
// kill, so an interrupted run leaves no etcd data on tmpfs) or "undir <path>".
import { rmSync } from 'node:fs';

const pids = new Set<number>();
const dirs = new Set<string>();
let buffered = '';

function killAll(): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      pids.delete(pid);
    }
  }
  const finish = (): void => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  // Give the processes a moment to stop on SIGTERM, checking often so cleanup is quick.
  const deadline = Date.now() + 3000;
  const poll = setInterval(() => {
    for (const pid of pids) {
      try {
        process.kill(pid, 0);
      } catch {
        pids.delete(pid);
      }
    }
    if (pids.size === 0 || Date.now() > deadline) {
      clearInterval(poll);
      finish();
    }
  }, 50);
}

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  buffered += chunk;
  let nl: number;
  while ((nl = buffered.indexOf('\n')) >= 0) {
    const line = buffered.slice(0, nl);
    buffered = buffered.slice(nl + 1);
    const space = line.indexOf(' ');
    const verb = line.slice(0, space);
    const arg = line.slice(space + 1);
    if (verb === 'dir') dirs.add(arg);
    if (verb === 'undir') dirs.delete(arg);
    const pid = Number(arg);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    if (verb === 'add') pids.add(pid);
    if (verb === 'del') pids.delete(pid);
  }
});
process.stdin.on('end', killAll);
process.stdin.on('error', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => undefined);
