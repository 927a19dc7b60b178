// VCD's task records through the legacy query service (GET /api/query?type=task): how the
// operator finds the outcome of a write whose response it lost, or whose sender was killed,
// instead of waiting out a window. Records are filtered by task name and start time on the
// server, and by the object they act on here (VCD gives the object as an href or a URN).
import type { VcdContext } from './context.ts';

export interface TaskRecordView {
  /** The task itself: GET it for its result. */
  href: string;
  name: string;
  status: string;
  /** The object the task acts on (an IP Space for an allocate), href or URN. */
  object: string;
  startDate: string;
}

/** Statuses after which a task changes nothing more. */
const DONE = new Set(['success', 'error', 'aborted']);

export function taskFinished(t: TaskRecordView): boolean {
  return DONE.has(t.status.toLowerCase());
}

/** The bare UUID at the end of a URN or an href. */
function tailUuid(ref: string): string {
  const m = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/?$/i.exec(ref);
  return (m?.[1] ?? ref).toLowerCase();
}

interface QueryRecords {
  record?: Array<Partial<TaskRecordView>>;
  total?: number;
  pageSize?: number;
}

export class TasksApi {
  readonly #ctx: VcdContext;
  constructor(ctx: VcdContext) {
    this.#ctx = ctx;
  }

  /**
   * Tasks named `name` (e.g. ipSpaceIpAllocate) started at or after `since` on object `objectId`,
   * as the caller's org sees them. Throws what the transport throws: a VCD without the query
   * service for the caller (a 4xx) tells the caller to fall back to waiting.
   */
  async recent(o: { name: string; objectId: string; since: Date }): Promise<TaskRecordView[]> {
    const want = tailUuid(o.objectId);
    const out: TaskRecordView[] = [];
    for (let page = 1; page <= 20; page++) {
      const res = await this.#ctx.transport.getJson<QueryRecords>({
        operation: 'tasks.query',
        path: '/api/query',
        query: { type: 'task', format: 'records', page, pageSize: 128, filter: `name==${o.name};startDate=ge=${o.since.toISOString()}` },
        accept: `application/*+json;version=${this.#ctx.transport.apiVersion}`,
        tenant: await this.#ctx.tenant(),
      });
      for (const r of res.record ?? []) {
        if (r.object && r.href && tailUuid(r.object) === want)
          out.push({ href: r.href, name: r.name ?? '', status: r.status ?? '', object: r.object, startDate: r.startDate ?? '' });
      }
      if ((res.record?.length ?? 0) < (res.pageSize ?? 128) || page * (res.pageSize ?? 128) >= (res.total ?? 0)) break;
    }
    return out;
  }
}
