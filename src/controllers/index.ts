// Wiring: the shared connection pool and every controller of the operator, on one Manager.
import { NsxClient, type NsxConnectOptions } from '../clients/nsx/index.ts';
import { VcdClient, type VcdConnectOptions } from '../clients/vcd/index.ts';
import type { KubeObject, Manager } from '../runtime/index.ts';
import {
  ClusterVCDConnectionResource,
  NSXConnectionResource,
  VCDConnectionResource,
  type ClusterVCDConnection,
  type NSXConnection,
  type VCDConnection,
} from '../api/index.ts';
import { Directory } from '../reconcile/index.ts';
import { EventBus, EventKeyRegistry } from '../reconcile/events/index.ts';
import { clusterIdentity } from './cluster-identity.ts';
import { NamespaceResource, NsxConnectionPool, SecretStore, VcdConnectionPool, type SecretAccess } from '../reconcile/connections/index.ts';
import { connectionController } from './connections/controller.ts';
import { nsxConnectionController } from './connections/nsx-controller.ts';
import { engineOptions, type ControllerDeps } from './deps.ts';
import { claimController } from './ipam/controller.ts';
import { firewallController } from './firewall/controller.ts';
import type { Placement } from './firewall/plan.ts';
import { ipSpaceController } from './ipspace/controller.ts';
import { pollSource, trafficMeterController } from './metering/controller.ts';
import { TrafficPoller } from './metering/poller.ts';
import { edgeStaticRouteController } from './routing/static-route-controller.ts';
import { trustController, VCenterClientCache } from './trust/index.ts';
import { VCenterClient, type VCenterConnectOptions } from '../clients/vcenter/index.ts';
import { tier0AdvertisementController } from './routing/advertisement-controller.ts';
import { edgeGatewayUplinkController } from './routing/uplink-controller.ts';

export interface OperatorOptions {
  /** Where ClusterVCDConnection Secrets live (the operator's own namespace). */
  operatorNamespace: string;
  /** Watch only this namespace; all when absent. */
  watchNamespace?: string;
  /**
   * cluster (default): Secrets are read in every watched namespace; granted: only in the operator
   * namespace and, on demand, in namespaces holding a VCDConnection whose owners granted read.
   */
  secretAccess?: SecretAccess;
  /** Named in the SecretAccessNotGranted message: the ClusterRole to bind and the operator's ServiceAccount. */
  secretGrant?: { clusterRole: string; serviceAccount?: string };
  /** Overrides the kube-system UID (tests that simulate two clusters on one control plane). */
  clusterId?: string;
  /** Deadline of one VCD task; also how long a lost allocate may still complete. Default 10 min. */
  taskTimeoutMs?: number;
  /** How long an allocate whose answer was lost may still complete. Default: task deadline + 1 min. */
  pendingWindowMs?: number;
  /** How often Ready objects are checked against VCD. Default 10 min. */
  driftCheckMs?: number;
  /** Claim groups reconciled at once, per claim kind. Default 16. */
  claimWorkers?: number;
  /** Where managed firewall rules sit among an edge's rules: before (top, default) or after the foreign ones. */
  firewallPlacement?: Placement;
  /** Edge gateways whose firewall is reconciled at once. Default 16. */
  firewallWorkers?: number;
  /** Extra VCD client options (metrics registry, retry policy, requests in flight...). */
  clientOptions?: Partial<VcdConnectOptions>;
  /**
   * Event-driven resync from VCD's message bus (default on): a subscription per logged-in
   * connection on the leader; false leaves periodic resync only.
   */
  events?: boolean | { scanMs?: number; backoff?: { initialDelayMs: number; maxDelayMs: number; multiplier: number; jitter: number } };
  /** Replaces VcdClient.connect (tests). */
  connect?: (opts: VcdConnectOptions) => Promise<VcdClient>;
  /** Extra NSX client options. */
  nsxClientOptions?: Partial<NsxConnectOptions>;
  /** Replaces NsxClient.connect (tests). */
  nsxConnect?: (opts: NsxConnectOptions) => Promise<NsxClient>;
  /** How often a complete VCenterTrust mesh is read again for drift. Default: driftCheckMs. */
  trustResyncMs?: number;
  /** Extra vCenter client options (retry policy, metrics registry...). */
  vcenterClientOptions?: Partial<VCenterConnectOptions>;
  /** Replaces VCenterClient.connect (tests). */
  connectVCenter?: (opts: VCenterConnectOptions) => Promise<VCenterClient>;
}

export interface Operator {
  deps: ControllerDeps;
  secrets: SecretStore;
  pool: VcdConnectionPool;
  nsxPool: NsxConnectionPool;
  vcenters: VCenterClientCache;
  /** Logs every client out now; the manager's stop() also does (idempotent). */
  close(): Promise<void>;
}

export async function registerControllers(manager: Manager, opts: OperatorOptions): Promise<Operator> {
  const taskTimeoutMs = opts.taskTimeoutMs ?? 600_000;
  const secrets = new SecretStore({
    host: manager,
    access: opts.secretAccess ?? 'cluster',
    operatorNamespace: opts.operatorNamespace,
    ...(opts.watchNamespace ? { watchNamespace: opts.watchNamespace } : {}),
    ...(opts.secretGrant ? { grant: opts.secretGrant } : {}),
    logger: manager.logger,
  });
  const vcdConnections = manager.informer<VCDConnection>(VCDConnectionResource);
  secrets.track(vcdConnections);
  const pool = new VcdConnectionPool({
    vcdConnections,
    clusterConnections: manager.informer<ClusterVCDConnection>(ClusterVCDConnectionResource),
    secrets,
    namespaces: manager.informer<KubeObject>(NamespaceResource),
    operatorNamespace: opts.operatorNamespace,
    logger: manager.logger,
    connect: opts.connect ?? ((o) => VcdClient.connect(o)),
    clock: manager.clock,
    // Many groups wait on tasks at once; 32 requests in flight per connection keeps them moving.
    // Every client's request metrics go to the registry /metrics serves, labelled by connection.
    clientOptions: { taskTimeoutMs, maxInFlight: 32, metrics: manager.metrics.registry, ...opts.clientOptions },
  });
  const events = new EventKeyRegistry({ metrics: manager.metrics.registry });
  const eventOpts = typeof opts.events === 'object' ? opts.events : {};
  const eventBus = new EventBus({
    pool,
    registry: events,
    metrics: manager.metrics.registry,
    clock: manager.clock,
    logger: manager.logger,
    enabled: opts.events !== false,
    ...eventOpts,
  });
  const nsxPool = new NsxConnectionPool({
    connections: manager.informer<NSXConnection>(NSXConnectionResource),
    // NSXConnection Secrets live in the operator namespace, which the store always reads.
    secrets,
    operatorNamespace: opts.operatorNamespace,
    logger: manager.logger,
    connect: opts.nsxConnect ?? ((o) => NsxClient.connect(o)),
    clock: manager.clock,
    clientOptions: { metrics: manager.metrics.registry, ...opts.nsxClientOptions },
  });
  const deps: ControllerDeps = {
    manager,
    pool,
    nsxPool,
    clusterId: opts.clusterId ?? (await clusterIdentity(manager.client)),
    namespaceInScope: (ns) => !opts.watchNamespace || ns === opts.watchNamespace,
    // A task may be polled up to its deadline; allow the same again for the request's own timeout.
    pendingWindowMs: opts.pendingWindowMs ?? taskTimeoutMs + 60_000,
    driftCheckMs: opts.driftCheckMs ?? 600_000,
    claimWorkers: opts.claimWorkers ?? 16,
    directory: new Directory({ clock: manager.clock }),
    events,
    eventBus,
  };
  // Logged-in clients live as long as the manager: it logs them out after the last reconcile.
  manager.add(pool.runnable());
  manager.add(nsxPool.runnable());
  // Subscriptions run where reconciles run: on the leader.
  manager.add(eventBus.runnable(), { leaderOnly: true });
  const withNs = { ...deps, operatorNamespace: opts.operatorNamespace, secrets };
  manager.addController(connectionController('VCDConnection', withNs));
  manager.addController(connectionController('ClusterVCDConnection', withNs));
  manager.addController(nsxConnectionController({ ...withNs, nsxPool }));
  manager.addController(ipSpaceController(deps));
  manager.addController(claimController('FloatingIPClaim', deps));
  manager.addController(claimController('IPPrefixClaim', deps));
  manager.addController(edgeGatewayUplinkController(deps));
  manager.addController(edgeStaticRouteController(deps));
  manager.addController(tier0AdvertisementController(deps));
  // Traffic metering: the poller reads NSX on the leader only; each interval wakes the controller.
  const polls = pollSource();
  const poller = new TrafficPoller({
    registry: manager.metrics.registry,
    clock: manager.clock,
    logger: manager.logger.child({ controller: 'trafficmeter' }),
    onPoll: polls.notify,
  });
  manager.add(poller.runnable(), { leaderOnly: true });
  manager.addController(trafficMeterController(withNs, poller, polls.source));
  manager.addController(
    firewallController(deps, { placement: opts.firewallPlacement ?? 'top', ...(opts.firewallWorkers ? { workers: opts.firewallWorkers } : {}) }),
  );
  const vcenters = new VCenterClientCache({
    secrets,
    operatorNamespace: opts.operatorNamespace,
    logger: manager.logger,
    connect: opts.connectVCenter ?? ((o) => VCenterClient.connect(o)),
    clock: manager.clock,
    ...(opts.vcenterClientOptions ? { clientOptions: opts.vcenterClientOptions } : {}),
  });
  manager.add(vcenters.runnable());
  manager.addController(
    trustController({
      manager,
      clusterId: deps.clusterId,
      clients: vcenters,
      operatorNamespace: opts.operatorNamespace,
      secrets,
      // Cluster-scoped: in scope whatever namespace the operator watches.
      engine: { ...engineOptions(deps), driftCheckMs: opts.trustResyncMs ?? deps.driftCheckMs, namespaceInScope: () => true },
    }),
  );
  return { deps, secrets, pool, nsxPool, vcenters, close: async () => void (await Promise.all([pool.closeAll(), nsxPool.closeAll(), vcenters.closeAll()])) };
}
