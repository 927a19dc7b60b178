// The legacy query service, GET /api/query?type=..., for the types clients use here: org VDCs
// (govcd's GetVDCByName) and tasks (govcd's WaitForRouteAdvertisementTasks; an operator can also
// find the outcome of a write whose response was lost). Records are flat attribute sets filtered
// with FIQL; XML by default, JSON when asked for, paged as VCD pages them.
import type { Route, SimResponse } from '../core/types.ts';
import { type Call, type VcdContext, ok } from './context.ts';
import { VcdError, badRequest } from './errors.ts';
import { matchesFiql } from './fiql.ts';
import { pageParams, readFilter } from './paging.ts';
import { uuidOf } from './state.ts';
import { type TaskRecord, taskQueryName } from './tasks.ts';
import { VCLOUD_NS, attrs, xmlResponse } from './xml.ts';

type QueryRecord = Record<string, string>;

interface QueryType {
  /** The XML element of one record, and the JSON _type. */
  element: string;
  jsonType: string;
  providerOnly: boolean;
  records(call: Call): QueryRecord[];
}

export function queryRoutes(ctx: VcdContext): Route[] {
  const { state, tasks } = ctx;
  const orgHref = (base: string, orgId: string): string => `${base}/api/org/${uuidOf(orgId)}`;

  const vdcRecords = (call: Call, admin: boolean): QueryRecord[] =>
    [...state.vdcs.values()]
      .filter((v) => (admin ? true : call.caller.provider || v.orgId === call.caller.user.orgId))
      .map((v) => ({
        href: `${call.base}/api${admin ? '/admin' : ''}/vdc/${uuidOf(v.id)}`,
        name: v.name,
        orgName: state.orgName(v.orgId),
        org: orgHref(call.base, v.orgId),
        isEnabled: 'true',
        allocationModel: 'Flex',
        status: 'READY',
        isBusy: 'false',
      }));

  const taskRecord = (call: Call, t: TaskRecord): QueryRecord => {
    const status = tasks.status(t);
    const done = status === 'success' || status === 'error' || status === 'aborted';
    const rec: QueryRecord = {
      href: `${call.base}/api/task/${t.uuid}`,
      id: `urn:vcloud:task:${t.uuid}`,
      name: taskQueryName(t),
      operationFull: t.operationName,
      status,
      startDate: new Date(t.startedAt).toISOString(),
      object: t.owner.id,
      objectName: t.owner.name,
      objectType: t.owner.id.split(':')[2] ?? '',
      org: orgHref(call.base, t.org.id),
      orgName: t.org.name,
      ownerName: t.user.name,
      serviceNamespace: 'com.vmware.cloud',
      progress: String(tasks.progress(t)),
    };
    if (done) rec['endDate'] = new Date(t.endsAt).toISOString();
    return rec;
  };

  const TYPES: Record<string, QueryType> = {
    orgVdc: { element: 'OrgVdcRecord', jsonType: 'QueryResultOrgVdcRecordType', providerOnly: false, records: (call) => vdcRecords(call, false) },
    adminOrgVdc: { element: 'AdminVdcRecord', jsonType: 'QueryResultAdminVdcRecordType', providerOnly: true, records: (call) => vdcRecords(call, true) },
    // A tenant sees its own org's tasks; a provider in its own context the System org's.
    task: {
      element: 'TaskRecord',
      jsonType: 'QueryResultTaskRecordType',
      providerOnly: false,
      records: (call) => [...tasks.all()].filter((t) => t.org.id === call.caller.orgId).map((t) => taskRecord(call, t)),
    },
    adminTask: {
      element: 'AdminTaskRecord',
      jsonType: 'QueryResultAdminTaskRecordType',
      providerOnly: true,
      records: (call) => [...tasks.all()].map((t) => taskRecord(call, t)),
    },
  };

  const query = (call: Call): SimResponse => {
    const typeName = call.req.query.get('type') ?? '';
    const type = TYPES[typeName];
    if (!type) throw badRequest(`The query type "${typeName}" is not supported; use one of ${Object.keys(TYPES).join(', ')}.`);
    if (type.providerOnly && !call.caller.provider) {
      throw new VcdError(403, 'ACCESS_TO_RESOURCE_IS_FORBIDDEN', `The query type ${typeName} requires the System Administrator role.`);
    }
    const format = call.req.query.get('format') ?? 'records';
    if (format !== 'records') throw badRequest('Only format=records is supported.');
    const filter = readFilter(call.req);
    let list = type.records(call).filter((r) => !filter || matchesFiql(filter, r));
    const sortAsc = call.req.query.get('sortAsc');
    const sortDesc = call.req.query.get('sortDesc');
    if (sortAsc || sortDesc) {
      const key = (sortAsc ?? sortDesc) as string;
      list = list.sort((a, b) => (sortAsc ? 1 : -1) * (a[key] ?? '').localeCompare(b[key] ?? ''));
    }
    const { page, pageSize } = pageParams(call.req);
    const total = list.length;
    const values = list.slice((page - 1) * pageSize, page * pageSize);
    const pageCount = pageSize === 0 ? 0 : Math.ceil(total / pageSize);
    const link = (p: number, rel: string, json: boolean): { rel: string; href: string; type: string } => {
      const q = new URLSearchParams(call.req.query);
      q.set('page', String(p));
      q.set('pageSize', String(pageSize));
      return { rel, href: `${call.base}/api/query?${q.toString()}`, type: `application/vnd.vmware.vcloud.query.records+${json ? 'json' : 'xml'}` };
    };
    const rels = (json: boolean): Array<{ rel: string; href: string; type: string }> => {
      const out = [];
      if (page > 1) out.push(link(page - 1, 'previousPage', json));
      if (page < pageCount) out.push(link(page + 1, 'nextPage', json));
      if (pageCount > 0) out.push(link(pageCount, 'lastPage', json));
      return out;
    };
    const selfHref = `${call.base}/api/query?${call.req.query.toString()}`;

    if (/json/i.test(call.req.headers['accept'] ?? '')) {
      return ok({
        href: selfHref,
        type: 'application/vnd.vmware.vcloud.query.records+json',
        name: typeName,
        page,
        pageSize,
        total,
        link: rels(true),
        record: values.map((r) => ({ _type: type.jsonType, ...r })),
      });
    }
    const links = rels(false).map((l) => `  <Link ${attrs(l)}/>`);
    const records = values.map((r) => `  <${type.element} ${attrs(r)}/>`);
    const body = `<QueryResultRecords ${attrs({ xmlns: VCLOUD_NS, href: selfHref, name: typeName, page, pageSize, total, type: 'application/vnd.vmware.vcloud.query.records+xml' })}>\n${[...links, ...records].join('\n')}\n</QueryResultRecords>`;
    return xmlResponse(200, 'application/vnd.vmware.vcloud.query.records+xml', call.version, body);
  };

  return [{ method: 'GET', pattern: '/api/query', handler: ctx.api('33.0', query) }];
}
