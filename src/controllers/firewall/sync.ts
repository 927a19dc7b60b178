// One edge gateway, one pass: observe (edge, rule list, references), plan (plan.ts), execute
// (create inline sets → PUT the list if it differs → sweep unused sets), and say per object what
// happened. It knows nothing of Kubernetes beyond the objects it is given; the controller turns
// the outcomes into conditions and finalizers.
import { Reasons, type EdgeFirewallRule, type Reason } from '../../api/index.ts';
import { VcdApiError, VcdBusyError, VcdNotFoundError, type EdgeFirewallRule as VcdRule, type VcdClient } from '../../clients/vcd/index.ts';
import { DEFAULT_PRIORITY, inlineSetsOf, ipSetName, portProfileName, projection, ruleBody, type IdRef, type InlineSets } from './desired.ts';
import { ensureInline, knownFromRules, sweepInline, wantsOf } from './inline.ts';
import { resolveRef, type EdgeDirectory, type EdgeInfo } from './observe.ts';
import { managedRules, planList, type DesiredEntry, type ManagedEntry, type Placement, type RawRule } from './plan.ts';

export interface RuleStatus {
  ruleId: string;
  edgeGatewayId: string;
  edgeGateway: string;
  position: number;
}

export type Outcome =
  | { kind: 'ready'; status: RuleStatus; wrote: boolean }
  /** Not Ready; `keep` says the rule VCD holds (if any) was left as it was. */
  | { kind: 'problem'; reason: Reason; message: string; retryable: boolean }
  /** A deleted object whose rule is gone (or unmarked): its finalizer may go. */
  | { kind: 'released'; retained: boolean };

export interface SyncInput {
  client: VcdClient;
  clusterId: string;
  /** Cache scope: the connection and org the edge is seen through. */
  scope: string;
  edgeRef: { name?: string; id?: string };
  /** The admitted objects of this key, deleted ones included. */
  members: readonly EdgeFirewallRule[];
  /** Live objects not admitted this round, or of other keys on the same edge: their rules stay. */
  others: readonly ManagedEntry[];
  placement: Placement;
  directory: EdgeDirectory;
  /** Look for unused operator-owned sets even if nothing is written (after a restart or a failure). */
  sweep: boolean;
  /**
   * Runs the read-plan-write of one edge (by id) alone: rules of one edge reached through two
   * connections (two teams' VCDConnections) are two keys, and two whole-list writes from lists
   * read at the same time would each drop the rule the other just added.
   */
  serialize<T>(edgeId: string, fn: () => Promise<T>): Promise<T>;
}

export interface SyncResult {
  outcomes: Map<string, Outcome>;
  edge?: EdgeInfo;
  /** Whole-list PUTs, set creates and deletes this pass made. */
  writes: number;
  /** True once a sweep completed (nothing unused is left behind). */
  swept: boolean;
  /** Whether this pass rewrote the list (positions of every managed rule may have moved). */
  listChanged: boolean;
  /** Objects whose marked rule is in the list as it now is. */
  placed: Set<string>;
}

export function entryOf(o: EdgeFirewallRule): ManagedEntry {
  return { uid: o.metadata?.uid ?? '', namespace: o.metadata?.namespace ?? '', name: o.metadata?.name ?? '', priority: o.spec.priority ?? DEFAULT_PRIORITY };
}

const uidOf = (o: EdgeFirewallRule) => o.metadata?.uid ?? '';

export async function syncEdge(input: SyncInput): Promise<SyncResult> {
  const { client, directory } = input;
  const outcomes = new Map<string, Outcome>();
  const result: SyncResult = { outcomes, writes: 0, swept: false, listChanged: false, placed: new Set() };
  const live = input.members.filter((m) => !m.metadata?.deletionTimestamp);
  const deleting = input.members.filter((m) => m.metadata?.deletionTimestamp);

  const edge = await directory.edge(client, input.scope, input.edgeRef);
  if (!edge) {
    const what = input.edgeRef.id ? `id ${input.edgeRef.id}` : `name ${input.edgeRef.name ?? ''}`;
    for (const m of live)
      outcomes.set(uidOf(m), {
        kind: 'problem',
        reason: Reasons.EdgeGatewayNotFound,
        message: `No edge gateway with ${what} is visible through the connection. Check spec.edgeGateway.`,
        retryable: true,
      });
    // Without the edge there is no rule left to remove.
    for (const m of deleting) outcomes.set(uidOf(m), { kind: 'released', retained: false });
    return result;
  }
  result.edge = edge;
  return input.serialize(edge.id, () => syncList(input, edge, result, live, deleting));
}

async function syncList(input: SyncInput, edge: EdgeInfo, result: SyncResult, live: EdgeFirewallRule[], deleting: EdgeFirewallRule[]): Promise<SyncResult> {
  const { client, clusterId, directory } = input;
  const { outcomes } = result;
  let current: RawRule[];
  try {
    current = ((await client.firewall.get(edge.id)).userDefinedRules ?? []) as unknown as RawRule[];
  } catch (err) {
    if (err instanceof VcdNotFoundError) directory.forgetEdges();
    throw err;
  }

  // Resolve what each live rule names; a rule that cannot be resolved is held as VCD has it.
  const held: ManagedEntry[] = [...input.others];
  const resolved: Array<{ obj: EdgeFirewallRule; refs: { sources: IdRef[]; destinations: IdRef[]; profiles: IdRef[]; appliedTo?: IdRef }; sets: InlineSets }> =
    [];
  for (const obj of live) {
    const problem = await resolveRefs(input, edge, obj);
    if ('reason' in problem) {
      outcomes.set(uidOf(obj), { kind: 'problem', ...problem, retryable: true });
      held.push(entryOf(obj));
    } else {
      resolved.push({ obj, refs: problem, sets: inlineSetsOf(obj) });
    }
  }

  // Inline sets: ids from the list itself when it already uses them, else find or create.
  const wants = wantsOf(
    edge.id,
    resolved.map((r) => r.sets),
  );
  const ensured = await ensureInline(client, clusterId, edge.id, wants, knownFromRules(current));
  result.writes += ensured.created;
  const desired: DesiredEntry[] = [];
  for (const r of resolved) {
    const need = (name: string): IdRef[] => {
      const id = ensured.ids.get(name);
      return id ? [{ id }] : [];
    };
    const setNames = [
      r.sets.sources && ipSetName(edge.id, r.sets.sources),
      r.sets.destinations && ipSetName(edge.id, r.sets.destinations),
      r.sets.ports && portProfileName(edge.id, r.sets.ports),
    ];
    const refusedBy = setNames.find((n) => n && ensured.refused.has(n));
    if (refusedBy) {
      outcomes.set(uidOf(r.obj), {
        kind: 'problem',
        reason: Reasons.Refused,
        message: `VCD refused the inline set ${refusedBy}: ${ensured.refused.get(refusedBy) ?? ''}`,
        retryable: false,
      });
      held.push(entryOf(r.obj));
      continue;
    }
    const refs = {
      ...r.refs,
      sources: [...(r.sets.sources ? need(ipSetName(edge.id, r.sets.sources)) : []), ...r.refs.sources],
      destinations: [...(r.sets.destinations ? need(ipSetName(edge.id, r.sets.destinations)) : []), ...r.refs.destinations],
      profiles: [...(r.sets.ports ? need(portProfileName(edge.id, r.sets.ports)) : []), ...r.refs.profiles],
    };
    desired.push({ ...entryOf(r.obj), body: ruleBody(r.obj, clusterId, refs) });
  }

  const released = new Map(deleting.map((m) => [uidOf(m), m.spec.reclaimPolicy ?? 'Delete'] as const));
  const plan = planList({ clusterId, current, desired, held, released, placement: input.placement });
  let final = current;
  if (plan.changed) {
    try {
      final = ((await client.firewall.put(edge.id, plan.rules as unknown as VcdRule[])).userDefinedRules ?? []) as unknown as RawRule[];
      result.writes++;
      result.listChanged = true;
    } catch (err) {
      const refused = err instanceof VcdApiError && !(err instanceof VcdBusyError) && err.status === 400;
      if (!refused && !(err instanceof VcdBusyError)) throw err;
      const reason = refused ? Reasons.Refused : Reasons.EdgeBusy;
      const message = refused
        ? `VCD refused the edge gateway's rule list: ${err.serverMessage}`
        : `Edge gateway ${edge.name} stayed busy with another operation; the rule list will be written when it is free.`;
      for (const d of desired) outcomes.set(d.uid, { kind: 'problem', reason, message, retryable: true });
      return result;
    }
  }

  const placed = managedRules(clusterId, final);
  result.placed = new Set(placed.keys());
  const before = managedRules(clusterId, current);
  for (const d of desired) {
    const at = placed.get(d.uid);
    if (!at) {
      outcomes.set(d.uid, {
        kind: 'problem',
        reason: Reasons.ReconcileError,
        message: 'The rule was written but VCD did not list it; it will be checked again.',
        retryable: true,
      });
      continue;
    }
    const old = before.get(d.uid)?.rule;
    const wrote = plan.changed && (!old || projection(old) !== projection(d.body));
    outcomes.set(d.uid, {
      kind: 'ready',
      wrote,
      status: { ruleId: typeof at.rule['id'] === 'string' ? at.rule['id'] : '', edgeGatewayId: edge.id, edgeGateway: edge.name, position: at.position },
    });
  }
  for (const m of deleting) if (!placed.has(uidOf(m))) outcomes.set(uidOf(m), { kind: 'released', retained: plan.unmarked.includes(uidOf(m)) });

  if (input.sweep || result.writes > 0 || plan.dropped.length > 0) {
    result.writes += await sweepInline(client, clusterId, edge.id, final);
    result.swept = true;
  }
  return result;
}

type Resolved = { sources: IdRef[]; destinations: IdRef[]; profiles: IdRef[]; appliedTo?: IdRef };

async function resolveRefs(input: SyncInput, edge: EdgeInfo, obj: EdgeFirewallRule): Promise<Resolved | { reason: Reason; message: string }> {
  const { client, directory } = input;
  const out: Resolved = { sources: [], destinations: [], profiles: [] };
  if (obj.spec.appliedTo) {
    const name = obj.spec.appliedTo;
    const found = await resolveRef({ name }, (refresh) => directory.interfaces(client, edge.id, refresh));
    if (!found) {
      const all = [...(await directory.interfaces(client, edge.id)).byId.values()].sort();
      const list = all.length ? `its service interfaces are ${all.join(', ')}` : 'it has no service interfaces';
      return {
        reason: Reasons.InterfaceNotFound,
        message: `appliedTo ${name} is not a service interface of edge gateway ${edge.name}; ${list}. Fix spec.appliedTo.`,
      };
    }
    out.appliedTo = found;
  }
  const groups = (refresh: boolean) => directory.groups(client, edge.id, refresh);
  for (const [field, refs] of [
    ['sources', obj.spec.sources?.groups ?? []],
    ['destinations', obj.spec.destinations?.groups ?? []],
  ] as const) {
    for (const ref of refs) {
      const found = await resolveRef(ref, groups);
      if (!found)
        return {
          reason: Reasons.ReferenceNotFound,
          message: `spec.${field}.groups: no firewall group ${ref.id ?? ref.name ?? ''} is usable on edge gateway ${edge.name} (or its name is ambiguous; use the id).`,
        };
      out[field].push({ id: found.id });
    }
  }
  for (const ref of obj.spec.services?.profiles ?? []) {
    const found = await resolveRef(ref, (refresh) => directory.profiles(client, input.scope, refresh));
    if (!found)
      return {
        reason: Reasons.ReferenceNotFound,
        message: `spec.services.profiles: no application port profile ${ref.id ?? ref.name ?? ''} is visible (or its name is ambiguous; use the id).`,
      };
    out.profiles.push({ id: found.id });
  }
  return out;
}
