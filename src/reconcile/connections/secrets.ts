// Where credentials Secrets are read from, by Secret access mode:
// - cluster: one informer over every namespace the operator watches (all, or --namespace), plus one
//   for the operator namespace when --namespace names another (ClusterVCDConnection and
//   VCenterTrust Secrets live there);
// - granted: one informer for the operator namespace (always readable; counted for readiness),
//   and one per namespace that holds a VCDConnection, opened when the first connection appears
//   and closed when the last one goes. RBAC may refuse it (the namespace's owner has not bound
//   the secret-reader ClusterRole): get() then says so, and the informer keeps retrying with its
//   bounded backoff, so the grant takes effect without a restart.
import type { Logger } from 'pino';
import { Reasons, type VCDConnection } from '../../api/index.ts';
import {
  NamespacedInformers,
  objectKey,
  splitKey,
  type InformerEvents,
  type InformerHandler,
  type InformerScope,
  type KubeObject,
  type ResourceType,
  type SupervisedInformer,
} from '../../runtime/index.ts';
import { ConnectionFailure } from './failure.ts';
import { SecretResource, type Secret, type SecretSource } from './resources.ts';

export const SecretAccessModes = ['cluster', 'granted'] as const;
export type SecretAccess = (typeof SecretAccessModes)[number];

/** What the store needs from the Manager. */
export interface SecretInformerHost {
  informer<T extends KubeObject>(resource: ResourceType, opts?: InformerScope): SupervisedInformer<T>;
  dropInformer(resource: ResourceType, namespace: string): Promise<void>;
}

export interface SecretStoreOptions {
  host: SecretInformerHost;
  access: SecretAccess;
  operatorNamespace: string;
  /** The one namespace the operator watches, when it watches one. */
  watchNamespace?: string;
  /** Named in the message that tells a tenant how to grant Secret read (granted mode). */
  grant?: { clusterRole: string; serviceAccount?: string };
  logger?: Logger;
}

export class SecretStore implements SecretSource, InformerEvents<KubeObject> {
  readonly #o: SecretStoreOptions;
  /** Informers that exist for the operator's lifetime, with the namespace each covers (undefined: all). */
  readonly #fixed: Array<{ namespace: string | undefined; informer: SupervisedInformer<Secret> }> = [];
  readonly #tenants: NamespacedInformers<Secret> | undefined;

  constructor(opts: SecretStoreOptions) {
    this.#o = opts;
    const { host, operatorNamespace: ops, watchNamespace: watch } = opts;
    const scoped = (namespace: string): void => void this.#fixed.push({ namespace, informer: host.informer<Secret>(SecretResource, { namespace }) });
    if (opts.access === 'cluster' && !watch) {
      this.#fixed.push({ namespace: undefined, informer: host.informer<Secret>(SecretResource) });
    } else {
      scoped(ops);
      if (opts.access === 'cluster' && watch && watch !== ops) scoped(watch);
    }
    if (opts.access === 'granted') {
      this.#tenants = new NamespacedInformers<Secret>({
        open: (namespace) => host.informer<Secret>(SecretResource, { namespace, optional: true }),
        close: (namespace) => host.dropInformer(SecretResource, namespace),
        onCloseError: (namespace, err) =>
          opts.logger?.warn({ namespace, err: err instanceof Error ? err.message : String(err) }, 'stopping a Secret informer failed'),
      });
    }
  }

  /**
   * Keeps a tenant Secret informer open for every namespace that holds a VCDConnection (granted
   * mode; nothing to do in cluster mode). Register before the controllers start.
   */
  track(connections: InformerEvents<VCDConnection>): void {
    const tenants = this.#tenants;
    if (!tenants) return;
    const needs = (c: VCDConnection): string | undefined => {
      const ns = c.metadata?.namespace;
      if (!ns || ns === this.#o.operatorNamespace) return undefined;
      return this.#o.watchNamespace && ns !== this.#o.watchNamespace ? undefined : ns;
    };
    connections.on({
      add: (c) => {
        const ns = needs(c);
        if (ns) tenants.acquire(ns, objectKey(c));
      },
      delete: (c) => {
        const ns = needs(c);
        if (ns) tenants.release(ns, objectKey(c));
      },
    });
  }

  /** The namespaces with a tenant Secret informer open (granted mode). */
  tenantNamespaces(): string[] {
    return this.#tenants?.namespaces() ?? [];
  }

  /**
   * The cached Secret of a `namespace/name` key, undefined when it does not exist. Throws
   * ConnectionFailure when the namespace's Secrets cannot be read (SecretAccessNotGranted) or
   * are not loaded yet (Pending).
   */
  get(key: string): Secret | undefined {
    const { namespace = '' } = splitKey(key);
    const fixed = this.#fixed.find((f) => f.namespace === undefined || f.namespace === namespace);
    if (fixed) return fixed.informer.get(key);
    const informer = this.#tenants?.get(namespace);
    if (!informer) return undefined;
    if (informer.hasSynced()) return informer.get(key);
    if (informer.stats.lastError?.code === 403) throw new ConnectionFailure(Reasons.SecretAccessNotGranted, this.#notGranted(namespace));
    throw new ConnectionFailure(Reasons.Pending, `The Secrets of namespace ${namespace} are not loaded yet; the operator tries again.`);
  }

  #notGranted(namespace: string): string {
    const role = this.#o.grant?.clusterRole ?? 'vcd-operator-secret-reader';
    const account = `${this.#o.operatorNamespace}:${this.#o.grant?.serviceAccount ?? '<operator ServiceAccount>'}`;
    return (
      `The operator may not read Secrets in namespace ${namespace} (Secret access is granted per namespace). ` +
      `The namespace's owner grants it once with: kubectl -n ${namespace} create rolebinding ${role} --clusterrole=${role} --serviceaccount=${account}`
    );
  }

  /** Events of every Secret informer, present and future: a controller watch source. */
  on(handler: InformerHandler<KubeObject>): () => void {
    const h = handler as InformerHandler<Secret>;
    const offs = [...this.#fixed.map((f) => f.informer.on(h)), ...(this.#tenants ? [this.#tenants.on(h)] : [])];
    return () => offs.forEach((off) => off());
  }
}
