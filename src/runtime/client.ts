// Typed-enough CRUD for any resource type, over KubeHttp. Controllers read from informers and
// write through this; every write surfaces its KubeApiError to the caller.
import type { KubeTransport, PatchType, RequestOptions } from './kube-http.ts';
import type { Priority as RequestPriority } from '../clients/common/limits.ts';
import { stripManagedFields } from './trim.ts';
import { apiVersionOf, resourcePath, type KubeObject, type ResourceType } from './types.ts';

export interface ListPage<T> {
  items: T[];
  resourceVersion: string;
  continue?: string;
}

export class KubeClient {
  readonly http: KubeTransport;

  constructor(http: KubeTransport) {
    this.http = http;
  }

  get<T extends KubeObject>(r: ResourceType, name: string, namespace?: string): Promise<T> {
    return this.http.request<T>('GET', resourcePath(r, namespace, name));
  }

  /** Lists every page (500 objects each) and returns the items with the list's resourceVersion. */
  async list<T extends KubeObject>(
    r: ResourceType,
    opts: { namespace?: string; labelSelector?: string; signal?: AbortSignal } = {},
  ): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.http.request<{ items?: T[]; metadata?: { resourceVersion?: string; continue?: string } }>(
        'GET',
        resourcePath(r, opts.namespace),
        { query: { limit: 500, continue: cont, labelSelector: opts.labelSelector }, signal: opts.signal },
      );
      for (const it of page.items ?? []) {
        // List items carry no apiVersion/kind; fill them in so cached objects look like watched ones.
        items.push({ apiVersion: apiVersionOf(r), kind: r.kind, ...it });
      }
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { items, resourceVersion };
  }

  create<T extends KubeObject>(r: ResourceType, obj: T, opts: { priority?: RequestPriority } = {}): Promise<T> {
    const body = { apiVersion: apiVersionOf(r), kind: r.kind, ...obj };
    return this.#write<T>('POST', resourcePath(r, obj.metadata?.namespace), { body, ...(opts.priority ? { priority: opts.priority } : {}) });
  }

  replace<T extends KubeObject>(r: ResourceType, obj: T): Promise<T> {
    const body = { apiVersion: apiVersionOf(r), kind: r.kind, ...obj };
    return this.#write<T>('PUT', resourcePath(r, obj.metadata?.namespace, obj.metadata?.name ?? ''), { body });
  }

  /** A patch of the object (merge-patch unless told otherwise); priority `urgent` when a cloud call waits for it. */
  patch<T extends KubeObject>(
    r: ResourceType,
    name: string,
    namespace: string | undefined,
    body: unknown,
    opts: { type?: PatchType; priority?: RequestPriority } = {},
  ): Promise<T> {
    return this.#write<T>('PATCH', resourcePath(r, namespace, name), {
      body,
      patch: opts.type ?? 'merge',
      ...(opts.priority ? { priority: opts.priority } : {}),
    });
  }

  /** A merge-patch of the status subresource. */
  patchStatus<T extends KubeObject>(r: ResourceType, name: string, namespace: string | undefined, body: unknown): Promise<T> {
    return this.#write<T>('PATCH', resourcePath(r, namespace, name, 'status'), { body, patch: 'merge' });
  }

  /**
   * A write, answered with the object as it is now, which controllers keep while they work:
   * without managedFields, as the informers keep it.
   */
  async #write<T extends KubeObject>(method: 'POST' | 'PUT' | 'PATCH', path: string, opts: RequestOptions): Promise<T> {
    return stripManagedFields(await this.http.request<T>(method, path, opts));
  }

  async delete(r: ResourceType, name: string, namespace?: string): Promise<void> {
    await this.http.request('DELETE', resourcePath(r, namespace, name));
  }
}
