// TrafficMeter: hands the spec to the poller (which reads NSX on the leader, spread over the
// interval) and shows what it saw: the last poll time, totals per edge, and a condition naming
// every meter point it could not read, while the others keep being exported.
import { Reasons, TrafficMeterResource, validateTrafficMeter, type TrafficMeter, type TrafficMeterStatus } from '../../api/index.ts';
import type { ControllerDefinition, Source } from '../../runtime/index.ts';
import { ConnectionFailure } from '../../reconcile/connections/index.ts';
import type { ControllerDeps } from '../deps.ts';
import type { MeterClients, TrafficPoller } from './poller.ts';

type Status = NonNullable<TrafficMeterStatus>;

export const MeterReasons = {
  /** Ready: every interval reads the meter points. */
  Metering: 'Metering',
  /** MeterPointsReadable: some meter points could not be read (the message names them). */
  MeterPointUnreadable: 'MeterPointUnreadable',
  AllReadable: 'AllReadable',
} as const;

export function trafficMeterController(
  deps: ControllerDeps & { operatorNamespace: string },
  poller: TrafficPoller,
  polled: Source,
): ControllerDefinition<TrafficMeter> {
  const clientsOf = (m: TrafficMeter) => async (): Promise<MeterClients> => {
    const nsx = await deps.nsxPool.resolve(m.spec.nsxConnectionRef.name);
    if (!nsx.ok) throw new ConnectionFailure(nsx.reason, nsx.message);
    const vcd = await deps.pool.resolve({ kind: 'ClusterVCDConnection', name: m.spec.vcdConnectionRef.name }, deps.operatorNamespace);
    if (!vcd.ok) throw new ConnectionFailure(vcd.reason, vcd.message);
    if (!vcd.client.isProvider)
      throw new ConnectionFailure(
        Reasons.InvalidSpec,
        `ClusterVCDConnection ${m.spec.vcdConnectionRef.name} is not a System (provider) connection; metering needs to see every org's edges.`,
      );
    return { nsx: nsx.client, vcd: vcd.client };
  };

  return {
    name: 'trafficmeter',
    for: TrafficMeterResource,
    sources: [polled],
    async reconcile(key, ctx) {
      const m = ctx.informer.get(key);
      if (!m || m.metadata?.deletionTimestamp) {
        poller.remove(key);
        return;
      }
      const gen = m.metadata?.generation ?? 0;
      const checked = validateTrafficMeter.validate(m);
      if (!checked.valid) {
        poller.remove(key);
        await ctx.status.patchStatus(m, (s: Status) => {
          s.conditions ??= [];
          ctx.status.setCondition(s.conditions, {
            type: 'Ready',
            status: 'False',
            reason: Reasons.InvalidSpec,
            message: `${checked.message}. Fix the spec.`,
            observedGeneration: gen,
          });
        });
        return;
      }
      poller.configure(key, m.spec, clientsOf(m));
      const snap = poller.snapshot(key);
      await ctx.status.patchStatus(m, (s: Status) => {
        s.observedGeneration = gen;
        s.conditions ??= [];
        if (snap?.lastPollTime !== undefined) s.lastPollTime = new Date(snap.lastPollTime).toISOString();
        if (snap) {
          s.edges = snap.edges.map((e) => ({ ...e }));
          if (snap.unreadable.length) s.unreadable = snap.unreadable.slice(0, 100);
          else delete s.unreadable;
        }
        const ready = snap?.error
          ? { status: 'False' as const, reason: Reasons.ConnectionNotReady, message: `Cannot poll: ${snap.error}` }
          : snap?.lastPollTime !== undefined
            ? {
                status: 'True' as const,
                reason: MeterReasons.Metering,
                message: `Metering ${snap.edges.length} edge gateway(s); counters are on /metrics as vcd_operator_traffic_*.`,
              }
            : { status: 'False' as const, reason: Reasons.Pending, message: 'The first interval of reads has not ended yet.' };
        ctx.status.setCondition(s.conditions, { type: 'Ready', ...ready, observedGeneration: gen });
        if (snap?.lastPollTime !== undefined) {
          const bad = snap.unreadable;
          ctx.status.setCondition(s.conditions, {
            type: 'MeterPointsReadable',
            status: bad.length ? 'False' : 'True',
            reason: bad.length ? MeterReasons.MeterPointUnreadable : MeterReasons.AllReadable,
            message: bad.length
              ? `${bad.length} meter point(s) could not be read; the others are exported: ${bad.slice(0, 5).join('; ')}${bad.length > 5 ? '; …' : ''}`
              : 'Every meter point was read in the last interval.',
            observedGeneration: gen,
          });
        }
      });
    },
  };
}

/** The Source through which the poller wakes the controller after each interval. */
export function pollSource(): { source: Source; notify: (meter: string) => void } {
  let enqueue: ((keys: Iterable<string>) => void) | undefined;
  return {
    notify: (meter) => enqueue?.([meter]),
    source: {
      name: 'traffic-polls',
      start: async (e, signal) => {
        enqueue = e;
        if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        enqueue = undefined;
      },
    },
  };
}
