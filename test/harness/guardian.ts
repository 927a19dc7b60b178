// Kills the control plane when the process that started it dies, however it dies (SIGKILL
// included): the parent holds this process's stdin open, so end-of-input means the parent is gone.
// Protocol on stdin, one per line: "add <pid>" or "del <pid>".
const pids = new Set<number>();
let buffered = '';

function killAll(): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      pids.delete(pid);
    }
  }
  setTimeout(() => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    process.exit(0);
  }, 3000).unref();
}

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  buffered += chunk;
  let nl: number;
  while ((nl = buffered.indexOf('\n')) >= 0) {
    const [verb, arg] = buffered.slice(0, nl).split(' ');
    buffered = buffered.slice(nl + 1);
    const pid = Number(arg);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    if (verb === 'add') pids.add(pid);
    if (verb === 'del') pids.delete(pid);
  }
});
process.stdin.on('end', killAll);
process.stdin.on('error', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => undefined);
