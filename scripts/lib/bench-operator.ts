// The operator binary as the benchmark runs it: its stderr kept (the tail is shown if it dies),
// its stdout (JSON log lines) in a file for the time breakdown, its exit turned into a rejection
// that every wait of the benchmark races against, so a dead operator stops the run at once.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transformSync } from 'esbuild';

/**
 * bench-preload.ts as JavaScript: a .ts preload would make Node load its TypeScript stripper
 * (about 4 MB of source and its compiled code) into the process being measured.
 */
function preloadScript(): string {
  const ts = readFileSync(new URL('./bench-preload.ts', import.meta.url), 'utf8');
  const file = join(mkdtempSync(join(tmpdir(), 'vcd-operator-bench-preload-')), 'bench-preload.mjs');
  writeFileSync(file, transformSync(ts, { loader: 'ts', format: 'esm' }).code);
  return file;
}

export interface MemoryReport {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** Read from /proc when the report arrived, before any heap snapshot is written. */
  anonMb?: number;
  fileMb?: number;
}

export interface OperatorOptions {
  /** dist/main.js (as shipped) or src/main.ts. */
  entry: string;
  kubeconfigPath: string;
  namespace: string;
  operatorNamespace: string;
  taskTimeoutSeconds: number;
  /** --max-old-space-size for the operator's node; none when undefined. */
  heapMb?: number;
  /** --max-semi-space-size (young generation) for the operator's node; none when undefined. */
  semiMb?: number;
  logFile: string;
  extraArgs?: string[];
  env?: Record<string, string>;
}

export class OperatorProcess {
  readonly child: ChildProcess;
  readonly spawnedAt = Date.now();
  /** Rejects when the process exits without stop()/kill() having been asked for. */
  readonly died: Promise<never>;
  readonly #stderr: string[] = [];
  readonly #memWaiters: Array<(m: MemoryReport) => void> = [];
  readonly #heapWaiters: Array<(file: string) => void> = [];
  readonly #reducedWaiters: Array<(m: MemoryReport) => void> = [];
  readonly #exited: Promise<void>;
  #expectExit = false;
  readonly #heapSnapshot: boolean;

  constructor(o: OperatorOptions) {
    this.#heapSnapshot = !!o.env?.BENCH_HEAP_SNAPSHOT;
    const node = [
      '--expose-gc',
      '--import',
      preloadScript(),
      ...(o.heapMb ? [`--max-old-space-size=${o.heapMb}`] : []),
      ...(o.semiMb ? [`--max-semi-space-size=${o.semiMb}`] : []),
    ];
    const args = [
      o.entry,
      `--kubeconfig=${o.kubeconfigPath}`,
      `--namespace=${o.namespace}`,
      `--operator-namespace=${o.operatorNamespace}`,
      '--leader-elect=false',
      '--probe-port=0',
      `--log-level=${o.env?.['LOG_LEVEL'] ?? 'info'}`,
      `--task-timeout=${o.taskTimeoutSeconds}`,
      ...(o.extraArgs ?? []),
    ];
    this.child = spawn(process.execPath, [...node, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env } });
    this.child.stdout?.pipe(createWriteStream(o.logFile, { flags: 'a' }));
    let partial = '';
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.#line(line);
    });
    this.#exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.died = new Promise<never>((_resolve, reject) => {
      this.child.once('exit', (code, signal) => {
        if (this.#expectExit) return;
        reject(
          new Error(
            `the operator exited (code ${code}, signal ${signal}); its last errors:\n${this.#logErrors(o.logFile)}\nlast lines of its stderr:\n${this.stderrTail()}`,
          ),
        );
      });
    });
    // Nobody may be racing `died` at the moment it rejects; that is still a reported stop, not a crash of the bench.
    this.died.catch(() => undefined);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** The last error and fatal lines of its JSON log (a crash is logged there, not on stderr). */
  #logErrors(file: string): string {
    try {
      const lines = readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => /"level":"(error|fatal)"/.test(l));
      return (
        lines
          .slice(-3)
          .map((l) => l.slice(0, 2000))
          .join('\n') || '(none)'
      );
    } catch {
      return '(no log)';
    }
  }

  stderrTail(lines = 30): string {
    return this.#stderr.slice(-lines).join('\n') || '(empty)';
  }

  #line(line: string): void {
    if (line.startsWith('bench-mem ')) {
      const m = JSON.parse(line.slice('bench-mem '.length)) as MemoryReport;
      const r = this.rssMb();
      m.anonMb = r.anon;
      m.fileMb = r.file;
      for (const w of this.#memWaiters.splice(0)) w(m);
      return;
    }
    if (line.startsWith('bench-mem-reduced ')) {
      const m = JSON.parse(line.slice('bench-mem-reduced '.length)) as MemoryReport;
      const r = this.rssMb();
      m.anonMb = r.anon;
      m.fileMb = r.file;
      for (const w of this.#reducedWaiters.splice(0)) w(m);
      return;
    }
    if (line.startsWith('bench-heap ')) {
      for (const w of this.#heapWaiters.splice(0)) w(line.slice('bench-heap '.length));
      return;
    }
    this.#stderr.push(line);
    if (this.#stderr.length > 200) this.#stderr.splice(0, 100);
  }

  /** Full GC in the operator, then its memory (and a heap snapshot file when BENCH_HEAP_SNAPSHOT was set). */
  async memoryAfterGc(timeoutMs = 60_000): Promise<{ mem: MemoryReport; reduced: MemoryReport; heapFile?: string }> {
    const mem = new Promise<MemoryReport>((r) => this.#memWaiters.push(r));
    const reduced = new Promise<MemoryReport>((r) => this.#reducedWaiters.push(r));
    const heap = new Promise<string>((r) => this.#heapWaiters.push(r));
    this.child.kill('SIGUSR2');
    const timeout = new Promise<never>((_r, reject) => setTimeout(() => reject(new Error('the operator did not report its memory')), timeoutMs).unref());
    const m = await Promise.race([mem, this.died, timeout]);
    const heapFile = this.#heapSnapshot ? await Promise.race([heap, this.died, timeout]) : undefined;
    const r = await Promise.race([reduced, this.died, timeout]);
    return { mem: m, reduced: r, ...(heapFile ? { heapFile } : {}) };
  }

  /** Peak resident set (VmHWM), current resident set (VmRSS) and its anonymous and file-backed parts, MB. */
  rssMb(): { peak: number; now: number; anon: number; file: number } {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
      return { peak: kb('VmHWM') / 1024, now: kb('VmRSS') / 1024, anon: kb('RssAnon') / 1024, file: kb('RssFile') / 1024 };
    } catch {
      return { peak: 0, now: 0, anon: 0, file: 0 };
    }
  }

  /** CPU seconds (user + system) used so far. */
  cpuSeconds(): number {
    try {
      const fields = readFileSync(`/proc/${this.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / 100;
    } catch {
      return 0;
    }
  }

  /** SIGTERM and wait (SIGKILL after `graceMs`). */
  async stop(graceMs = 10_000): Promise<void> {
    this.#expectExit = true;
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(t);
  }

  async kill(): Promise<void> {
    this.#expectExit = true;
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.#exited;
  }
}
