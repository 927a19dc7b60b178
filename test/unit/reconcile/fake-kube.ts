// A tiny in-memory apiserver for engine tests: merge-patches to objects and their status, a
// resourceVersion check that answers 409 like the real one, and a reconcile context whose
// informer reads the same store. Every write is recorded, so a test can assert the order of an
// engine's steps.
import { KubeClient } from '../../../src/runtime/client.ts';
import type { Condition } from '../../../src/runtime/conditions.ts';
import { ManualClock } from '../../../src/runtime/clock.ts';
import type { ReconcileContext } from '../../../src/runtime/controller.ts';
import { KubeApiError } from '../../../src/runtime/errors.ts';
import { EventRecorder } from '../../../src/runtime/events.ts';
import { FinalizerHelper } from '../../../src/runtime/finalizers.ts';
import type { SupervisedInformer } from '../../../src/runtime/informer.ts';
import type { KubeTransport, RequestOptions } from '../../../src/runtime/kube-http.ts';
import { createLogger } from '../../../src/runtime/logger.ts';
import { StatusWriter } from '../../../src/runtime/status.ts';
import { objectKey, type KubeObject, type ResourceType } from '../../../src/runtime/types.ts';

export const widgets: ResourceType = { group: 'x.io', version: 'v1', plural: 'widgets', kind: 'Widget', namespaced: true };

export interface Widget extends KubeObject {
  spec: { group?: string; valid?: boolean; value?: string };
  status?: { id?: string; observedGeneration?: number; conditions?: Condition[] };
}

export interface Write {
  what: 'metadata' | 'status' | 'event';
  name: string;
  body: Record<string, unknown>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

export class FakeKube implements KubeTransport {
  readonly objects = new Map<string, Widget>();
  readonly writes: Write[] = [];
  readonly clock = new ManualClock(Date.UTC(2026, 10, 30));
  /** Makes the next metadata patch of this object fail with a 409, once per entry. */
  readonly conflicts: string[] = [];
  #rv = 1;
  #uid = 1;
  readonly client = new KubeClient(this);

  add(name: string, spec: Widget['spec'], extra: Partial<Widget['metadata']> = {}): Widget {
    const obj: Widget = {
      apiVersion: 'x.io/v1',
      kind: 'Widget',
      metadata: {
        name,
        namespace: 'ns',
        uid: `uid-${this.#uid++}`,
        generation: 1,
        resourceVersion: String(this.#rv++),
        creationTimestamp: new Date(this.clock.now() + this.#uid * 1000).toISOString(),
        ...extra,
      },
      spec,
    };
    this.objects.set(objectKey(obj), obj);
    return obj;
  }

  get(name: string): Widget {
    const o = this.objects.get(`ns/${name}`);
    if (!o) throw new Error(`no widget ${name}`);
    return o;
  }

  request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const body = (opts.body ?? {}) as Record<string, unknown>;
    if (path.includes('/events')) {
      this.writes.push({ what: 'event', name: String((body['regarding'] as { name?: string } | undefined)?.name ?? ''), body });
      return Promise.resolve(body as T);
    }
    const m = /\/(?:widgets|floatingipclaims|ipprefixclaims)\/([^/]+)(\/status)?$/.exec(path);
    if (!m || method !== 'PATCH') return Promise.reject(new KubeApiError(method, path, 404, { reason: 'NotFound' }));
    const name = decodeURIComponent(m[1] ?? '');
    const obj = this.objects.get(`ns/${name}`);
    if (!obj) return Promise.reject(new KubeApiError(method, path, 404, { reason: 'NotFound', message: 'not found' }));
    const status = !!m[2];
    const meta = (body['metadata'] ?? {}) as Record<string, unknown>;
    const i = this.conflicts.indexOf(name);
    if (!status && i >= 0) {
      this.conflicts.splice(i, 1);
      return Promise.reject(new KubeApiError(method, path, 409, { reason: 'Conflict', message: 'the object has been modified' }));
    }
    if (meta['resourceVersion'] !== undefined && meta['resourceVersion'] !== obj.metadata?.resourceVersion) {
      return Promise.reject(new KubeApiError(method, path, 409, { reason: 'Conflict', message: 'the object has been modified' }));
    }
    const patch = status ? { status: body['status'] } : { ...body, metadata: { ...meta, resourceVersion: undefined } };
    const next = applyMergePatch(obj, patch) as Widget;
    next.metadata = { ...next.metadata, resourceVersion: String(this.#rv++) };
    this.writes.push({ what: status ? 'status' : 'metadata', name, body });
    // A deleted object whose last finalizer goes is gone.
    if (next.metadata.deletionTimestamp && !next.metadata.finalizers?.length) this.objects.delete(`ns/${name}`);
    else this.objects.set(`ns/${name}`, next);
    return Promise.resolve(structuredClone(next) as T);
  }

  watch(): Promise<void> {
    return Promise.reject(new Error('not supported'));
  }

  /** An informer view of the store, with the indexes a controller definition declares. */
  informer(indexers: Record<string, (o: Widget) => string[]> = {}): SupervisedInformer<Widget> {
    const list = (): Widget[] => [...this.objects.values()].map((o) => structuredClone(o));
    const view = {
      get: (key: string) => {
        const o = this.objects.get(key);
        return o ? structuredClone(o) : undefined;
      },
      list: () => list(),
      keys: () => [...this.objects.keys()],
      byIndex: (index: string, value: string) => list().filter((o) => indexers[index]?.(o).includes(value)),
    };
    return view as unknown as SupervisedInformer<Widget>;
  }

  context(key: string, indexers: Record<string, (o: Widget) => string[]> = {}): ReconcileContext<Widget> {
    const informer = this.informer(indexers);
    return {
      key,
      byIndex: (name, value) => informer.byIndex(name, value),
      log: createLogger({ level: 'silent' }),
      signal: new AbortController().signal,
      informer,
      status: new StatusWriter(this.client, widgets, this.clock),
      events: new EventRecorder({ client: this.client, clock: this.clock, controller: 'x.io/widgets', instance: 'test' }),
      finalizers: new FinalizerHelper(this.client, widgets),
      client: this.client,
    };
  }

  condition(name: string, type: string): { status: string; reason: string } | undefined {
    return this.objects.get(`ns/${name}`)?.status?.conditions?.find((c) => c.type === type);
  }

  /** The kinds of writes made to one object, in order ('finalizer', 'pending', 'pending-cleared', 'status'). */
  steps(name: string): string[] {
    return this.writes
      .filter((w) => w.name === name && w.what !== 'event')
      .map((w) => {
        if (w.what === 'status') return 'status';
        const meta = (w.body['metadata'] ?? {}) as { finalizers?: unknown; annotations?: Record<string, unknown> };
        const pending = meta.annotations?.['vcd-operator.io/create-pending'];
        const parts: string[] = [];
        if (meta.finalizers !== undefined) parts.push((meta.finalizers as string[] | null)?.length ? 'finalizer' : 'finalizer-removed');
        if (pending !== undefined) parts.push(pending === null ? 'pending-cleared' : 'pending');
        return parts.join('+') || 'metadata';
      });
  }
}
