// IP Spaces, their uplinks to provider gateways, org assignments (custom quotas), allocations
// and floating-IP suggestions.
import type { Route } from '../core/types.ts';
import { type Call, type VcdContext, ok } from './context.ts';
import { VcdError, badRequest, forbiddenUnknown } from './errors.ts';
import { requiredTerm, withoutTerms } from './fiql.ts';
import { cidrSize, formatIPv4 } from './ip.ts';
import {
  AllocationFailure,
  checkQuota,
  commitAllocations,
  newIpSpace,
  parseAllocateRequest,
  parseIpSpace,
  pickValues,
  releaseAllocation,
  utilization,
} from './ipspace-model.ts';
import { pagedResponse, readFilter } from './paging.ts';
import type { AllocationRec, IpSpaceRec, IpSpaceUplinkRec, OrgAssignmentRec, UplinkInterfaceRec, VcdState } from './state.ts';
import { urn } from './state.ts';
import { atLeast, gate } from './version.ts';

const API = '/cloudapi/1.0.0';
const IP_SPACE_MIN = '37.1';

/** Creates the org assignment VCD makes implicitly when an org gets an edge on an IP-Space gateway. */
export function ensureAssignments(state: VcdState, orgId: string, externalNetworkId: string): void {
  for (const u of state.uplinksOfNetwork(externalNetworkId)) {
    const s = state.ipSpaces.get(u.ipSpaceId);
    if (!s || s.type === 'PRIVATE' || state.assignmentFor(s.id, orgId)) continue;
    const a: OrgAssignmentRec = { id: urn('ipSpaceOrgAssignment'), ipSpaceId: s.id, orgId };
    state.orgAssignments.set(a.id, a);
  }
}

function defaultQuotas(s: IpSpaceRec): Record<string, unknown> {
  return {
    floatingIpQuota: s.defaultFloatingIpQuota,
    ipPrefixQuotas: s.prefixGroups.map((g) => ({ prefixLength: g.sequences[0]?.prefixLength ?? 0, quota: g.defaultQuota })),
  };
}

export function ipSpaceRoutes(ctx: VcdContext): Route[] {
  const { state } = ctx;
  /** For tenants (and providers in a tenant context) utilization is the org's own view. */
  const viewer = (call: Call): string | undefined => (call.caller.provider && call.caller.orgId === call.caller.user.orgId ? undefined : call.caller.orgId);

  const summary = (call: Call, s: IpSpaceRec): Record<string, unknown> => {
    const out: Record<string, unknown> = {
      status: 'REALIZED',
      id: s.id,
      name: s.name,
      description: s.description,
      type: s.type,
      utilization: utilization(state, s, viewer(call)),
    };
    if (s.orgId) out['orgRef'] = state.ref('org', s.orgId);
    return out;
  };

  const full = (call: Call, s: IpSpaceRec): Record<string, unknown> => {
    const perRange = new Map<string, number>();
    const perSeq = new Map<string, number>();
    for (const a of s.allocations.values()) {
      if (a.type === 'FLOATING_IP') {
        const r = s.ranges.find((x) => a.first >= x.start && a.first <= x.end);
        if (r) perRange.set(r.id, (perRange.get(r.id) ?? 0) + 1);
      } else {
        const q = s.prefixGroups
          .flatMap((g) => g.sequences)
          .find((x) => x.prefixLength === a.prefixLength && a.first >= x.start && a.first < x.start + x.count * cidrSize(x.prefixLength));
        if (q) perSeq.set(q.id, (perSeq.get(q.id) ?? 0) + 1);
      }
    }
    const pct = (n: number, total: number): number => (total === 0 ? 0 : Math.round((n / total) * 10000) / 100);
    const ranges = s.ranges.map((r) => {
      const total = r.end - r.start + 1;
      const used = perRange.get(r.id) ?? 0;
      return {
        id: r.id,
        startIpAddress: formatIPv4(r.start),
        endIpAddress: formatIPv4(r.end),
        totalIpCount: String(total),
        allocatedIpCount: String(used),
        allocatedIpPercentage: pct(used, total),
      };
    });
    const out: Record<string, unknown> = {
      ...summary(call, s),
      // The spec allows no empty ipRanges list: a space without ranges shows only its quota.
      ipSpaceRanges: { ...(ranges.length > 0 ? { ipRanges: ranges } : {}), defaultFloatingIpQuota: s.defaultFloatingIpQuota },
      ipSpacePrefixes: s.prefixGroups.map((g) => ({
        ipPrefixSequence: g.sequences.map((q) => {
          const used = perSeq.get(q.id) ?? 0;
          return {
            id: q.id,
            startingPrefixIpAddress: formatIPv4(q.start),
            prefixLength: q.prefixLength,
            totalPrefixCount: q.count,
            allocatedPrefixCount: used,
            allocatedPrefixPercentage: pct(used, q.count),
          };
        }),
        defaultQuotaForPrefixLength: g.defaultQuota,
      })),
      ipSpaceInternalScope: s.internalScope,
      routeAdvertisementEnabled: s.routeAdvertisementEnabled,
    };
    if (s.externalScope) out['ipSpaceExternalScope'] = s.externalScope;
    out['defaultGatewayServiceConfig'] = s.defaultGatewayServiceConfig ?? {
      enableDefaultFirewallRuleCreation: false,
      enableDefaultNoSnatRuleCreation: false,
      enableDefaultSnatRuleCreation: false,
    };
    return gate('IpSpace', out, call.version);
  };

  const renderAllocation = (a: AllocationRec): Record<string, unknown> => {
    const out: Record<string, unknown> = {
      id: a.id,
      type: a.type,
      value: a.value,
      allocationDate: a.allocationDate,
      orgRef: state.ref('org', a.orgId),
      usageState: a.usageState,
      description: a.description,
      usageCategories: [],
    };
    if (a.usedByRef) out['usedByRef'] = a.usedByRef;
    return out;
  };

  const renderUplink = (u: IpSpaceUplinkRec, version: string): Record<string, unknown> =>
    gate(
      'IpSpaceUplink',
      {
        status: 'REALIZED',
        id: u.id,
        name: u.name,
        description: u.description,
        externalNetworkRef: state.ref('extnet', u.externalNetworkId),
        ipSpaceRef: state.ref('ipSpace', u.ipSpaceId),
        ipSpaceType: state.ipSpaces.get(u.ipSpaceId)?.type,
        interfaces: (u.interfaces ?? []).map((i) => ({ ...i })),
      },
      version,
    );

  /** API 38.0+ `interfaces`: kept as given; absent (or an older client's write) keeps what is there. */
  const parseInterfaces = (call: Call, raw: unknown, current: UplinkInterfaceRec[] | undefined): UplinkInterfaceRec[] | undefined => {
    if (!atLeast(call.version, '38.0') || raw === undefined || raw === null) return current;
    if (!Array.isArray(raw)) throw badRequest('interfaces must be a list');
    return raw.map((i, n) => {
      const o = (i ?? {}) as Record<string, unknown>;
      if (typeof o['id'] !== 'string' || o['id'] === '') throw badRequest(`interfaces[${n}].id is required`);
      const rec: UplinkInterfaceRec = { id: o['id'] };
      if (typeof o['name'] === 'string') rec.name = o['name'];
      if (typeof o['interfaceType'] === 'string') rec.interfaceType = o['interfaceType'];
      return rec;
    });
  };

  const renderAssignment = (a: OrgAssignmentRec): Record<string, unknown> => {
    const s = state.ipSpaces.get(a.ipSpaceId) as IpSpaceRec;
    const out: Record<string, unknown> = {
      id: a.id,
      ipSpaceRef: state.ref('ipSpace', a.ipSpaceId),
      orgRef: state.ref('org', a.orgId),
      ipSpaceType: s.type,
      defaultQuotas: defaultQuotas(s),
    };
    if (a.customFloatingIpQuota !== undefined || a.customPrefixQuotas) {
      const custom: Record<string, unknown> = {};
      if (a.customFloatingIpQuota !== undefined) custom['floatingIpQuota'] = a.customFloatingIpQuota;
      custom['ipPrefixQuotas'] = [...(a.customPrefixQuotas ?? new Map<number, number>()).entries()].map(([prefixLength, quota]) => ({ prefixLength, quota }));
      out['customQuotas'] = custom;
    }
    return out;
  };

  const allocationOf = (call: Call, s: IpSpaceRec, id: string): AllocationRec => {
    const a = s.allocations.get(id);
    const v = viewer(call);
    if (!a || (v !== undefined && a.orgId !== v)) throw forbiddenUnknown(id);
    return a;
  };

  const spaceOwner = (s: IpSpaceRec) => ({ id: s.id, name: s.name, type: 'application/json' });

  const applyCustomQuotas = (a: OrgAssignmentRec, body: unknown): void => {
    const custom = (body as { customQuotas?: unknown } | undefined)?.customQuotas;
    delete a.customFloatingIpQuota;
    delete a.customPrefixQuotas;
    if (custom === null || custom === undefined) return;
    if (typeof custom !== 'object') throw badRequest('customQuotas must be an object');
    const c = custom as { floatingIpQuota?: unknown; ipPrefixQuotas?: unknown };
    if (c.floatingIpQuota !== undefined && c.floatingIpQuota !== null) {
      if (typeof c.floatingIpQuota !== 'number' || !Number.isInteger(c.floatingIpQuota) || c.floatingIpQuota < -1)
        throw badRequest('floatingIpQuota must be an integer ≥ -1');
      a.customFloatingIpQuota = c.floatingIpQuota;
    }
    if (Array.isArray(c.ipPrefixQuotas)) {
      const m = new Map<number, number>();
      for (const q of c.ipPrefixQuotas as Array<{ prefixLength?: unknown; quota?: unknown }>) {
        if (typeof q.prefixLength !== 'number') throw badRequest('ipPrefixQuotas[].prefixLength is required');
        if (q.quota === undefined || q.quota === null) continue;
        if (typeof q.quota !== 'number' || q.quota < -1) throw badRequest('ipPrefixQuotas[].quota must be an integer ≥ -1');
        m.set(q.prefixLength, q.quota);
      }
      a.customPrefixQuotas = m;
    }
  };

  const routes: Route[] = [
    {
      method: 'GET',
      pattern: `${API}/ipSpaces/summaries`,
      handler: ctx.api(IP_SPACE_MIN, (call) =>
        pagedResponse(
          call.req,
          [...state.ipSpaces.values()].filter((s) => ctx.ipSpaceVisible(call.caller, s)).map((s) => summary(call, s)),
          { model: 'IpSpaceSummary', base: call.base },
        ),
      ),
    },
    {
      method: 'POST',
      pattern: `${API}/ipSpaces`,
      handler: ctx.api(IP_SPACE_MIN, (call) => {
        ctx.requireProvider(call);
        const fields = parseIpSpace(state, call.req.body, undefined, call.version);
        for (const s of state.ipSpaces.values()) {
          if (s.name === fields.name && s.type === fields.type && s.orgId === fields.orgId)
            throw badRequest(`An IP Space named ${fields.name} already exists.`);
        }
        const s = newIpSpace(urn('ipSpace'), fields);
        return ctx.accepted(call, {
          operation: 'IP_SPACE_CREATE',
          operationName: 'Creating IP Space',
          owner: spaceOwner(s),
          work: () => void state.ipSpaces.set(s.id, s),
        });
      }),
    },
    {
      method: 'GET',
      pattern: `${API}/ipSpaces/{id}`,
      handler: ctx.api(IP_SPACE_MIN, (call) => ok(full(call, ctx.ipSpace(call, call.req.params['id'] ?? '')))),
    },
    {
      method: 'PUT',
      pattern: `${API}/ipSpaces/{id}`,
      handler: ctx.api(IP_SPACE_MIN, (call) => {
        const s = ctx.ipSpace(call, call.req.params['id'] ?? '');
        ctx.requireProvider(call);
        const fields = parseIpSpace(state, call.req.body, s, call.version);
        const res = ctx.accepted(call, {
          operation: 'IP_SPACE_UPDATE',
          operationName: 'Updating IP Space',
          owner: spaceOwner(s),
          lock: { ipSpace: s },
          work: () => void Object.assign(s, fields),
        });
        if ([...state.ipSpaceUplinks.values()].some((u) => u.ipSpaceId === s.id)) ctx.startRouteAdvertisementSync(call, s);
        return res;
      }),
    },
    {
      method: 'DELETE',
      pattern: `${API}/ipSpaces/{id}`,
      handler: ctx.api(IP_SPACE_MIN, (call) => {
        const s = ctx.ipSpace(call, call.req.params['id'] ?? '');
        ctx.requireProvider(call);
        if (s.allocations.size > 0) throw badRequest(`The IP Space ${s.name} still has ${s.allocations.size} allocation(s).`);
        return ctx.accepted(call, {
          operation: 'IP_SPACE_DELETE',
          operationName: 'Deleting IP Space',
          owner: spaceOwner(s),
          work: () => {
            state.ipSpaces.delete(s.id);
            for (const [id, a] of state.orgAssignments) if (a.ipSpaceId === s.id) state.orgAssignments.delete(id);
            for (const [id, u] of state.ipSpaceUplinks) if (u.ipSpaceId === s.id) state.ipSpaceUplinks.delete(id);
          },
        });
      }),
    },
    {
      method: 'POST',
      pattern: `${API}/ipSpaces/{id}/allocate`,
      handler: ctx.api(IP_SPACE_MIN, (call) => {
        const s = ctx.ipSpace(call, call.req.params['id'] ?? '');
        const request = parseAllocateRequest(call.req.body, atLeast(call.version, '37.2'));
        const orgId = call.caller.orgId;
        if (s.type === 'SHARED_SERVICES' && !call.caller.provider) {
          throw new VcdError(403, 'ACCESS_TO_RESOURCE_IS_FORBIDDEN', 'This operation is denied: only a provider allocates from a SHARED_SERVICES IP Space.');
        }
        if (s.type === 'PUBLIC' && !state.assignmentFor(s.id, orgId)) {
          throw badRequest(
            `This operation is denied: the organization ${state.orgName(orgId)} has no edge gateway on a provider gateway of IP Space ${s.name}${call.caller.provider ? ' (a provider allocates for an org through the tenant-context header)' : ''}.`,
          );
        }
        return ctx.accepted(call, {
          operation: 'IP_SPACE_IP_ALLOCATE',
          operationName: 'Allocating IP Space IPs',
          owner: spaceOwner(s),
          lock: { ipSpace: s },
          work: () => {
            try {
              const picks = pickValues(s, request);
              const bypass = call.caller.provider && ctx.core.knobs.providerBypassesQuota;
              if (!bypass)
                checkQuota(state, s, orgId, request, picks.length, request.type === 'IP_PREFIX' ? (picks[0]?.prefixLength ?? request.prefixLength) : undefined);
              const made = commitAllocations(s, orgId, request.type, picks, ctx.now());
              return { result: JSON.stringify(made.map((a) => ({ id: a.id, value: a.value, suggestedValue: a.value }))) };
            } catch (err) {
              if (err instanceof AllocationFailure) return { error: { majorErrorCode: 400, minorErrorCode: err.minorErrorCode, message: err.message } };
              throw err;
            }
          },
        });
      }),
    },
    {
      method: 'GET',
      pattern: `${API}/ipSpaces/{id}/allocations`,
      handler: ctx.api(IP_SPACE_MIN, (call) => {
        const s = ctx.ipSpace(call, call.req.params['id'] ?? '');
        const filter = readFilter(call.req);
        const type = requiredTerm(filter, 'type');
        if (type !== 'FLOATING_IP' && type !== 'IP_PREFIX') throw badRequest('The filter must include type==FLOATING_IP or type==IP_PREFIX.');
        const v = viewer(call);
        const items: object[] = [];
        for (const a of s.allocations.values()) if (a.type === type && (v === undefined || a.orgId === v)) items.push(renderAllocation(a));
        return pagedResponse(call.req, items, { model: 'IpSpaceIpAllocation', base: call.base, filter });
      }),
    },
    {
      method: 'GET',
      pattern: `${API}/ipSpaces/{id}/allocations/{allocationId}`,
      handler: ctx.api(IP_SPACE_MIN, (call) => {
        const s = ctx.ipSpace(call, call.req.params['id'] ?? '');
        return ok(renderAllocation(allocationOf(call, s, call.req.params['allocationId'] ?? '')));
      }),
    },
    {
      method: 'PUT',
      pattern: `${API}/ipSpaces/{id}/allocations/{allocationId}`,
      handler: ctx.api(IP_SPACE_MIN, (call) => {
        const s = ctx.ipSpace(call, call.req.params['id'] ?? '');
        const a = allocationOf(call, s, call.req.params['allocationId'] ?? '');
        const b = call.req.body as Record<string, unknown> | undefined;
        if (!b || typeof b !== 'object') throw badRequest('body is required');
        const state2 = b['usageState'];
        if (state2 !== 'UNUSED' && state2 !== 'USED_MANUAL') throw badRequest('usageState must be UNUSED or USED_MANUAL (USED is set by the system)');
        if (a.usageState === 'USED') throw badRequest(`The allocation ${a.value} is used by the system and cannot be changed.`);
        if (b['value'] !== undefined && b['value'] !== a.value) throw badRequest('value cannot be changed');
        if (b['type'] !== undefined && b['type'] !== a.type) throw badRequest('type cannot be changed');
        const description = typeof b['description'] === 'string' ? b['description'] : '';
        return ctx.accepted(call, {
          operation: 'IP_SPACE_IP_ALLOCATION_UPDATE',
          operationName: 'Updating IP Space IP allocation',
          owner: { id: a.id, name: a.value, type: 'application/json' },
          ...(ctx.core.knobs.allocationWritesLockIpSpace ? { lock: { ipSpace: s } } : {}),
          work: () => {
            a.usageState = state2;
            a.description = description;
          },
        });
      }),
    },
    {
      method: 'DELETE',
      pattern: `${API}/ipSpaces/{id}/allocations/{allocationId}`,
      handler: ctx.api(IP_SPACE_MIN, (call) => {
        const s = ctx.ipSpace(call, call.req.params['id'] ?? '');
        const a = allocationOf(call, s, call.req.params['allocationId'] ?? '');
        if (a.usageState !== 'UNUSED' && ctx.core.knobs.rejectDeleteOfUsedAllocation) {
          throw badRequest(`The allocation ${a.value} is ${a.usageState}; mark it UNUSED before releasing it.`);
        }
        return ctx.accepted(call, {
          operation: 'IP_SPACE_IP_ALLOCATION_DELETE',
          operationName: 'Releasing IP Space IP allocation',
          owner: { id: a.id, name: a.value, type: 'application/json' },
          ...(ctx.core.knobs.allocationWritesLockIpSpace ? { lock: { ipSpace: s } } : {}),
          work: () => releaseAllocation(s, a),
        });
      }),
    },
    {
      method: 'GET',
      pattern: `${API}/ipSpaces/floatingIpSuggestions`,
      handler: ctx.api(IP_SPACE_MIN, (call) => {
        const filter = readFilter(call.req);
        const gatewayId = requiredTerm(filter, 'gatewayId');
        if (!gatewayId) throw badRequest('The filter must include gatewayId==<edge gateway id>.');
        const ipType = requiredTerm(filter, 'ipType');
        const edge = ctx.edge(call, gatewayId);
        const items =
          ipType === 'IPV6'
            ? []
            : state.ipSpacesOfEdge(edge).map((s) => {
                const unusedValues: string[] = [];
                for (const a of s.allocations.values()) {
                  if (unusedValues.length >= 5) break;
                  if (a.type === 'FLOATING_IP' && a.orgId === edge.orgId && a.usageState === 'UNUSED') unusedValues.push(a.value);
                }
                return { ipSpaceRef: { id: s.id, name: s.name }, unusedValues };
              });
        return pagedResponse(call.req, items, { model: 'IpSpaceFloatingIpSuggestion', base: call.base, filter: withoutTerms(filter, ['gatewayId', 'ipType']) });
      }),
    },
    {
      method: 'GET',
      pattern: `${API}/ipSpaces/orgAssignments`,
      handler: ctx.api(IP_SPACE_MIN, (call) => {
        const filter = readFilter(call.req);
        const spaceId = requiredTerm(filter, 'ipSpaceRef.id');
        const orgId = requiredTerm(filter, 'orgRef.id');
        if (!spaceId && !orgId) throw badRequest('The filter must include ipSpaceRef.id or orgRef.id.');
        const onlyCustom = requiredTerm(filter, 'onlyIncludeCustomQuotas') === 'true';
        const v = viewer(call);
        const items = [...state.orgAssignments.values()]
          .filter((a) => (v === undefined || a.orgId === v) && (!onlyCustom || a.customFloatingIpQuota !== undefined || a.customPrefixQuotas !== undefined))
          .map(renderAssignment);
        return pagedResponse(call.req, items, { model: 'IpSpaceOrgAssignment', base: call.base, filter: withoutTerms(filter, ['onlyIncludeCustomQuotas']) });
      }),
    },
    {
      method: 'POST',
      pattern: `${API}/ipSpaces/orgAssignments`,
      handler: ctx.api(IP_SPACE_MIN, (call) => {
        ctx.requireProvider(call);
        const b = (call.req.body ?? {}) as { ipSpaceRef?: { id?: string }; orgRef?: { id?: string } };
        const s = state.ipSpaces.get(b.ipSpaceRef?.id ?? '');
        if (!s) throw forbiddenUnknown(b.ipSpaceRef?.id ?? '(ipSpaceRef)');
        const org = state.orgs.get(b.orgRef?.id ?? '');
        if (!org) throw forbiddenUnknown(b.orgRef?.id ?? '(orgRef)');
        if (state.assignmentFor(s.id, org.id)) throw badRequest(`The organization ${org.name} is already assigned to IP Space ${s.name}.`);
        const a: OrgAssignmentRec = { id: urn('ipSpaceOrgAssignment'), ipSpaceId: s.id, orgId: org.id };
        applyCustomQuotas(a, call.req.body);
        return ctx.accepted(call, {
          operation: 'IP_SPACE_ORG_ASSIGNMENT_CREATE',
          operationName: 'Creating IP Space org assignment',
          owner: { id: a.id, name: org.name, type: 'application/json' },
          work: () => void state.orgAssignments.set(a.id, a),
        });
      }),
    },
    {
      method: 'GET',
      pattern: `${API}/ipSpaces/orgAssignments/{id}`,
      handler: ctx.api(IP_SPACE_MIN, (call) => {
        const a = state.orgAssignments.get(call.req.params['id'] ?? '');
        const v = viewer(call);
        if (!a || (v !== undefined && a.orgId !== v)) throw forbiddenUnknown(call.req.params['id'] ?? '');
        return ok(renderAssignment(a));
      }),
    },
    {
      method: 'PUT',
      pattern: `${API}/ipSpaces/orgAssignments/{id}`,
      handler: ctx.api(IP_SPACE_MIN, (call) => {
        const a = state.orgAssignments.get(call.req.params['id'] ?? '');
        if (!a) throw forbiddenUnknown(call.req.params['id'] ?? '');
        ctx.requireProvider(call);
        const b = (call.req.body ?? {}) as { ipSpaceRef?: { id?: string }; orgRef?: { id?: string } };
        if ((b.ipSpaceRef?.id && b.ipSpaceRef.id !== a.ipSpaceId) || (b.orgRef?.id && b.orgRef.id !== a.orgId)) {
          throw badRequest('Only customQuotas of an org assignment can change.');
        }
        const next: OrgAssignmentRec = { ...a };
        applyCustomQuotas(next, call.req.body);
        return ctx.accepted(call, {
          operation: 'IP_SPACE_ORG_ASSIGNMENT_UPDATE',
          operationName: 'Updating IP Space org assignment',
          owner: { id: a.id, name: state.orgName(a.orgId), type: 'application/json' },
          work: () => void state.orgAssignments.set(a.id, next),
        });
      }),
    },
    {
      method: 'DELETE',
      pattern: `${API}/ipSpaces/orgAssignments/{id}`,
      handler: ctx.api(IP_SPACE_MIN, (call) => {
        const a = state.orgAssignments.get(call.req.params['id'] ?? '');
        if (!a) throw forbiddenUnknown(call.req.params['id'] ?? '');
        ctx.requireProvider(call);
        return ctx.accepted(call, {
          operation: 'IP_SPACE_ORG_ASSIGNMENT_DELETE',
          operationName: 'Deleting IP Space org assignment',
          owner: { id: a.id, name: state.orgName(a.orgId), type: 'application/json' },
          work: () => void state.orgAssignments.delete(a.id),
        });
      }),
    },
    {
      method: 'GET',
      pattern: `${API}/ipSpaceUplinks`,
      handler: ctx.api(IP_SPACE_MIN, (call) => {
        ctx.requireProvider(call);
        const filter = readFilter(call.req);
        if (!requiredTerm(filter, 'externalNetworkRef.id')) throw badRequest('The filter must include externalNetworkRef.id.');
        return pagedResponse(
          call.req,
          [...state.ipSpaceUplinks.values()].map((u) => renderUplink(u, call.version)),
          { model: 'IpSpaceUplink', base: call.base, filter },
        );
      }),
    },
    {
      method: 'POST',
      pattern: `${API}/ipSpaceUplinks`,
      handler: ctx.api(IP_SPACE_MIN, (call) => {
        ctx.requireProvider(call);
        const b = (call.req.body ?? {}) as { name?: unknown; description?: unknown; externalNetworkRef?: { id?: string }; ipSpaceRef?: { id?: string } };
        if (typeof b.name !== 'string' || b.name === '') throw badRequest('name is required');
        const net = state.externalNetworks.get(b.externalNetworkRef?.id ?? '');
        if (!net) throw forbiddenUnknown(b.externalNetworkRef?.id ?? '(externalNetworkRef)');
        if (net.kind !== 'TIER0' || !net.usingIpSpace) throw badRequest(`The external network ${net.name} is not a provider gateway that uses IP Spaces.`);
        const s = state.ipSpaces.get(b.ipSpaceRef?.id ?? '');
        if (!s) throw forbiddenUnknown(b.ipSpaceRef?.id ?? '(ipSpaceRef)');
        for (const u of state.uplinksOfNetwork(net.id)) {
          if (u.name === b.name) throw badRequest(`An uplink named ${b.name} already exists on ${net.name}.`);
          if (u.ipSpaceId === s.id) throw badRequest(`IP Space ${s.name} is already an uplink of ${net.name}.`);
        }
        const u: IpSpaceUplinkRec = {
          id: urn('ipSpaceUplink'),
          name: b.name,
          description: typeof b.description === 'string' ? b.description : '',
          externalNetworkId: net.id,
          ipSpaceId: s.id,
        };
        const interfaces = parseInterfaces(call, (call.req.body as { interfaces?: unknown }).interfaces, undefined);
        if (interfaces) u.interfaces = interfaces;
        const res = ctx.accepted(call, {
          operation: 'IP_SPACE_UPLINK_CREATE',
          operationName: 'Creating IP Space uplink',
          owner: { id: u.id, name: u.name, type: 'application/json' },
          work: () => {
            state.ipSpaceUplinks.set(u.id, u);
            if (!ctx.core.knobs.uplinkAssignsExistingEdgeOrgs) return;
            for (const e of state.edges.values()) if (state.tier0Uplink(e)?.networkId === net.id) ensureAssignments(state, e.orgId, net.id);
          },
        });
        ctx.startRouteAdvertisementSync(call, s);
        return res;
      }),
    },
    {
      method: 'GET',
      pattern: `${API}/ipSpaceUplinks/{id}`,
      handler: ctx.api(IP_SPACE_MIN, (call) => {
        const u = state.ipSpaceUplinks.get(call.req.params['id'] ?? '');
        if (!u || !call.caller.provider) throw forbiddenUnknown(call.req.params['id'] ?? '');
        return ok(renderUplink(u, call.version));
      }),
    },
    {
      method: 'PUT',
      pattern: `${API}/ipSpaceUplinks/{id}`,
      handler: ctx.api(IP_SPACE_MIN, (call) => {
        const u = state.ipSpaceUplinks.get(call.req.params['id'] ?? '');
        if (!u || !call.caller.provider) throw forbiddenUnknown(call.req.params['id'] ?? '');
        const b = (call.req.body ?? {}) as { name?: unknown; description?: unknown; externalNetworkRef?: { id?: string }; ipSpaceRef?: { id?: string } };
        if (typeof b.name !== 'string' || b.name === '') throw badRequest('name is required');
        if ((b.externalNetworkRef?.id && b.externalNetworkRef.id !== u.externalNetworkId) || (b.ipSpaceRef?.id && b.ipSpaceRef.id !== u.ipSpaceId)) {
          throw badRequest('externalNetworkRef and ipSpaceRef of an uplink cannot change.');
        }
        const name = b.name;
        const description = typeof b.description === 'string' ? b.description : '';
        const interfaces = parseInterfaces(call, (call.req.body as { interfaces?: unknown }).interfaces, u.interfaces);
        const res = ctx.accepted(call, {
          operation: 'IP_SPACE_UPLINK_UPDATE',
          operationName: 'Updating IP Space uplink',
          owner: { id: u.id, name: u.name, type: 'application/json' },
          work: () => {
            u.name = name;
            u.description = description;
            if (interfaces) u.interfaces = interfaces;
          },
        });
        const space = state.ipSpaces.get(u.ipSpaceId);
        if (space) ctx.startRouteAdvertisementSync(call, space);
        return res;
      }),
    },
    {
      method: 'DELETE',
      pattern: `${API}/ipSpaceUplinks/{id}`,
      handler: ctx.api(IP_SPACE_MIN, (call) => {
        const u = state.ipSpaceUplinks.get(call.req.params['id'] ?? '');
        if (!u || !call.caller.provider) throw forbiddenUnknown(call.req.params['id'] ?? '');
        const res = ctx.accepted(call, {
          operation: 'IP_SPACE_UPLINK_DELETE',
          operationName: 'Deleting IP Space uplink',
          owner: { id: u.id, name: u.name, type: 'application/json' },
          work: () => void state.ipSpaceUplinks.delete(u.id),
        });
        const space = state.ipSpaces.get(u.ipSpaceId);
        if (space) ctx.startRouteAdvertisementSync(call, space);
        return res;
      }),
    },
  ];
  return routes;
}
