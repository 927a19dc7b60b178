// VCD's legacy tasks: every CloudAPI write answers 202 with `Location: .../api/task/{id}`, and the
// task moves queued → running → success | error over the configured duration. Status is derived
// from the clock when read, so no timers run and tests can drive time.
import { randomUUID } from 'node:crypto';
import { esc } from './xml.ts';

export interface TaskRef {
  id: string;
  name: string;
  type: string;
}

export interface TaskError {
  majorErrorCode: number;
  minorErrorCode: string;
  message: string;
}

export interface TaskRecord {
  uuid: string;
  operation: string;
  operationName: string;
  owner: TaskRef;
  user: TaskRef;
  org: TaskRef;
  startedAt: number;
  endsAt: number;
  cancelled: boolean;
  error?: TaskError;
  details?: string;
  /** ResultContent text (allocation results as a JSON array). */
  result?: string;
}

export type TaskStatus = 'queued' | 'running' | 'success' | 'error' | 'aborted';

export interface TaskInput {
  operation: string;
  operationName: string;
  owner: TaskRef;
  user: TaskRef;
  org: TaskRef;
  durationMs: number;
  error?: TaskError;
  details?: string;
  result?: string;
}

const PRUNE_ABOVE = 10_000;
const TASK_RETENTION_MS = 3_600_000;

export class TaskStore {
  #tasks = new Map<string, TaskRecord>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  create(input: TaskInput): TaskRecord {
    const now = this.#now();
    this.#prune(now);
    const { durationMs, ...rest } = input;
    const t: TaskRecord = { uuid: randomUUID(), startedAt: now, endsAt: now + durationMs, cancelled: false, ...rest };
    this.#tasks.set(t.uuid, t);
    return t;
  }

  /** Forgets tasks that ended over an hour ago, oldest first, so a long-running simulator stays small. */
  #prune(now: number): void {
    if (this.#tasks.size < PRUNE_ABOVE) return;
    for (const [uuid, t] of this.#tasks) {
      if (t.endsAt > now - TASK_RETENTION_MS) break;
      this.#tasks.delete(uuid);
    }
  }

  get(uuid: string): TaskRecord | undefined {
    return this.#tasks.get(uuid);
  }

  status(t: TaskRecord): TaskStatus {
    const now = this.#now();
    if (t.cancelled) return 'aborted';
    if (now >= t.endsAt) return t.error ? 'error' : 'success';
    // The first fifth of a task is spent queued, as VCD queues before it starts work.
    return now < t.startedAt + (t.endsAt - t.startedAt) / 5 ? 'queued' : 'running';
  }

  progress(t: TaskRecord): number {
    const span = t.endsAt - t.startedAt;
    if (span <= 0) return 100;
    return Math.max(0, Math.min(100, Math.floor(((this.#now() - t.startedAt) / span) * 100)));
  }

  /** Whether the task still holds its entity (edge busy, IP Space serialised). */
  running(t: TaskRecord): boolean {
    return !t.cancelled && this.#now() < t.endsAt;
  }

  cancel(t: TaskRecord): void {
    if (this.running(t)) t.cancelled = true;
  }

  clear(): void {
    this.#tasks.clear();
  }

  count(): number {
    return this.#tasks.size;
  }

  /** Every task still held, oldest first (the query service filters them). */
  all(): IterableIterator<TaskRecord> {
    return this.#tasks.values();
  }
}

/**
 * A task's name in the query service: its operation code in camelCase, as VCD names the route
 * advertisement task `ipSpaceUplinkRouteAdvertisementSync` for IP_SPACE_UPLINK_ROUTE_ADVERTISEMENT_SYNC.
 */
export function taskQueryName(t: TaskRecord): string {
  return t.operation.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function refAttrs(base: string, r: TaskRef): string {
  return `href="${esc(refHref(base, r))}" id="${esc(r.id)}" name="${esc(r.name)}" type="${esc(r.type)}"`;
}

function refHref(base: string, r: TaskRef): string {
  return `${base}/cloudapi/entity/${r.id}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The task as the legacy API renders it in XML (what govcd parses). */
export function taskXml(store: TaskStore, t: TaskRecord, base: string): string {
  const status = store.status(t);
  const done = status === 'success' || status === 'error' || status === 'aborted';
  const href = `${base}/api/task/${t.uuid}`;
  const attrs = [
    `xmlns="http://www.vmware.com/vcloud/v1.5"`,
    `xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"`,
    `cancelRequested="${t.cancelled}"`,
    done ? `endTime="${iso(t.endsAt)}"` : '',
    `expiryTime="${iso(t.startedAt + 30 * 86_400_000)}"`,
    `operation="${esc(t.operation)}"`,
    `operationName="${esc(t.operationName)}"`,
    `serviceNamespace="com.vmware.cloud"`,
    `startTime="${iso(t.startedAt)}"`,
    `status="${status}"`,
    `name="task"`,
    `id="urn:vcloud:task:${t.uuid}"`,
    `href="${href}"`,
    `type="application/vnd.vmware.vcloud.task+xml"`,
  ].filter(Boolean);
  const parts = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<Task ${attrs.join(' ')}>`,
    done ? '' : `  <Link rel="task:cancel" href="${href}/action/cancel"/>`,
    `  <Owner ${refAttrs(base, t.owner)}/>`,
    status === 'error' && t.error
      ? `  <Error majorErrorCode="${t.error.majorErrorCode}" message="${esc(t.error.message)}" minorErrorCode="${esc(t.error.minorErrorCode)}"/>`
      : '',
    `  <User ${refAttrs(base, t.user)}/>`,
    `  <Organization ${refAttrs(base, t.org)}/>`,
    `  <Progress>${store.progress(t)}</Progress>`,
    t.details !== undefined ? `  <Details>${esc(t.details)}</Details>` : '',
    status === 'success' && t.result !== undefined
      ? `  <Result><ResultContent xmlns:xs="http://www.w3.org/2001/XMLSchema" xsi:type="xs:string">${esc(t.result)}</ResultContent></Result>`
      : '',
    `</Task>`,
  ];
  return parts.filter((p) => p !== '').join('\n') + '\n';
}

/** The same task for `Accept: application/*+json`. */
export function taskJson(store: TaskStore, t: TaskRecord, base: string): Record<string, unknown> {
  const status = store.status(t);
  const done = status === 'success' || status === 'error' || status === 'aborted';
  const ref = (r: TaskRef): Record<string, unknown> => ({ href: refHref(base, r), id: r.id, name: r.name, type: r.type });
  return {
    href: `${base}/api/task/${t.uuid}`,
    type: 'application/vnd.vmware.vcloud.task+json',
    id: `urn:vcloud:task:${t.uuid}`,
    name: 'task',
    operation: t.operation,
    operationName: t.operationName,
    serviceNamespace: 'com.vmware.cloud',
    status,
    startTime: iso(t.startedAt),
    endTime: done ? iso(t.endsAt) : null,
    cancelRequested: t.cancelled,
    owner: ref(t.owner),
    user: ref(t.user),
    organization: ref(t.org),
    progress: store.progress(t),
    details: t.details ?? null,
    error: status === 'error' && t.error ? { ...t.error } : null,
    result: status === 'success' && t.result !== undefined ? { resultContent: t.result } : null,
  };
}
