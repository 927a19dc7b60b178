/**
 * The controller runtime: shared supervised informers, rate-limited work queues, leader
 * election, runnables and key sources, status/conditions, finalizers, events, metrics, probes
 * and graceful shutdown.
 *
 * @example
 * ```ts
 * import { Manager, createLogger, objectKey, type KubeObject, type ResourceType } from '../runtime/index.ts';
 *
 * const claims: ResourceType = { group: 'vcd-operator.io', version: 'v1alpha1', plural: 'floatingipclaims', kind: 'FloatingIPClaim', namespaced: true };
 * const secrets: ResourceType = { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true };
 *
 * const manager = new Manager({
 *   kubeConfig,
 *   logger: createLogger({ level: 'info' }),
 *   leaderElection: { enabled: true, leaseName: 'vcd-operator', leaseNamespace: 'vcd-system' },
 *   probes: { port: 8081 },
 * });
 * manager.addController<Claim>({
 *   name: 'floatingipclaim',
 *   for: claims,
 *   indexers: { bySecret: (c) => [`${c.metadata?.namespace}/${c.spec.secretName}`] },
 *   watches: [{ resource: secrets, keysFor: (s) => manager.informer<Claim>(claims).byIndex('bySecret', objectKey(s as KubeObject)).map(objectKey) }],
 *   maxConcurrentReconciles: 4,
 *   async reconcile(key, ctx) {
 *     const claim = ctx.informer.get(key);
 *     if (!claim) return;                                   // deleted; the finalizer did the cleanup
 *     const withFinalizer = await ctx.finalizers.ensure(claim, 'vcd-operator.io/release');
 *     const ip = await allocate(withFinalizer, ctx.signal); // throw to retry with backoff, TerminalError to stop
 *     await ctx.status.patchStatus(withFinalizer, (s) => {
 *       s.address = ip;
 *       ctx.status.setCondition((s.conditions ??= []), { type: 'Ready', status: 'True', reason: 'Allocated', message: `Allocated ${ip}` });
 *     });                                                   // one merge-patch to /status, none if unchanged
 *     await ctx.events.record(claim, { type: 'Normal', reason: 'Allocated', message: `Allocated ${ip}` });
 *     return { requeueAfterMs: 10 * 60_000 };                // drift check
 *   },
 * });
 * // Work that is not a controller: started once caches sync, stopped (and awaited) by stop(),
 * // restarted with backoff when it throws. leaderOnly: only while this replica leads.
 * manager.add({ name: 'usage-poller', start: (signal) => pollUntil(signal) }, { leaderOnly: true });
 * // A controller may also take keys from outside Kubernetes (a message bus) through
 * // `sources: [{ name: 'mqtt', start: (enqueue, signal) => subscribe(enqueue, signal) }]`.
 * manager.handleSignals();                                  // SIGTERM: drain, stop runnables, release the lease, exit 0
 * await manager.start();                                    // caches synced; leading or standing by
 * ```
 */
export { apiVersionOf, objectKey, resourceId, resourcePath, splitKey, type KubeObject, type ObjectMeta, type ResourceType } from './types.ts';
export { ManualClock, systemClock, type Clock, type TimerHandle } from './clock.ts';
export { isKubeApiError, KubeApiError, TerminalError } from './errors.ts';
export { loadKubeAuth, StaticKubeAuth, type KubeAuth } from './kubeconfig.ts';
export { KubeHttp, type KubeTransport, type PatchType, type RequestInfo, type RequestOptions } from './kube-http.ts';
export type { Priority as RequestPriority } from '../clients/common/limits.ts';
export { KubeClient } from './client.ts';
export { kubeListWatcher, type ListWatcher, type WatchEvent } from './list-watcher.ts';
export { stripManagedFields } from './trim.ts';
export { SupervisedInformer, scopedIndexName, type IndexFunc, type InformerHandler, type InformerOptions, type InformerStats } from './informer.ts';
export { defaultControllerRateLimiter, ItemExponentialRateLimiter, MaxOfRateLimiter, TokenBucketRateLimiter, type RateLimiter } from './rate-limiter.ts';
export { WorkQueue, type WorkQueueMetrics, type WorkQueueOptions } from './workqueue.ts';
export type { ControllerDefinition, ReconcileContext, ReconcileResult, Source, WatchDefinition } from './controller.ts';
export { findCondition, metav1Time, removeCondition, setCondition, type Condition, type ConditionInput, type ConditionStatus } from './conditions.ts';
export { StatusWriter, type StatusShape, type WithStatus } from './status.ts';
export { FinalizerHelper } from './finalizers.ts';
export { EventRecorder, type EventInput } from './events.ts';
export { LeaderElector, kubeLeaseStore, type Lease, type LeaseStore, type LeaderElectionOptions } from './leader-election.ts';
export { RuntimeMetrics } from './metrics.ts';
export { CRASH_EXIT_CODE, exitOnUnhandledErrors, type CrashPolicyOptions } from './crash-policy.ts';
export { createLogger, defaultRedactPaths, type Logger, type LoggerOptions } from './logger.ts';
export { Manager, type InformerScope, type LeaderElectionConfig, type ManagerOptions } from './manager.ts';
export { NamespacedInformers, type InformerEvents, type NamespacedInformersOptions } from './namespaced-informers.ts';
export { RunnableGroup, type Runnable, type RunnableGroupOptions, type RunnableOptions } from './runnables.ts';
