// Loaded into the operator process by the benchmark only (node --expose-gc --import): on SIGUSR2
// it runs a full GC, prints the process's memory on stderr as one `bench-mem {...}` line, and,
// when BENCH_HEAP_SNAPSHOT names a file, writes a heap snapshot there (`bench-heap <file>`).
import { writeHeapSnapshot } from 'node:v8';

process.on('SIGUSR2', () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  process.stderr.write(`bench-mem ${JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, gc: !!gc })}\n`);
  const file = process.env.BENCH_HEAP_SNAPSHOT;
  if (file) process.stderr.write(`bench-heap ${writeHeapSnapshot(file)}\n`);
});
