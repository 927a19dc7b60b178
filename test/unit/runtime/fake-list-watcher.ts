// A scriptable ListWatcher: tests decide what each list returns and drive each watch by hand.
import type { ListWatcher, WatchEvent } from '../../../src/runtime/list-watcher.ts';
import type { KubeObject } from '../../../src/runtime/types.ts';

export interface FakeWatch<T> {
  rv: string;
  signal: AbortSignal;
  emit(e: WatchEvent<T>): void;
  /** The server ends the stream normally. */
  end(): void;
  /** The connection fails. */
  fail(err: Error): void;
}

export class FakeListWatcher<T extends KubeObject> implements ListWatcher<T> {
  /** What the next lists return (shifted per call); when empty, `current` is returned. */
  readonly listResults: Array<{ items: T[]; resourceVersion: string } | Error> = [];
  current: { items: T[]; resourceVersion: string } = { items: [], resourceVersion: '1' };
  readonly watches: FakeWatch<T>[] = [];
  listCalls = 0;

  list(_signal: AbortSignal): Promise<{ items: T[]; resourceVersion: string }> {
    this.listCalls++;
    const r = this.listResults.shift() ?? this.current;
    if (r instanceof Error) return Promise.reject(r);
    return Promise.resolve(structuredClone(r));
  }

  watch(rv: string, onEvent: (e: WatchEvent<T>) => void, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      signal.addEventListener('abort', () => resolve(), { once: true });
      this.watches.push({ rv, signal, emit: onEvent, end: resolve, fail: reject });
    });
  }

  get lastWatch(): FakeWatch<T> {
    const w = this.watches.at(-1);
    if (!w) throw new Error('no watch started');
    return w;
  }
}

export interface Thing extends KubeObject {
  spec?: { edge?: string; n?: number };
  status?: { ready?: boolean };
}

export function thing(name: string, rv: string, spec: Thing['spec'] = {}, namespace = 'ns'): Thing {
  return { apiVersion: 'x/v1', kind: 'Thing', metadata: { name, namespace, resourceVersion: rv }, spec };
}
