// Leader election on a coordination.k8s.io/v1 Lease, following client-go's algorithm: a lease is
// held while its holder renews it; others take it over once they have seen the same renewTime
// for a whole lease duration on their own clock (so clock skew between replicas does not matter).
// Every write is a PUT with the resourceVersion read, so two candidates cannot both win.
import type { Logger } from 'pino';
import type { KubeClient } from './client.ts';
import { sleep, systemClock, type Clock } from './clock.ts';
import { isKubeApiError } from './errors.ts';
import { microTime } from './events.ts';
import { errorSummary } from './informer.ts';
import type { ResourceType } from './types.ts';

export const leaseResource: ResourceType = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true };

export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number;
  };
}

/** Where leases are read and written; the Kubernetes API in production, a map in unit tests. */
export interface LeaseStore {
  /** The lease, or undefined when it does not exist. */
  get(namespace: string, name: string): Promise<Lease | undefined>;
  /** Creates the lease; throws on conflict (someone created it first). */
  create(lease: Lease): Promise<Lease>;
  /** Replaces the lease if metadata.resourceVersion still matches; throws on conflict. */
  update(lease: Lease): Promise<Lease>;
}

export function kubeLeaseStore(client: KubeClient): LeaseStore {
  return {
    async get(namespace, name) {
      try {
        return await client.get<Lease>(leaseResource, name, namespace);
      } catch (err) {
        if (isKubeApiError(err, 404)) return undefined;
        throw err;
      }
    },
    create: (lease) => client.create(leaseResource, lease),
    update: (lease) => client.replace(leaseResource, lease),
  };
}

export interface LeaderElectionOptions {
  store: LeaseStore;
  leaseName: string;
  leaseNamespace: string;
  identity: string;
  /** How long a lease is valid after its last renewal. Default 15 s. */
  leaseDurationMs?: number;
  /** The leader gives up if it cannot renew for this long. Default 10 s. */
  renewDeadlineMs?: number;
  /** Interval between attempts to acquire or renew. Default 2 s. */
  retryPeriodMs?: number;
  clock?: Clock;
  logger?: Logger;
  random?: () => number;
  onStartedLeading: () => void;
  /** Called when leadership is lost (not on release). */
  onStoppedLeading: () => void;
}

export class LeaderElector {
  readonly #o: Required<Omit<LeaderElectionOptions, 'logger'>> & { logger?: Logger };
  #observed: { rv: string; holder: string; renewTime: string; durationMs: number } | undefined;
  #observedAt = 0;
  #lease: Lease | undefined;
  #leading = false;
  #lastRenew = 0;
  #abort: AbortController | undefined;
  #loop: Promise<void> | undefined;
  #firstAttempt: Promise<void>;
  #firstAttemptDone: () => void = () => undefined;

  constructor(opts: LeaderElectionOptions) {
    this.#o = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, clock: systemClock, random: Math.random, ...opts };
    if (this.#o.leaseDurationMs <= this.#o.renewDeadlineMs) throw new Error('leaseDurationMs must exceed renewDeadlineMs');
    if (this.#o.renewDeadlineMs <= this.#o.retryPeriodMs) throw new Error('renewDeadlineMs must exceed retryPeriodMs');
    this.#firstAttempt = new Promise((r) => (this.#firstAttemptDone = r));
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  get identity(): string {
    return this.#o.identity;
  }

  /** Starts campaigning; resolves after the first attempt (leading or standing by). */
  async start(): Promise<void> {
    if (!this.#loop) {
      this.#abort = new AbortController();
      this.#loop = this.#run(this.#abort.signal);
    }
    await this.#firstAttempt;
  }

  /** Stops campaigning and, when leading, releases the lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.#abort?.abort(new Error('leader election stopped'));
    await this.#loop;
    this.#loop = undefined;
    if (this.#leading) {
      this.#leading = false;
      await this.#release();
    }
  }

  async #run(signal: AbortSignal): Promise<void> {
    const { clock, retryPeriodMs, renewDeadlineMs } = this.#o;
    while (!signal.aborted) {
      // A leader whose renew call hangs must still notice the deadline passing.
      const budget = this.#leading ? Math.max(0, this.#lastRenew + renewDeadlineMs - clock.now()) : renewDeadlineMs;
      const ok = await this.#withDeadline(this.#tryAcquireOrRenew(), budget);
      const now = clock.now();
      if (ok) {
        this.#lastRenew = now;
        if (!this.#leading) {
          this.#leading = true;
          // Stopped meanwhile: keep the flag so stop() releases the lease, but start nothing.
          if (signal.aborted) break;
          this.#o.logger?.info({ lease: this.#o.leaseName, identity: this.#o.identity }, 'became leader');
          this.#o.onStartedLeading();
        }
      } else if (this.#leading && now - this.#lastRenew >= renewDeadlineMs) {
        this.#leading = false;
        this.#o.logger?.error({ lease: this.#o.leaseName, identity: this.#o.identity }, 'leadership lost: lease not renewed within the renew deadline');
        this.#o.onStoppedLeading();
      }
      this.#firstAttemptDone();
      if (signal.aborted) break;
      // Candidates spread their attempts (client-go's 1.2 jitter factor); the leader renews on time.
      const wait = this.#leading ? retryPeriodMs : retryPeriodMs * (1 + 0.2 * this.#o.random());
      try {
        await sleep(clock, wait, signal);
      } catch {
        break;
      }
    }
    this.#firstAttemptDone(); // a start() waiting on an aborted first attempt must not hang
  }

  #withDeadline(attempt: Promise<boolean>, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = this.#o.clock.setTimeout(() => resolve(false), ms);
      void attempt.then((ok) => {
        timer.cancel();
        resolve(ok);
      });
    });
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { store, leaseName, leaseNamespace, identity, clock, leaseDurationMs } = this.#o;
    const now = clock.now();
    const spec = (acquireTime: string, transitions: number): Lease['spec'] => ({
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
      acquireTime,
      renewTime: microTime(now),
      leaseTransitions: transitions,
    });
    try {
      const current = await store.get(leaseNamespace, leaseName);
      if (!current) {
        this.#lease = await store.create({
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: leaseName, namespace: leaseNamespace },
          spec: spec(microTime(now), 0),
        });
        this.#observe(this.#lease, now);
        return true;
      }
      this.#observe(current, now);
      const holder = current.spec?.holderIdentity ?? '';
      const observed = this.#observed;
      if (holder && holder !== identity && observed && this.#observedAt + observed.durationMs > now) {
        return false; // someone else holds a lease that has not expired on our clock
      }
      const mine = holder === identity;
      const next: Lease = {
        ...current,
        spec: spec(mine ? (current.spec?.acquireTime ?? microTime(now)) : microTime(now), (current.spec?.leaseTransitions ?? 0) + (mine ? 0 : 1)),
      };
      this.#lease = await store.update(next);
      this.#observe(this.#lease, now);
      return true;
    } catch (err) {
      if (!isKubeApiError(err, 409)) {
        this.#o.logger?.warn({ err: errorSummary(err), lease: leaseName }, 'lease acquire/renew failed');
      }
      return false;
    }
  }

  #observe(lease: Lease, now: number): void {
    const rec = {
      rv: lease.metadata.resourceVersion ?? '',
      holder: lease.spec?.holderIdentity ?? '',
      renewTime: lease.spec?.renewTime ?? '',
      durationMs: (lease.spec?.leaseDurationSeconds ?? 0) * 1000,
    };
    const o = this.#observed;
    if (!o || o.holder !== rec.holder || o.renewTime !== rec.renewTime || o.durationMs !== rec.durationMs) {
      this.#observedAt = now;
    }
    this.#observed = rec;
  }

  async #release(): Promise<void> {
    const lease = this.#lease;
    if (!lease || lease.spec?.holderIdentity !== this.#o.identity) return;
    const now = microTime(this.#o.clock.now());
    try {
      await this.#o.store.update({
        ...lease,
        spec: { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, acquireTime: now, renewTime: now },
      });
      this.#o.logger?.info({ lease: this.#o.leaseName, identity: this.#o.identity }, 'released lease');
    } catch (err) {
      this.#o.logger?.warn({ err: errorSummary(err), lease: this.#o.leaseName }, 'could not release lease');
    }
  }
}
