// The two calls an informer needs from the API server, behind an interface so unit tests can
// script lists, watch events and failures without a server.
import type { KubeClient } from './client.ts';
import { resourcePath, type KubeObject, type ResourceType } from './types.ts';

export type WatchEvent<T> =
  { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'; object: T } | { type: 'ERROR'; object: { code?: number; reason?: string; message?: string } };

export interface ListWatcher<T extends KubeObject> {
  list(signal: AbortSignal): Promise<{ items: T[]; resourceVersion: string }>;
  /**
   * Watches from resourceVersion, calling onEvent per event. Resolves when the server ends the
   * stream or the signal aborts; rejects on a failed request (a KubeApiError with code 410 when
   * the version has expired) or a broken connection.
   */
  watch(resourceVersion: string, onEvent: (e: WatchEvent<T>) => void, signal: AbortSignal): Promise<void>;
}

export interface KubeListWatcherOptions {
  namespace?: string;
  labelSelector?: string;
  /** The server ends each watch after a random time in this range (client-go uses 5–10 min). */
  watchTimeoutSeconds?: [number, number];
  random?: () => number;
}

export function kubeListWatcher<T extends KubeObject>(client: KubeClient, r: ResourceType, opts: KubeListWatcherOptions = {}): ListWatcher<T> {
  const [minT, maxT] = opts.watchTimeoutSeconds ?? [300, 600];
  const random = opts.random ?? Math.random;
  const path = resourcePath(r, opts.namespace);
  return {
    list: (signal) => client.list<T>(r, { namespace: opts.namespace, labelSelector: opts.labelSelector, signal }),
    watch: (resourceVersion, onEvent, signal) =>
      client.http.watch(
        path,
        {
          resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: Math.round(minT + random() * (maxT - minT)),
          labelSelector: opts.labelSelector,
        },
        (line) => {
          const e = line as { type?: string; object?: unknown };
          if (e.type === 'ERROR') {
            onEvent({ type: 'ERROR', object: e.object ?? {} });
          } else if (e.type === 'ADDED' || e.type === 'MODIFIED' || e.type === 'DELETED' || e.type === 'BOOKMARK') {
            onEvent({ type: e.type, object: e.object as T });
          }
        },
        signal,
      ),
  };
}
