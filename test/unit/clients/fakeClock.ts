// A clock whose sleep returns at once and advances time, recording every delay asked for.
import type { Clock } from '../../../src/clients/common/clock.ts';
import { abortReason } from '../../../src/clients/common/clock.ts';

export class FakeClock implements Clock {
  t: number;
  readonly sleeps: number[] = [];

  constructor(start = 1_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw abortReason(signal);
    this.sleeps.push(ms);
    this.t += ms;
    await Promise.resolve();
  }
}
