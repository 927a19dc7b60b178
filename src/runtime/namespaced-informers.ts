// Informers of one resource made on demand, one per namespace, while something in that namespace
// needs them: acquire(namespace, holder) opens the namespace's informer with the first holder,
// release() closes it when the last one goes. Handlers registered with on() see the events of
// every informer of the set, present and future, so a controller watches them as one source.
import type { InformerHandler, SupervisedInformer } from './informer.ts';
import type { KubeObject } from './types.ts';

/** What a controller watch needs from a source of object events. */
export interface InformerEvents<T> {
  on(handler: InformerHandler<T>): () => void;
}

export interface NamespacedInformersOptions<T extends KubeObject> {
  /** Makes (and starts, when its owner runs) the informer of a namespace. */
  open(namespace: string): SupervisedInformer<T>;
  /** Stops an informer no holder needs any more. */
  close(namespace: string, informer: SupervisedInformer<T>): Promise<void>;
  /** Told when close() fails (it must not reject unhandled). */
  onCloseError?(namespace: string, err: unknown): void;
}

export class NamespacedInformers<T extends KubeObject> implements InformerEvents<T> {
  readonly #o: NamespacedInformersOptions<T>;
  readonly #entries = new Map<string, { informer: SupervisedInformer<T>; holders: Set<string>; offs: Map<InformerHandler<T>, () => void> }>();
  readonly #handlers = new Set<InformerHandler<T>>();

  constructor(opts: NamespacedInformersOptions<T>) {
    this.#o = opts;
  }

  /** Records that `holder` needs the informer of `namespace`, opening it for the first holder. */
  acquire(namespace: string, holder: string): SupervisedInformer<T> {
    let entry = this.#entries.get(namespace);
    if (!entry) {
      const informer = this.#o.open(namespace);
      entry = { informer, holders: new Set(), offs: new Map([...this.#handlers].map((h) => [h, informer.on(h)])) };
      this.#entries.set(namespace, entry);
    }
    entry.holders.add(holder);
    return entry.informer;
  }

  /** `holder` no longer needs `namespace`; the informer stops when no holder is left. */
  release(namespace: string, holder: string): void {
    const entry = this.#entries.get(namespace);
    if (!entry?.holders.delete(holder) || entry.holders.size) return;
    this.#entries.delete(namespace);
    for (const off of entry.offs.values()) off();
    this.#o.close(namespace, entry.informer).catch((err: unknown) => this.#o.onCloseError?.(namespace, err));
  }

  /** The open informer of a namespace, if any holder needs it. */
  get(namespace: string): SupervisedInformer<T> | undefined {
    return this.#entries.get(namespace)?.informer;
  }

  namespaces(): string[] {
    return [...this.#entries.keys()].sort();
  }

  on(handler: InformerHandler<T>): () => void {
    this.#handlers.add(handler);
    for (const e of this.#entries.values()) e.offs.set(handler, e.informer.on(handler));
    return () => {
      this.#handlers.delete(handler);
      for (const e of this.#entries.values()) {
        e.offs.get(handler)?.();
        e.offs.delete(handler);
      }
    };
  }
}
