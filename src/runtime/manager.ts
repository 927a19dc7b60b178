// The Manager owns what controllers share: one informer per resource type, the API client,
// metrics, probes and leader election. Informers run on every replica (hot standby); only the
// leader's workers reconcile. Runnables (pollers, subscriptions, closers) live in the same
// lifecycle. stop() drains in-flight reconciles, stops runnables, then releases the lease.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubeAuth } from './kubeconfig.ts';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { BackoffOptions } from './backoff.ts';
import { KubeClient } from './client.ts';
import { sleep, systemClock, type Clock } from './clock.ts';
import { Controller, type ControllerDefinition } from './controller.ts';
import { EventRecorder } from './events.ts';
import { memoryReducingGc, releaseMemoryWhenIdle } from './idle-memory.ts';
import { FinalizerHelper } from './finalizers.ts';
import { SupervisedInformer } from './informer.ts';
import { KubeHttp, type RequestInfo } from './kube-http.ts';
import { kubeLeaseStore, LeaderElector } from './leader-election.ts';
import { kubeListWatcher } from './list-watcher.ts';
import { createLogger } from './logger.ts';
import { RuntimeMetrics } from './metrics.ts';
import { ProbeServer, type Readiness } from './probes.ts';
import { StatusWriter } from './status.ts';
import { RunnableGroup, type Runnable, type RunnableOptions } from './runnables.ts';
import { resourceId, type KubeObject, type ResourceType } from './types.ts';

export interface LeaderElectionConfig {
  enabled: boolean;
  leaseName: string;
  leaseNamespace: string;
  /** Default: hostname plus a random suffix. */
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Called when this replica becomes leader, after its controllers have started. */
  onStarted?: () => void;
  /**
   * Called when this replica loses the lease (another replica may already be reconciling).
   * Default: log, abort in-flight reconciles and exit the process with code 1, as
   * controller-runtime does; a fresh process rejoins as standby.
   */
  onLost?: () => void;
}

export interface ManagerOptions {
  kubeConfig: KubeAuth;
  logger?: Logger;
  /** Watch only this namespace (namespaced resources); all namespaces when absent. */
  namespace?: string;
  leaderElection?: LeaderElectionConfig;
  /** Serves /metrics, /healthz and /readyz; port 0 picks a free port (see probesPort). */
  probes?: { port: number; host?: string };
  registry?: Registry;
  clock?: Clock;
  /** Informer tuning; the defaults suit production. */
  informers?: { stallTimeoutMs?: number; backoff?: BackoffOptions; watchTimeoutSeconds?: [number, number] };
  /** How long stop() waits for in-flight reconciles before aborting them. Default 30 s. */
  gracefulShutdownTimeoutMs?: number;
  /** How long start() waits for caches to sync. Default 2 min. */
  cacheSyncTimeoutMs?: number;
  /** Prefix of Event reportingController, `<prefix>/<controller name>`. Default vcd-operator.io. */
  eventSource?: string;
  /** Called after every API request (metrics are kept regardless). */
  onRequest?: (info: RequestInfo) => void;
  /**
   * After this long with no reconcile running or waiting, one memory-reducing GC gives back what
   * a burst of work left (see idle-memory.ts); 0 or absent: never.
   */
  releaseMemoryAfterIdleMs?: number;
}

type State = 'new' | 'starting' | 'started' | 'stopping' | 'stopped';

export class Manager {
  readonly kubeConfig: KubeAuth;
  readonly client: KubeClient;
  readonly metrics: RuntimeMetrics;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly #o: ManagerOptions;
  readonly #http: KubeHttp;
  readonly #informers = new Map<string, SupervisedInformer<KubeObject>>();
  /** Ids of informers made on demand: not waited for, not in readiness. */
  readonly #optional = new Set<string>();
  readonly #controllers: Controller<KubeObject>[] = [];
  readonly #runnables: RunnableGroup;
  readonly #elector: LeaderElector | undefined;
  readonly #identity: string;
  #probes: ProbeServer | undefined;
  #probesPort: number | undefined;
  #state: State = 'new';
  #stopping: Promise<void> | undefined;
  readonly #recorders: EventRecorder[] = [];
  #workersStarted = false;

  constructor(opts: ManagerOptions) {
    this.#o = opts;
    this.kubeConfig = opts.kubeConfig;
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? createLogger();
    this.metrics = new RuntimeMetrics(opts.registry);
    this.#runnables = new RunnableGroup({ clock: this.clock, logger: this.logger });
    const afterMs = opts.releaseMemoryAfterIdleMs ?? 0;
    const release = afterMs > 0 ? memoryReducingGc() : undefined;
    if (release) {
      this.#runnables.add({
        name: 'idle-memory',
        start: (signal) => releaseMemoryWhenIdle({ clock: this.clock, idleSince: () => this.idleSince(), afterMs, release, logger: this.logger }, signal),
      });
    }
    const host = safeHost(opts.kubeConfig);
    this.#http = new KubeHttp(opts.kubeConfig, {
      onRequest: (info) => {
        this.metrics.restRequests.inc({ code: String(info.status), method: info.method, host });
        opts.onRequest?.(info);
      },
    });
    this.client = new KubeClient(this.#http);
    const le = opts.leaderElection;
    this.#identity = le?.identity ?? `${hostname()}_${randomUUID()}`;
    if (le?.enabled) {
      this.metrics.leaderStatus.set({ name: le.leaseName }, 0);
      this.#elector = new LeaderElector({
        store: kubeLeaseStore(this.client),
        leaseName: le.leaseName,
        leaseNamespace: le.leaseNamespace,
        identity: this.#identity,
        leaseDurationMs: le.leaseDurationMs,
        renewDeadlineMs: le.renewDeadlineMs,
        retryPeriodMs: le.retryPeriodMs,
        clock: this.clock,
        logger: this.logger,
        onStartedLeading: () => {
          this.metrics.leaderStatus.set({ name: le.leaseName }, 1);
          this.#startWorkers();
          le.onStarted?.();
        },
        onStoppedLeading: () => {
          this.metrics.leaderStatus.set({ name: le.leaseName }, 0);
          this.#lostLeadership();
        },
      });
    }
  }

  /** True when this replica may reconcile: it leads, or election is off and it has started. */
  get isLeader(): boolean {
    return this.#elector ? this.#elector.isLeader : this.#workersStarted;
  }

  get identity(): string {
    return this.#identity;
  }

  /** The bound probe port once started (useful with port 0). */
  get probesPort(): number | undefined {
    return this.#probesPort;
  }

  /**
   * The shared informer of a resource type; created on first use and started with the manager.
   * `namespace` lists one namespace (default: the manager's namespace for namespaced resources,
   * all when it has none), so one resource may have an informer per namespace. An `optional`
   * informer (one made on demand, in a namespace the operator may not be allowed to read) counts
   * neither for the cache sync start() waits for nor for readiness.
   */
  informer<T extends KubeObject = KubeObject>(resource: ResourceType, opts: InformerScope = {}): SupervisedInformer<T> {
    const namespace = resource.namespaced ? (opts.namespace ?? this.#o.namespace) : undefined;
    const id = informerId(resource, namespace);
    let inf = this.#informers.get(id);
    if (!inf) {
      const tuning = this.#o.informers ?? {};
      inf = new SupervisedInformer<KubeObject>(kubeListWatcher(this.client, resource, { namespace, watchTimeoutSeconds: tuning.watchTimeoutSeconds }), {
        name: opts.namespace !== undefined ? `${resource.plural}/${opts.namespace}` : resource.plural,
        clock: this.clock,
        logger: this.logger,
        stallTimeoutMs: tuning.stallTimeoutMs,
        backoff: tuning.backoff,
      });
      this.#informers.set(id, inf);
      if (opts.optional) this.#optional.add(id);
      if (this.#state === 'starting' || this.#state === 'started') inf.start();
    }
    return inf as unknown as SupervisedInformer<T>;
  }

  /** Stops and forgets the informer of `resource` in `namespace` (one made on demand that is no longer needed). */
  async dropInformer(resource: ResourceType, namespace: string): Promise<void> {
    const id = informerId(resource, namespace);
    const inf = this.#informers.get(id);
    if (!inf) return;
    this.#informers.delete(id);
    this.#optional.delete(id);
    await inf.stop();
  }

  /** The informers start() waits for and readiness reports on. */
  #required(): SupervisedInformer<KubeObject>[] {
    return [...this.#informers].filter(([id]) => !this.#optional.has(id)).map(([, inf]) => inf);
  }

  #recorder(controller: string): EventRecorder {
    const recorder = new EventRecorder({
      client: this.client,
      clock: this.clock,
      controller: `${this.#o.eventSource ?? 'vcd-operator.io'}/${controller}`,
      instance: this.#identity.slice(0, 128),
      logger: this.logger,
    });
    this.#recorders.push(recorder);
    return recorder;
  }

  addController<T extends KubeObject>(def: ControllerDefinition<T>): void {
    if (this.#state !== 'new') throw new Error(`addController(${def.name}) after start`);
    if (this.#controllers.some((c) => c.name === def.name)) throw new Error(`controller ${def.name} already added`);
    const controller = new Controller<T>(def, {
      primary: this.informer<T>(def.for),
      informerFor: (r) => this.informer(r),
      client: this.client,
      clock: this.clock,
      logger: this.logger,
      metrics: this.metrics,
      status: new StatusWriter(this.client, def.for, this.clock),
      finalizers: new FinalizerHelper(this.client, def.for),
      events: this.#recorder(def.name),
    });
    this.#controllers.push(controller as unknown as Controller<KubeObject>);
    for (const source of def.sources ?? []) {
      this.#runnables.add(
        { name: `${def.name}/source/${source.name}`, start: (signal) => source.start((keys) => controller.enqueue(keys), signal) },
        { leaderOnly: true },
      );
    }
  }

  /**
   * Runs `runnable` in the manager's lifecycle: started once caches have synced (leader-only ones
   * when this replica leads), aborted and awaited on stop() within the graceful deadline,
   * restarted with backoff when it throws.
   */
  add(runnable: Runnable, opts: RunnableOptions = {}): void {
    if (this.#state !== 'new') throw new Error(`add(${runnable.name}) after start`);
    this.#runnables.add(runnable, opts);
  }

  /** Cached objects of `controller`'s primary resource whose index `index` yields `value`. */
  byIndex<T extends KubeObject = KubeObject>(controller: string, index: string, value: string): T[] {
    const c = this.#controllers.find((x) => x.name === controller);
    if (!c) throw new Error(`no controller ${controller}`);
    return c.byIndex(index, value) as T[];
  }

  /**
   * Starts probes and informers, waits for every cache to sync, then either starts reconciling
   * (no election) or campaigns for the lease and resolves once leading or standing by.
   */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error(`manager already ${this.#state}`);
    this.#state = 'starting';
    if (this.#o.probes) {
      this.#probes = new ProbeServer({ ...this.#o.probes, registry: this.metrics.registry, readiness: () => this.#readiness() });
      this.#probesPort = await this.#probes.listen();
    }
    for (const inf of this.#informers.values()) inf.start();
    const timeoutMs = this.#o.cacheSyncTimeoutMs ?? 120_000;
    const synced = Promise.all(this.#required().map((i) => i.waitForSync())).then(() => true);
    const ok = await Promise.race([synced, sleep(this.clock, timeoutMs).then(() => false)]);
    if (!ok) {
      const pending = this.#required()
        .filter((i) => !i.hasSynced())
        .map((i) => i.name);
      await this.stop();
      throw new Error(`caches not synced within ${timeoutMs} ms: ${pending.join(', ')}`);
    }
    if (this.#state !== 'starting') return; // stop() was called while caches were syncing
    this.#runnables.start('all-replicas');
    if (this.#elector) await this.#elector.start();
    else this.#startWorkers();
    if (this.#state !== 'starting') return;
    this.#state = 'started';
    this.logger.info({ controllers: this.#controllers.map((c) => c.name), role: this.#role() }, 'manager started');
  }

  /**
   * Graceful stop: no new keys, in-flight reconciles finish (aborted after the shutdown
   * timeout), then the lease is released so a standby takes over at once.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  /**
   * On SIGTERM/SIGINT: stop gracefully (drain reconciles, stop runnables such as the connection
   * pool, release the lease), then exit 0; exit 1 when the stop itself fails.
   */
  handleSignals(): void {
    const onSignal = (sig: string): void => {
      this.logger.info({ signal: sig }, 'shutting down');
      this.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          this.logger.error({ err }, 'unclean shutdown');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }

  async #stop(): Promise<void> {
    const wasStarting = this.#state === 'starting';
    this.#state = 'stopping';
    // An elector started by a start() still in flight must not outlive the stop.
    if (wasStarting) await this.#elector?.stop();
    for (const c of this.#controllers) c.stopIntake();
    // The deadline is wall time on purpose: it bounds how long a real process takes to exit.
    const graceMs = this.#o.gracefulShutdownTimeoutMs ?? 30_000;
    const deadline = systemClock.now() + graceMs;
    const drained = Promise.all(this.#controllers.map((c) => c.drained())).then(() => true);
    if (!(await Promise.race([drained, sleep(systemClock, graceMs).then(() => false)]))) {
      this.logger.warn({ graceMs }, 'reconciles still running at the shutdown deadline; aborting them');
      for (const c of this.#controllers) c.abortInFlight('shutdown deadline passed');
      await Promise.race([drained, sleep(systemClock, 1000)]);
    }
    // Events the last reconciles recorded are still being written; they get a moment, not the grace period.
    const written = new AbortController();
    await Promise.race([Promise.all(this.#recorders.map((r) => r.idle())), sleep(systemClock, 2000, written.signal).catch(() => undefined)]);
    written.abort();
    // After the drain: a runnable such as the connection pool must outlive the reconciles using it.
    await this.#runnables.stop(Math.max(1000, deadline - systemClock.now()), systemClock);
    await this.#elector?.stop();
    await Promise.all([...this.#informers.values()].map((i) => i.stop()));
    await this.#probes?.close();
    this.#http.close();
    this.#state = 'stopped';
    this.logger.info('manager stopped');
  }

  /** When the last reconcile of any controller ended, or undefined while one runs or keys wait. */
  idleSince(): number | undefined {
    let latest = 0;
    for (const c of this.#controllers) {
      const since = c.idleSince();
      if (since === undefined) return undefined;
      latest = Math.max(latest, since);
    }
    return latest;
  }

  #startWorkers(): void {
    if (this.#workersStarted || this.#state === 'stopping' || this.#state === 'stopped') return;
    this.#workersStarted = true;
    for (const c of this.#controllers) c.start();
    this.#runnables.start('leader');
  }

  #lostLeadership(): void {
    for (const c of this.#controllers) {
      c.stopIntake();
      c.abortInFlight('leadership lost');
    }
    this.#runnables.abortLeaderOnly();
    const onLost =
      this.#o.leaderElection?.onLost ??
      (() => {
        this.logger.fatal('leadership lost; exiting');
        process.exit(1);
      });
    onLost();
  }

  #role(): string {
    if (!this.#elector) return 'single';
    return this.#elector.isLeader ? 'leader' : 'standby';
  }

  #readiness(): Readiness {
    if (this.#state !== 'started') return { ready: false, detail: this.#state };
    const unsynced = this.#required()
      .filter((i) => !i.hasSynced())
      .map((i) => i.name);
    if (unsynced.length) return { ready: false, detail: `caches not synced: ${unsynced.join(', ')}` };
    return { ready: true, detail: this.#role() };
  }
}

export interface InformerScope {
  /** List and watch only this namespace (namespaced resources). */
  namespace?: string;
  /** Made on demand: not waited for by start(), not part of readiness. */
  optional?: boolean;
}

function informerId(resource: ResourceType, namespace: string | undefined): string {
  return `${resourceId(resource)}@${namespace ?? ''}`;
}

function safeHost(kc: KubeAuth): string {
  try {
    return new URL(kc.getCurrentCluster()?.server ?? '').host;
  } catch {
    return '';
  }
}
