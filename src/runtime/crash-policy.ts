// What the process does when a promise rejects with no handler, or an exception escapes to the
// event loop: a bug, and the state it left behind (a half-run reconcile, a lock never released)
// cannot be trusted. Log it once, clearly, and exit non-zero so the pod restarts; every cloud
// write is recoverable from markers and pending guards, so a restart is safe, a zombie is not.
import type { Logger } from './logger.ts';

/** The exit code of a process stopped by an unhandled rejection or uncaught exception (EX_SOFTWARE). */
export const CRASH_EXIT_CODE = 70;

export interface CrashPolicyOptions {
  logger: Logger;
  /** Replaced in tests; process.exit by default. */
  exit?: (code: number) => void;
}

/** Installs the handlers once per process; returns a function that removes them. */
export function exitOnUnhandledErrors(opts: CrashPolicyOptions): () => void {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let crashing = false;
  const crash = (kind: 'unhandledRejection' | 'uncaughtException', err: unknown): void => {
    if (crashing) return;
    crashing = true;
    const message =
      kind === 'unhandledRejection'
        ? 'a promise rejected with no handler: this is a bug in vcd-operator; exiting so the process restarts clean'
        : 'an exception escaped to the event loop: this is a bug in vcd-operator; exiting so the process restarts clean';
    try {
      // pino's stdout destination is synchronous: the line is written before exit.
      opts.logger.fatal({ err: err instanceof Error ? err : new Error(String(err)), kind, exitCode: CRASH_EXIT_CODE }, message);
    } catch {
      process.stderr.write(`vcd-operator: ${message}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
    exit(CRASH_EXIT_CODE);
  };
  const onRejection = (reason: unknown): void => crash('unhandledRejection', reason);
  const onException = (err: Error): void => crash('uncaughtException', err);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
