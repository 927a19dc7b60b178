// Memory back after a burst of work. V8 keeps the pages a busy heap grew to (and the bytecode it
// compiled) until memory is short, so an operator that converged 10,000 claims sits at its peak
// for good: 188 MB where a memory-reducing ("last resort") GC leaves 140 MB. Once every controller
// has been idle for a while, one such GC runs; the next only after more work.
import type { Logger } from 'pino';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { sleep, type Clock } from './clock.ts';

type V8Gc = (opts: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/**
 * V8's memory-reducing GC, or undefined where it cannot be had. `gc` is exposed to a new, empty
 * context only; the operator's own context never sees it.
 */
export function memoryReducingGc(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');
    return typeof gc === 'function' ? () => (gc as V8Gc)({ type: 'major', execution: 'sync', flavor: 'last-resort' }) : undefined;
  } catch {
    return undefined;
  }
}

export interface IdleMemoryOptions {
  clock: Clock;
  /** When the last work ended, or undefined while there is work. */
  idleSince: () => number | undefined;
  /** How long without work before memory is given back. */
  afterMs: number;
  release: () => void;
  logger?: Logger;
  checkEveryMs?: number;
}

/** Runs until `signal` aborts, releasing memory once per idle period of at least `afterMs`. */
export async function releaseMemoryWhenIdle(o: IdleMemoryOptions, signal: AbortSignal): Promise<void> {
  let releasedFor: number | undefined;
  const every = o.checkEveryMs ?? Math.min(5000, o.afterMs);
  while (!signal.aborted) {
    await sleep(o.clock, every, signal).catch(() => undefined);
    if (signal.aborted) return;
    const since = o.idleSince();
    if (since === undefined || since === releasedFor || o.clock.now() - since < o.afterMs) continue;
    releasedFor = since;
    const before = process.memoryUsage.rss();
    o.release();
    o.logger?.debug(
      { rssMbBefore: Math.round(before / 1048576), rssMbAfter: Math.round(process.memoryUsage.rss() / 1048576) },
      'gave memory back after idling',
    );
  }
}
