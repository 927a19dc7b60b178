// Loaded into the operator process by the benchmark only (node --expose-gc --import): on SIGUSR2
// it runs a full GC and prints the process's memory on stderr as one `bench-mem {...}` line, then
// a memory-reducing ("last resort") GC, after which V8 also returns its pooled pages to the
// system, and prints `bench-mem-reduced {...}`; when BENCH_HEAP_SNAPSHOT names a file, it writes a
// heap snapshot there (`bench-heap <file>`).
import { writeHeapSnapshot } from 'node:v8';

type Gc = (opts?: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

const usage = () => {
  const m = process.memoryUsage();
  return JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers });
};

process.on('SIGUSR2', () => {
  const gc = (globalThis as { gc?: Gc }).gc;
  gc?.();
  gc?.();
  process.stderr.write(`bench-mem ${usage()}\n`);
  const file = process.env.BENCH_HEAP_SNAPSHOT;
  if (file) process.stderr.write(`bench-heap ${writeHeapSnapshot(file)}\n`);
  gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  process.stderr.write(`bench-mem-reduced ${usage()}\n`);
});
