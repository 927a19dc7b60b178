// Shared setup of the client component tests: fast retry/poll timings so fault paths finish
// quickly, and a pino logger that writes into a buffer the tests can search.
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export const fastRetry = { maxAttempts: 5, backoff: { initialDelayMs: 5, maxDelayMs: 40, multiplier: 2, jitter: 0.5 } };
export const fastBusyRetry = { maxAttempts: 30, backoff: { initialDelayMs: 10, maxDelayMs: 40, multiplier: 2, jitter: 0.5 } };
export const fastPoll = { initialDelayMs: 10, maxDelayMs: 40, multiplier: 1.5, jitter: 0.2 };

export interface CapturedLog {
  logger: Logger;
  text(): string;
}

export function captureLog(level: pino.Level = 'debug'): CapturedLog {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done): void {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: pino({ level }, sink), text: () => chunks.join('') };
}

/** Everything an error could leak through: message, stack, own fields as JSON, and cause. */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return [err.message, err.stack ?? '', JSON.stringify(err), err.cause === undefined ? '' : errorText(err.cause)].join('\n');
}
