// Finalizer add/remove as merge-patches guarded by resourceVersion: a stale view gets a 409
// (thrown, so the reconcile retries) instead of clobbering another controller's finalizer.
import type { KubeClient } from './client.ts';
import type { KubeObject, ResourceType } from './types.ts';

export class FinalizerHelper {
  readonly #client: KubeClient;
  readonly #resource: ResourceType;

  constructor(client: KubeClient, resource: ResourceType) {
    this.#client = client;
    this.#resource = resource;
  }

  has(obj: KubeObject, name: string): boolean {
    return obj.metadata?.finalizers?.includes(name) ?? false;
  }

  /** Adds the finalizer unless present; returns the updated object (or obj when nothing was sent). */
  async ensure<T extends KubeObject>(obj: T, name: string): Promise<T> {
    if (this.has(obj, name)) return obj;
    return this.#write(obj, [...(obj.metadata?.finalizers ?? []), name]);
  }

  /** Removes the finalizer if present; returns the updated object (or obj when nothing was sent). */
  async remove<T extends KubeObject>(obj: T, name: string): Promise<T> {
    if (!this.has(obj, name)) return obj;
    return this.#write(
      obj,
      (obj.metadata?.finalizers ?? []).filter((f) => f !== name),
    );
  }

  #write<T extends KubeObject>(obj: T, finalizers: string[]): Promise<T> {
    const meta = obj.metadata ?? {};
    if (!meta.resourceVersion) throw new Error('finalizer update needs the object resourceVersion');
    // With resourceVersion in the body the server refuses the patch (409) if the object moved on.
    const body = { metadata: { resourceVersion: meta.resourceVersion, finalizers: finalizers.length ? finalizers : null } };
    return this.#client.patch<T>(this.#resource, meta.name ?? '', meta.namespace, body);
  }
}
