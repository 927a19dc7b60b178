// Counts Ready claims with the operator's own supervised informer (relists on 410, reconnects
// with backoff, restarts a silent watch), keeping only name and readiness per claim so that the
// measuring process stays small at 10,000 objects.
import { FloatingIPClaimResource } from '../../src/api/index.ts';
import { kubeListWatcher, SupervisedInformer, type KubeClient, type KubeObject } from '../../src/runtime/index.ts';

interface SlimClaim extends KubeObject {
  ready?: boolean;
  status?: { conditions?: Array<{ type: string; status: string }> };
}

export class ReadyCounter {
  readonly #informer: SupervisedInformer<SlimClaim>;
  readonly #ready = new Set<string>();
  /** When the count last went up. */
  lastReadyAt = 0;
  firstReadyAt = 0;

  constructor(kube: KubeClient, namespace: string) {
    this.#informer = new SupervisedInformer<SlimClaim>(kubeListWatcher(kube, FloatingIPClaimResource, { namespace }), {
      name: `bench-${namespace}`,
      // Short: the apiserver restart of the chaos case must not leave the count waiting 30 s.
      backoff: { initialMs: 200, maxMs: 2000 },
      transform: (o) => ({
        metadata: { name: o.metadata?.name ?? '', namespace, resourceVersion: o.metadata?.resourceVersion ?? '' },
        ready: !!o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      }),
    });
    const seen = (o: SlimClaim): void => {
      const name = o.metadata?.name ?? '';
      if (o.ready && !this.#ready.has(name)) {
        this.#ready.add(name);
        this.lastReadyAt = Date.now();
        this.firstReadyAt ||= this.lastReadyAt;
      } else if (!o.ready) this.#ready.delete(name);
    };
    this.#informer.on({ add: seen, update: (_o, n) => seen(n), delete: (o) => this.#ready.delete(o.metadata?.name ?? '') });
  }

  async start(): Promise<void> {
    this.#informer.start();
    await this.#informer.waitForSync();
  }

  get ready(): number {
    return this.#ready.size;
  }

  get total(): number {
    return this.#informer.keys().length;
  }

  names(): string[] {
    return this.#informer.keys();
  }

  async stop(): Promise<void> {
    await this.#informer.stop();
  }
}
