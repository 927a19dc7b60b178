// EdgeFirewallRule: an adapter on the grouped engine (src/reconcile/grouped.ts). The key is the
// edge gateway (key.ts); admission checks the spec and the connection per object; reconcile
// resolves the org's view of VCD, then sync.ts observes, plans and executes for the whole edge,
// and the outcomes become conditions, status fields, events and finalizers.
import { EdgeFirewallRuleResource, Reasons, validateEdgeFirewallRule, type EdgeFirewallRule, type EdgeFirewallRuleStatus } from '../../api/index.ts';
import { atLeast, type VcdClient } from '../../clients/vcd/index.ts';
import { groupedController, mapLimit, Problem, validSpec, type AdmissionCheck, type Group } from '../../reconcile/index.ts';
import type { ControllerDefinition, KubeObject, ReconcileContext, Source } from '../../runtime/index.ts';
import { sleep } from '../../runtime/clock.ts';
import { KeyedMutex } from '../../clients/common/limits.ts';
import {
  connectionKey,
  connectionKeyOf,
  NamespaceResource,
  vcdConnectionWatches,
  type Connection,
  type Resolution,
} from '../../reconcile/connections/index.ts';
import { engineOptions, type ControllerDeps } from '../deps.ts';
import { edgeKeyCodec, edgeKeyOf, type EdgeKey } from './key.ts';
import { EdgeDirectory } from './observe.ts';
import { entryOf, syncEdge, type Outcome } from './sync.ts';
import type { Placement } from './plan.ts';

export const FIREWALL_FINALIZER = 'vcd-operator.io/firewall-rule';
const BY_CONNECTION = 'byConnection';
const BY_EDGE_ID = 'byEdgeId';
const RETRY_MS = 30_000;
/** Kubernetes writes (finalizers, status, events) in flight at once for one edge's rules. */
const KUBE_PARALLEL = 16;
/** New rules wait this long for more of their edge's rules (a directory applied at once), up to BATCH_MAX_MS. */
const BATCH_WINDOW_MS = 200;
const BATCH_MAX_MS = 1500;

type Rule = EdgeFirewallRule;
type Status = EdgeFirewallRuleStatus;

export interface FirewallOptions {
  /** Where the managed block sits relative to foreign rules. Default top. */
  placement?: Placement;
  /** Edges reconciled at once. Default 16. */
  workers?: number;
}

const connKeyOf = (o: Rule) => connectionKeyOf(o.spec.connectionRef.kind, o.spec.connectionRef.name, o.metadata?.namespace);

export function firewallController(deps: ControllerDeps, opts: FirewallOptions = {}): ControllerDefinition<Rule> {
  const clock = deps.manager.clock;
  const directory = new EdgeDirectory(() => clock.now());
  /** Edges whose unused inline sets have not been looked for since start or since a failed pass. */
  const swept = new Set<string>();
  const placement = opts.placement ?? 'top';
  const edgeLocks = new KeyedMutex();
  // Rules of one edge under other keys (other connections) whose positions a write just moved
  // are reconciled again, so their status.position is current.
  let enqueueKeys: ((keys: Iterable<string>) => void) | undefined;
  const siblings: Source = {
    name: 'edge-siblings',
    start: (enqueue, signal) =>
      new Promise<void>((resolve) => {
        enqueueKeys = enqueue;
        signal.addEventListener('abort', () => ((enqueueKeys = undefined), resolve()), { once: true });
      }),
  };
  const serializeOn =
    (url: string) =>
    <T>(edgeId: string, fn: () => Promise<T>): Promise<T> =>
      edgeLocks.run(`${url}|${edgeId}`, fn);
  /**
   * Per key: the members (uid, generation, deleting) of the last pass that completed, and when. A
   * key woken again within a short gap with the same members (a resync of the rules and of their
   * connection's and namespace's watches landing one after another) skips the repeated read.
   */
  const lastPass = new Map<string, { fingerprint: string; at: number }>();
  const minGapMs = Math.min(5000, deps.driftCheckMs / 2);

  // Tenancy: the one place a rule's namespace meets its connection. Through a ClusterVCDConnection
  // the pool refuses (OrgNotAllowed) an org the namespace is not bound to, before any VCD call.
  const resolve = (o: Rule): Promise<Resolution> => deps.pool.resolve(o.spec.connectionRef, o.metadata?.namespace ?? '', o.spec.org ? { org: o.spec.org } : {});

  const usableConnection: AdmissionCheck<Rule> = async (o, a) => {
    const res = await a.memo(`conn|${o.metadata?.namespace ?? ''}|${connKeyOf(o)}|${JSON.stringify(o.spec.org ?? {})}`, () => resolve(o));
    if (!res.ok) return new Problem(res.reason, res.message, { requeueAfterMs: RETRY_MS });
    if (res.client.isProvider && !o.spec.org) {
      return new Problem(
        Reasons.InvalidSpec,
        `spec.org is required: connection ${res.connection.metadata?.name ?? ''} is a provider (System) connection; name the organization that owns the edge gateway`,
      );
    }
    if (!res.client.isProvider && o.spec.org && (o.spec.org.id || (o.spec.org.name ?? '').toLowerCase() !== res.connection.spec.org.toLowerCase())) {
      return new Problem(
        Reasons.InvalidSpec,
        `spec.org must be unset or ${res.connection.spec.org}: a tenant connection writes only to its own organization's edge gateways`,
      );
    }
    if (!atLeast(res.client.apiVersion, '37.1')) {
      // Below 37.1 VCD leaves appliedTo out of what it returns, so a rewrite would strip it from every rule.
      return new Problem(
        Reasons.UnsupportedAPIVersion,
        `Edge firewall rules need VCD API 37.1 (VCD 10.4.1) or later; the connection uses ${res.client.apiVersion}.`,
      );
    }
    return undefined;
  };

  const orgClient = async (client: VcdClient, connKey: string, org: EdgeKey['org']): Promise<VcdClient | Problem> => {
    if (!client.isProvider || !org) return client;
    if (!org.id) return client.forOrg(org.name ?? '');
    const found = await deps.directory.resolve(`firewall/${connKey}|org|${org.id}`, () => client.orgs.get(org.id ?? ''));
    return found
      ? client.forOrg(found)
      : new Problem(Reasons.OrgNotFound, `No organization with id ${org.id} exists in VCD. Check spec.org.`, { requeueAfterMs: RETRY_MS });
  };

  const apply = async (group: Group<Rule, Status>, uid: string, o: Outcome, edgeName: string): Promise<void> => {
    if (o.kind === 'released') {
      if (o.retained) group.event(uid, 'Normal', 'Retained', `The rule stays on edge gateway ${edgeName}, no longer managed.`);
      await group.dropFinalizer(uid, FIREWALL_FINALIZER);
      return;
    }
    if (o.kind === 'problem') {
      group.problem(uid, new Problem(o.reason, o.message, { transient: o.retryable }), o.reason === Reasons.EdgeBusy ? { keepReady: true } : {});
      if (o.retryable) group.requeueAfter(RETRY_MS);
      return;
    }
    const s = o.status;
    const enabled = group.get(uid).spec.enabled === false ? ' (disabled)' : '';
    group.ready(uid, Reasons.Available, `Rule ${s.ruleId}${enabled} is at position ${s.position} on edge gateway ${s.edgeGateway}.`, (st) => {
      st.ruleId = s.ruleId;
      st.edgeGatewayId = s.edgeGatewayId;
      st.edgeGateway = s.edgeGateway;
      st.position = s.position;
    });
    if (o.wrote) group.event(uid, 'Normal', 'RuleWritten', `Wrote rule ${s.ruleId} at position ${s.position} on edge gateway ${s.edgeGateway}.`);
  };

  const reconcile = async (key: EdgeKey, group: Group<Rule, Status>): Promise<void> => {
    const first = group.members[0];
    if (!first) return;
    const res = await resolve(first);
    if (!res.ok) throw new Problem(res.reason, res.message, { transient: true });
    const connKey = connKeyOf(first);
    const client = await orgClient(res.client, connKey, key.org);
    if (client instanceof Problem) {
      for (const m of group.members) group.problem(m.metadata?.uid ?? '', client);
      group.requeueAfter(RETRY_MS);
      return;
    }
    const fingerprintOf = (ms: readonly Rule[]) =>
      ms
        .map((m) => `${m.metadata?.uid ?? ''}:${m.metadata?.generation ?? 0}:${m.metadata?.deletionTimestamp ? 1 : 0}`)
        .sort()
        .join(',');
    const fingerprint = fingerprintOf(group.members);
    const keyText = edgeKeyCodec.encode(key);
    const last = lastPass.get(keyText);
    if (last && last.fingerprint === fingerprint && clock.now() - last.at < minGapMs) return;
    // Rules applied together arrive over a second or so: let them share one write.
    if (group.members.some((m) => !m.status?.ruleId && !m.metadata?.deletionTimestamp)) {
      const start = clock.now();
      do await sleep(clock, BATCH_WINDOW_MS, group.ctx.signal);
      while ((await group.newcomers(() => true)).length > 0 && clock.now() - start < BATCH_MAX_MS);
    }
    const t0 = clock.now();
    // The finalizer goes on before anything is written for the object.
    const live = group.members.filter((m) => !m.metadata?.deletionTimestamp).map((m) => m.metadata?.uid ?? '');
    await mapLimit(live, KUBE_PARALLEL, (uid) => group.ensureFinalizer(uid, FIREWALL_FINALIZER));
    const memberUids = new Set(group.members.map((m) => m.metadata?.uid ?? ''));
    const others = group.ctx.informer
      .list()
      .filter((o) => !memberUids.has(o.metadata?.uid ?? ''))
      .map(entryOf);
    const scope = `${connKey}|${JSON.stringify(key.org ?? {})}`;
    const sweepKey = `${scope}|${JSON.stringify(key.edge)}`;
    const result = await syncEdge({
      client,
      clusterId: deps.clusterId,
      scope,
      edgeRef: key.edge,
      members: group.members,
      others,
      placement,
      directory,
      sweep: !swept.has(sweepKey),
      serialize: serializeOn(res.connection.spec.url),
    });
    const t1 = clock.now();
    if (result.swept) swept.add(sweepKey);
    if (result.listChanged) {
      const others = new Set(
        group.ctx.informer
          .list()
          .filter((o) => result.placed.has(o.metadata?.uid ?? ''))
          .map((o) => edgeKeyCodec.encode(edgeKeyOf(o)))
          .filter((k) => k !== keyText),
      );
      for (const k of others) lastPass.delete(k);
      if (others.size) enqueueKeys?.(others);
    }
    // Status, events and finalizers of many rules go out in parallel, not one by one.
    await mapLimit([...result.outcomes], KUBE_PARALLEL, async ([uid, o]) => {
      await apply(group, uid, o, result.edge?.name ?? '');
      await group.flush(uid);
    });
    // Remembered once the pass is over, so the wake-ups its own writes cause fall inside the gap.
    const allFine = [...result.outcomes.values()].every((o) => o.kind !== 'problem');
    if (allFine) lastPass.set(keyText, { fingerprint: fingerprintOf(group.members), at: clock.now() });
    else lastPass.delete(keyText);
    group.ctx.log.debug({ rules: group.members.length, writes: result.writes, cloudMs: t1 - t0, kubeMs: clock.now() - t1 }, 'edge firewall pass');
  };

  /** The last rule of a key is gone: drop any marked rule of a vanished object and unused sets. */
  const empty = async (text: string, ctx: ReconcileContext<Rule>): Promise<void> => {
    const key = edgeKeyCodec.decode(text);
    if (!key) return;
    const res = await deps.pool.resolve(key.connection, key.namespace ?? deps.pool.operatorNamespace);
    if (!res.ok) return; // without a connection there is nothing to sweep with
    const client = await orgClient(res.client, connectionKeyOf(key.connection.kind, key.connection.name, key.namespace), key.org);
    if (client instanceof Problem) return;
    const scope = `${connectionKeyOf(key.connection.kind, key.connection.name, key.namespace)}|${JSON.stringify(key.org ?? {})}`;
    await syncEdge({
      client,
      clusterId: deps.clusterId,
      scope,
      edgeRef: key.edge,
      members: [],
      others: ctx.informer.list().map(entryOf),
      placement,
      directory,
      sweep: true,
      serialize: serializeOn(res.connection.spec.url),
    });
  };

  const edgeKeysOf = (rules: Rule[]): string[] => [...new Set(rules.map((r) => edgeKeyCodec.encode(edgeKeyOf(r))))];
  const rulesOfConnection = (conn: unknown): string[] => {
    const rules = deps.manager.informer<Rule>(EdgeFirewallRuleResource).byIndex(BY_CONNECTION, connectionKey(conn as Connection));
    return [...new Set(rules.map((r) => edgeKeyCodec.encode(edgeKeyOf(r))))];
  };

  const definition = groupedController<Rule, EdgeKey, Status>(
    {
      name: 'edgefirewallrule',
      resource: EdgeFirewallRuleResource,
      finalizer: FIREWALL_FINALIZER,
      codec: edgeKeyCodec,
      keyOf: edgeKeyOf,
      admit: [validSpec(validateEdgeFirewallRule, 'the rule in VCD is left as it is until then'), usableConnection],
      // A crash after the PUT and before the status write leaves a marked rule without status.ruleId;
      // the next pass over the edge drops it as the rule of a vanished object.
      holdsCloudState: (o) => !!o.status?.ruleId,
      reconcile,
      empty: (key, ctx) => empty(edgeKeyCodec.encode(key), ctx),
      indexers: {
        [BY_CONNECTION]: (o) => [connKeyOf(o)],
        [BY_EDGE_ID]: (o) => [...new Set([o.status?.edgeGatewayId, o.spec.edgeGateway.id].filter((id): id is string => !!id))],
      },
      // A VCD event on an edge gateway (its firewall edited in the UI) re-reads the edge's rules.
      sources: [
        deps.events.source('edgefirewallrule', {
          entityTypes: ['gateway'],
          keys: (e) => {
            if (e.event.type.includes('/staticRoute')) return [];
            const keys = edgeKeysOf(deps.manager.byIndex<Rule>('edgefirewallrule', BY_EDGE_ID, e.event.entity));
            // Someone else changed the edge: the next pass reads it even within the short gap.
            if (!e.ownWrite) for (const k of keys) lastPass.delete(k);
            return keys;
          },
          keysOfConnection: (conn) => edgeKeysOf(deps.manager.byIndex<Rule>('edgefirewallrule', BY_CONNECTION, conn)),
        }),
      ],
      watches: [
        ...vcdConnectionWatches(rulesOfConnection),
        {
          resource: NamespaceResource,
          keysFor: (ns) => [
            ...new Set(
              deps.manager
                .informer<Rule>(EdgeFirewallRuleResource)
                .list((ns as KubeObject).metadata?.name ?? '')
                .map((r) => edgeKeyCodec.encode(edgeKeyOf(r))),
            ),
          ],
        },
      ],
      maxConcurrentReconciles: opts.workers ?? 16,
    },
    engineOptions(deps, { retryMs: RETRY_MS }),
  );
  return { ...definition, sources: [...(definition.sources ?? []), siblings] };
}
