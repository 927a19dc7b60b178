// What the API groups (IP Spaces, edges, firewall) share: the transport, the per-object write
// locks, and the tenant context of the view they belong to. Also the create/update/delete shapes
// common to CloudAPI objects, so each group states only paths and meaning.
import type { KeyedMutex } from '../common/limits.ts';
import { VcdApiError, VcdNotFoundError } from './errors.ts';
import { requireFeature, type Feature } from './versions.ts';
import type { TaskOptions, TenantContext, VcdTransport } from './transport.ts';
import type { VcdTask } from './task.ts';

export interface VcdContext {
  transport: VcdTransport;
  locks: KeyedMutex;
  /** Tenant headers for a provider acting in an org; undefined for a plain connection. */
  tenant(): Promise<TenantContext | undefined>;
}

export function requireVersion(ctx: VcdContext, feature: Feature, operation: string): void {
  requireFeature(ctx.transport.apiVersion, feature, operation);
}

/** POST to a collection, wait for the task, and read the created entity named by the task's Owner. */
export async function createEntity<T>(ctx: VcdContext, operation: string, collection: string, body: unknown, opts: TaskOptions = {}): Promise<T> {
  const tenant = await ctx.tenant();
  const { response, task } = await ctx.transport.callAndWait({ operation, method: 'POST', path: collection, body, idempotent: false, tenant }, opts);
  if (!task) return response.data as T;
  const id = ownerId(operation, task);
  return ctx.transport.getJson<T>({ operation: `${operation}.read`, path: `${collection}/${encodeURIComponent(id)}`, tenant });
}

/** PUT a whole object (safe to repeat), wait for the task, and return the object as stored. */
export async function updateEntity<T>(ctx: VcdContext, operation: string, path: string, body: unknown, opts: TaskOptions = {}): Promise<T> {
  const tenant = await ctx.tenant();
  const { response, task } = await ctx.transport.callAndWait({ operation, method: 'PUT', path, body, idempotent: true, tenant }, opts);
  if (!task && response.data !== undefined) return response.data as T;
  return ctx.transport.getJson<T>({ operation: `${operation}.read`, path, tenant });
}

/**
 * DELETE a known object and wait for the task. Resolves true when it was deleted and false when it
 * was already gone, so a retry after a lost response is harmless.
 */
export async function deleteEntity(ctx: VcdContext, operation: string, path: string, opts: TaskOptions = {}): Promise<boolean> {
  const tenant = await ctx.tenant();
  try {
    await ctx.transport.callAndWait({ operation, method: 'DELETE', path, idempotent: true, tenant }, opts);
    return true;
  } catch (err) {
    if (err instanceof VcdNotFoundError) return false;
    throw err;
  }
}

export function ownerId(operation: string, task: VcdTask): string {
  const id = task.owner?.id;
  if (!id) {
    throw new VcdApiError({
      operation,
      status: 200,
      minorErrorCode: undefined,
      serverMessage: 'the task succeeded but names no Owner entity',
      requestId: undefined,
    });
  }
  return id;
}

/** FIQL AND of the parts that are set. */
export function andFilter(...parts: (string | undefined)[]): string | undefined {
  const set = parts.filter((p): p is string => p !== undefined && p !== '');
  return set.length ? set.join(';') : undefined;
}

/** VCD cannot parse these inside a FIQL value; such names are matched client-side instead. */
export function needsClientSideMatch(value: string): boolean {
  return /[,;()+* ]/.test(value);
}
