// VCD asynchronous tasks: parse the legacy task (XML, or its JSON form) and wait for it with
// growing poll intervals, an overall deadline and cancellation. The waiting logic takes the fetch
// as a function, so deadlines and backoff are tested with a fake clock.
import type { Clock } from '../common/clock.ts';
import { throwIfAborted } from '../common/clock.ts';
import { backoffDelay, type BackoffPolicy } from '../common/backoff.ts';
import { VcdTaskError, VcdTaskTimeoutError, type VcdTaskErrorDetail } from './errors.ts';
import { parseLegacyXml } from './legacy-xml.ts';

export interface TaskRef {
  id?: string;
  href?: string;
  name?: string;
  type?: string;
}

export interface VcdTask {
  href: string;
  id: string | undefined;
  status: string;
  operationName: string | undefined;
  owner: TaskRef | undefined;
  error: VcdTaskErrorDetail | undefined;
  /** Text of Result/ResultContent (allocate puts a JSON array here). */
  resultContent: string | undefined;
  details: string | undefined;
  /** How long VCD took, from its own startTime and endTime, once the task ended. */
  durationMs: number | undefined;
}

const RUNNING = new Set(['queued', 'preRunning', 'running', 'postRunning']);

export function isTaskRunning(status: string): boolean {
  return RUNNING.has(status);
}

/** Parses a task body; `href` is used when the body does not carry its own. */
export function parseTask(body: unknown, href: string): VcdTask {
  let t: Record<string, unknown>;
  if (typeof body === 'string') {
    t = obj(parseLegacyXml(body)['Task']);
  } else {
    t = obj(body);
  }
  const pick = (...keys: string[]): unknown => {
    for (const k of keys) if (t[k] !== undefined) return t[k];
    return undefined;
  };
  const ownerRaw = pick('Owner', 'owner');
  const errorRaw = pick('Error', 'error');
  const resultRaw = obj(pick('Result', 'result'));
  const resultContent = text(resultRaw['ResultContent'] ?? resultRaw['resultContent']);
  const status = str(t['status']);
  if (status === undefined) throw new Error('VCD task body has no status');
  return {
    href: str(t['href']) ?? href,
    id: str(t['id']),
    status,
    operationName: str(t['operationName']) ?? str(t['operation']),
    owner: ownerRaw === undefined ? undefined : ref(ownerRaw),
    error: errorRaw === undefined ? undefined : taskError(obj(errorRaw)),
    resultContent,
    details: text(pick('Details', 'details')),
    durationMs: durationOf(str(t['startTime']), str(t['endTime'])),
  };
}

function durationOf(start: string | undefined, end: string | undefined): number | undefined {
  const [a, b] = [start ? Date.parse(start) : NaN, end ? Date.parse(end) : NaN];
  return Number.isFinite(a) && Number.isFinite(b) && b >= a ? b - a : undefined;
}

/**
 * What tasks of each operation usually take, from VCD's own start and end times. The first poll
 * of a task waits about that long: a 500 ms allocate is then read once or twice, not five times
 * on a short backoff.
 */
export class TaskDurations {
  readonly #ewma = new Map<string, number>();
  /** Callers waiting for the first task of an operation to end. */
  readonly #waiting = new Map<string, Set<() => void>>();

  record(operation: string, durationMs: number): void {
    const prev = this.#ewma.get(operation);
    this.#ewma.set(operation, prev === undefined ? durationMs : prev * 0.7 + durationMs * 0.3);
    const waiting = this.#waiting.get(operation);
    this.#waiting.delete(operation);
    for (const notify of waiting ?? []) notify();
  }

  /**
   * Calls `then` with when a task of this operation requested at `sentAt` is due to end, as soon
   * as that is known: at once when a task of the operation has ended, otherwise when the first
   * one does (say in another IP Space, while this one still runs). Nothing after `signal` aborts.
   */
  whenDue(operation: string, sentAt: number, signal: AbortSignal, then: (dueAt: number) => void): void {
    const call = (): void => {
      const at = this.dueAt(operation, sentAt);
      if (at !== undefined && !signal.aborted) then(at);
    };
    if (this.#ewma.has(operation)) return call();
    if (signal.aborted) return;
    const waiting = this.#waiting.get(operation) ?? new Set<() => void>();
    this.#waiting.set(operation, waiting);
    const forget = (): void => void waiting.delete(notify);
    const notify = (): void => {
      signal.removeEventListener('abort', forget);
      call();
    };
    waiting.add(notify);
    signal.addEventListener('abort', forget, { once: true });
  }

  /** The expected duration, or undefined before the first task of this operation ended. */
  expected(operation: string): number | undefined {
    return this.#ewma.get(operation);
  }

  /**
   * How soon to look again at a task of this operation still running when it was due: a twentieth
   * of the usual duration (25 ms for a 500 ms task), at least 10 ms; undefined while that is unknown.
   */
  recheckMs(operation: string): number | undefined {
    const expected = this.#ewma.get(operation);
    return expected === undefined ? undefined : Math.max(10, expected / 20);
  }

  /**
   * When a task of this operation, requested at `sentAt` (clock ms), is due to have ended: the
   * expected duration and 2% on top; undefined while no such task has ended. VCD starts a task
   * about when its request is sent, and a read sent then reaches VCD as late as the request did.
   */
  dueAt(operation: string, sentAt: number): number | undefined {
    const expected = this.#ewma.get(operation);
    return expected === undefined ? undefined : sentAt + expected * 1.02;
  }
}

function taskError(e: Record<string, unknown>): VcdTaskErrorDetail {
  return {
    majorErrorCode: str(e['majorErrorCode']),
    minorErrorCode: str(e['minorErrorCode']),
    message: str(e['message']) ?? 'no message',
  };
}

function ref(v: unknown): TaskRef {
  const o = obj(v);
  const out: TaskRef = {};
  for (const k of ['id', 'href', 'name', 'type'] as const) {
    const s = str(o[k]);
    if (s !== undefined) out[k] = s;
  }
  return out;
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function text(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'object') return str((v as Record<string, unknown>)['#text']);
  return str(v);
}

export interface TaskWaitOptions {
  operation: string;
  href: string;
  /** Reads the task; `deadline` (clock ms) bounds the read and its retries. */
  fetch: (signal: AbortSignal | undefined, deadline: number) => Promise<VcdTask>;
  clock: Clock;
  random: () => number;
  poll: BackoffPolicy;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Learned durations: the first poll waits for the expected duration, and the result is recorded. */
  durations?: TaskDurations;
  /** When the request that created the task was sent (clock ms); defaults to now. */
  startedAt?: number;
}

/** How long a task of an operation whose duration is not known yet is read at a flat pace. */
const FLAT_WHILE_UNKNOWN_MS = 1000;

/**
 * Polls (after a first wait) until the task leaves the running states. Success returns the final task; error or
 * aborted throws VcdTaskError; passing the deadline throws VcdTaskTimeoutError (the task may still
 * finish). Aborting the signal stops waiting with the signal's reason.
 */
export async function waitForTask(o: TaskWaitOptions): Promise<VcdTask> {
  const started = o.clock.now();
  const deadline = started + o.timeoutMs;
  let last: string | undefined;
  const expected = o.durations?.expected(o.operation);
  const firstRead = o.durations?.dueAt(o.operation, o.startedAt ?? started);
  // A task still running when it usually ends is most likely about to end: the reads after that
  // one start from recheckMs, not the policy's first step, and grow as the policy does.
  const recheck = o.durations?.recheckMs(o.operation);
  const after: BackoffPolicy | undefined = recheck === undefined ? undefined : { ...o.poll, initialDelayMs: Math.min(o.poll.initialDelayMs, recheck) };
  // Until a task of this operation has ended, how long one takes is unknown: for its first
  // second it is read at the policy's first step, not the growing one, so the first tasks' ends
  // (which a batch behind them waits for) are seen within a step; the reads grow after that.
  const flatUntil = o.durations && expected === undefined ? started + FLAT_WHILE_UNKNOWN_MS : started;
  let grown = 0;
  for (let n = 0; ; n++) {
    // Sleep first: a task just accepted is still running, so an immediate read is a wasted call.
    // The first read comes when such tasks usually end, once that is known.
    const wait =
      firstRead === undefined
        ? backoffDelay(o.poll, o.clock.now() < flatUntil ? 0 : grown++, o.random)
        : n === 0
          ? Math.max(10, firstRead - o.clock.now())
          : backoffDelay(after ?? o.poll, n - 1, o.random);
    await o.clock.sleep(Math.min(wait, Math.max(0, deadline - o.clock.now())), o.signal);
    throwIfAborted(o.signal);
    let task: VcdTask;
    try {
      task = await o.fetch(o.signal, deadline);
    } catch (err) {
      // A poll that failed because the deadline ran out is a timeout, not a transport failure.
      if (o.clock.now() >= deadline && !o.signal?.aborted) throw new VcdTaskTimeoutError(o.operation, o.href, last, o.clock.now() - started);
      throw err;
    }
    last = task.status;
    if (!isTaskRunning(task.status) && task.durationMs !== undefined) o.durations?.record(o.operation, task.durationMs);
    if (task.status === 'success') return task;
    if (!isTaskRunning(task.status)) {
      throw new VcdTaskError(
        o.operation,
        task.href,
        task.status,
        task.error ?? { majorErrorCode: undefined, minorErrorCode: undefined, message: `task ${task.status}` },
      );
    }
    const now = o.clock.now();
    if (now >= deadline) throw new VcdTaskTimeoutError(o.operation, o.href, last, now - started);
  }
}
