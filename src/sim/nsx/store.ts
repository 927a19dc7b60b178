// The NSX policy tree: objects keyed by policy path (/infra/tier-1s/t1/locale-services/default),
// with NSX's write semantics. Every object carries `_revision`: 0 on create, +1 on each update.
// PUT replaces and must quote the current `_revision`; PATCH merges top-level fields, creates when
// absent, and checks `_revision` only when the body has one (reference A3, A9).
import { randomUUID } from 'node:crypto';
import { NsxApiError } from './errors.ts';

export type NsxObject = Record<string, unknown> & {
  id: string;
  path: string;
  resource_type: string;
  _revision: number;
};

/** Fields the server owns; whatever a client sends for them is ignored (reference A3). */
const SERVER_FIELDS = new Set([
  'id',
  'path',
  'parent_path',
  'relative_path',
  'resource_type',
  'unique_id',
  'realization_id',
  'marked_for_delete',
  'overridden',
  '_revision',
  '_create_time',
  '_create_user',
  '_last_modified_time',
  '_last_modified_user',
  '_system_owned',
  '_protection',
  '_links',
  '_schema',
  '_self',
]);

export interface WriteContext {
  nowMs: number;
  user: string;
}

export interface StoreOptions {
  /** HTTP status of a stale-revision rejection: 412 on NSX 3.x/4.x Policy; some builds answer 400/409. */
  staleRevisionStatus: number;
  staleRevisionErrorCode: number;
}

export class PolicyStore {
  readonly #opts: StoreOptions;
  #objects = new Map<string, NsxObject>();

  constructor(opts: StoreOptions) {
    this.#opts = opts;
  }

  get(path: string): NsxObject | undefined {
    return this.#objects.get(path);
  }

  has(path: string): boolean {
    return this.#objects.has(path);
  }

  /** Direct children under `collectionPath` (e.g. /infra/tier-0s/t0/locale-services), by id. */
  list(collectionPath: string): NsxObject[] {
    const prefix = `${collectionPath}/`;
    const out: NsxObject[] = [];
    for (const [path, obj] of this.#objects) {
      if (path.startsWith(prefix) && !path.slice(prefix.length).includes('/')) out.push(obj);
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  all(): NsxObject[] {
    return [...this.#objects.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /**
   * The object a PUT (replace) or PATCH (merge) would produce, without storing it, so a handler
   * can validate a whole batch before committing any of it. Throws the stale-revision error.
   */
  prepare(mode: 'put' | 'patch', path: string, resourceType: string, body: Record<string, unknown>, ctx: WriteContext): NsxObject {
    const existing = this.#objects.get(path);
    const given = body._revision;
    if (existing && (mode === 'put' || given !== undefined) && given !== existing._revision) {
      throw new NsxApiError(
        this.#opts.staleRevisionStatus,
        this.#opts.staleRevisionErrorCode,
        given === undefined
          ? `The object ${path} has revision ${existing._revision}; a PUT must quote it in _revision.`
          : `The object ${path} was modified by someone else (revision ${existing._revision}, request had ${JSON.stringify(given)}). Read it again and retry.`,
      );
    }
    const clientFields = Object.fromEntries(Object.entries(body).filter(([k]) => !SERVER_FIELDS.has(k)));
    const base = mode === 'patch' && existing ? stripServerFields(existing) : {};
    const id = path.slice(path.lastIndexOf('/') + 1);
    const parentPath = path.slice(0, path.lastIndexOf('/', path.lastIndexOf('/') - 1)) || '/infra';
    const uniqueId = (existing?.unique_id as string | undefined) ?? randomUUID();
    return {
      display_name: id,
      ...base,
      ...clientFields,
      resource_type: resourceType,
      id,
      path,
      relative_path: id,
      parent_path: parentPath,
      unique_id: uniqueId,
      realization_id: uniqueId,
      marked_for_delete: false,
      overridden: false,
      _create_time: existing?._create_time ?? ctx.nowMs,
      _create_user: existing?._create_user ?? ctx.user,
      _last_modified_time: ctx.nowMs,
      _last_modified_user: ctx.user,
      _system_owned: false,
      _protection: 'NOT_PROTECTED',
      _revision: existing ? existing._revision + 1 : 0,
    };
  }

  commit(obj: NsxObject): void {
    this.#objects.set(obj.path, obj);
  }

  /** Removes the object and everything under it; returns whether it existed. */
  delete(path: string): boolean {
    if (!this.#objects.delete(path)) return false;
    const prefix = `${path}/`;
    for (const p of [...this.#objects.keys()]) if (p.startsWith(prefix)) this.#objects.delete(p);
    return true;
  }

  /** Objects outside `path`'s subtree whose fields mention `path` or a path inside it. */
  referrers(path: string): string[] {
    const prefix = `${path}/`;
    const inside = (p: string): boolean => p === path || p.startsWith(prefix);
    const out: string[] = [];
    for (const obj of this.#objects.values()) {
      if (inside(obj.path)) continue;
      if (mentions(stripServerFields(obj), inside)) out.push(obj.path);
    }
    return out;
  }

  clear(): void {
    this.#objects.clear();
  }
}

function stripServerFields(obj: NsxObject): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([k]) => !SERVER_FIELDS.has(k)));
}

function mentions(value: unknown, test: (p: string) => boolean): boolean {
  if (typeof value === 'string') return test(value);
  if (Array.isArray(value)) return value.some((v) => mentions(v, test));
  if (value !== null && typeof value === 'object') return Object.values(value).some((v) => mentions(v, test));
  return false;
}
