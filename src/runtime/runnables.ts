// Long-running work that is not a controller (a message-bus subscription, a poller, a pool that
// must close its clients on exit), run in the Manager's lifecycle: started once caches have synced
// (leader-only ones when this replica wins the lease, like controller workers), stopped with the
// manager. A runnable that throws is logged and restarted after a capped, jittered backoff; one
// that returns on its own is done.
import type { Logger } from 'pino';
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import { sleep, type Clock } from './clock.ts';
import { errorSummary } from './informer.ts';

export interface Runnable {
  /** Unique among the manager's runnables; used in logs. */
  name: string;
  /** Runs until `signal` aborts (then returns promptly). Throwing restarts it with backoff. */
  start(signal: AbortSignal): Promise<void>;
}

export interface RunnableOptions {
  /** Run only on the replica that holds the lease. Default false: every replica, like informers. */
  leaderOnly?: boolean;
}

export interface RunnableGroupOptions {
  clock: Clock;
  logger: Logger;
  /** Restart delays; default 1 s doubling to 5 min, 20 % jitter. */
  backoff?: BackoffOptions;
  /** A run that lasted this long resets the restart backoff. Default 5 min. */
  healthyAfterMs?: number;
}

interface Entry {
  runnable: Runnable;
  leaderOnly: boolean;
  running?: Promise<void>;
}

export class RunnableGroup {
  readonly #o: RunnableGroupOptions;
  readonly #entries: Entry[] = [];
  readonly #abort = new AbortController();
  /** Aborted on stop and when leadership is lost; leader-only runnables see this one. */
  readonly #leaderAbort = new AbortController();

  constructor(opts: RunnableGroupOptions) {
    this.#o = opts;
    this.#abort.signal.addEventListener('abort', () => this.#leaderAbort.abort(this.#abort.signal.reason), { once: true });
  }

  get names(): string[] {
    return this.#entries.map((e) => e.runnable.name);
  }

  add(runnable: Runnable, opts: RunnableOptions = {}): void {
    if (this.#entries.some((e) => e.runnable.name === runnable.name)) throw new Error(`runnable ${runnable.name} already added`);
    this.#entries.push({ runnable, leaderOnly: opts.leaderOnly ?? false });
  }

  /** Starts the runnables of one kind that are not running yet (all replicas first, the leader's when leading). */
  start(which: 'all-replicas' | 'leader'): void {
    const stopped = which === 'leader' ? this.#leaderAbort.signal : this.#abort.signal;
    if (stopped.aborted) return;
    for (const e of this.#entries) {
      if (e.running || e.leaderOnly !== (which === 'leader')) continue;
      e.running = this.#supervise(e.runnable, e.leaderOnly ? this.#leaderAbort.signal : this.#abort.signal);
    }
  }

  /** Aborts the leader-only runnables (leadership lost); they do not start again in this process. */
  abortLeaderOnly(): void {
    this.#leaderAbort.abort(new Error('leadership lost'));
  }

  /** Aborts every runnable and resolves once all returned, or when `deadlineMs` (wall time) passes. */
  async stop(deadlineMs: number, wallClock: Clock): Promise<void> {
    this.#abort.abort(new Error('manager stopping'));
    const running = this.#entries.flatMap((e) => (e.running ? [e.running] : []));
    const all = Promise.all(running).then(() => true);
    if (!(await Promise.race([all, sleep(wallClock, deadlineMs).then(() => false)]))) {
      this.#o.logger.warn({ deadlineMs, runnables: this.#entries.map((e) => e.runnable.name) }, 'runnables still running at the shutdown deadline');
    }
  }

  async #supervise(r: Runnable, signal: AbortSignal): Promise<void> {
    const { clock, logger } = this.#o;
    const backoff: BackoffOptions = { initialMs: 1000, maxMs: 300_000, ...this.#o.backoff };
    const healthyAfter = this.#o.healthyAfterMs ?? 300_000;
    let failures = 0;
    while (!signal.aborted) {
      const started = clock.now();
      try {
        await r.start(signal);
        return;
      } catch (err) {
        if (signal.aborted) return;
        if (clock.now() - started >= healthyAfter) failures = 0;
        failures++;
        const delayMs = backoffDelay(failures, backoff);
        logger.error({ runnable: r.name, err: errorSummary(err), failures, delayMs }, 'runnable failed; restarting after backoff');
        try {
          await sleep(clock, delayMs, signal);
        } catch {
          return; // stopped while waiting
        }
      }
    }
  }
}
