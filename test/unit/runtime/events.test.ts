import assert from 'node:assert/strict';
import { KubeClient } from '../../../src/runtime/client.ts';
import { ManualClock } from '../../../src/runtime/clock.ts';
import { KubeApiError } from '../../../src/runtime/errors.ts';
import { EventRecorder } from '../../../src/runtime/events.ts';
import type { KubeObject } from '../../../src/runtime/types.ts';
import { RecordingTransport } from './recording-transport.ts';

const claim: KubeObject = {
  apiVersion: 'vcd-operator.io/v1alpha1',
  kind: 'FloatingIPClaim',
  metadata: { name: 'web', namespace: 'team-a', uid: 'u-1', resourceVersion: '9' },
};

describe('EventRecorder', function () {
  let http: RecordingTransport;
  let clock: ManualClock;
  let rec: EventRecorder;

  beforeEach(function () {
    http = new RecordingTransport();
    clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    rec = new EventRecorder({ client: new KubeClient(http), clock, controller: 'vcd-operator.io/claims', instance: 'pod-1', seriesWindowMs: 600_000 });
  });

  it('creates an events.k8s.io/v1 Event about the object', async function () {
    rec.record(claim, { type: 'Warning', reason: 'QuotaExceeded', message: 'quota of 5 IPs used up', action: 'Allocate' });
    await rec.idle();
    const [req] = http.requests;
    assert.equal(req?.method, 'POST');
    assert.equal(req?.path, '/apis/events.k8s.io/v1/namespaces/team-a/events');
    const body = req?.body as Record<string, unknown>;
    assert.match((body.metadata as { name: string }).name, /^web\.[0-9a-f]{16}$/);
    assert.equal(body.eventTime, '2026-01-01T12:00:00.000000Z');
    assert.deepEqual(
      { ...body, metadata: undefined },
      {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: undefined,
        eventTime: '2026-01-01T12:00:00.000000Z',
        reportingController: 'vcd-operator.io/claims',
        reportingInstance: 'pod-1',
        action: 'Allocate',
        reason: 'QuotaExceeded',
        note: 'quota of 5 IPs used up',
        type: 'Warning',
        regarding: { apiVersion: 'vcd-operator.io/v1alpha1', kind: 'FloatingIPClaim', name: 'web', namespace: 'team-a', uid: 'u-1', resourceVersion: '9' },
      },
    );
  });

  it('turns repeats into a series on the same Event instead of new Events', async function () {
    const e = { type: 'Warning' as const, reason: 'QuotaExceeded', message: 'quota used up' };
    rec.record(claim, e);
    await rec.idle();
    await clock.advance(60_000);
    rec.record(claim, e);
    await rec.idle();
    rec.record(claim, e);
    await rec.idle();
    assert.deepEqual(
      http.requests.map((r) => r.method),
      ['POST', 'PATCH', 'PATCH'],
    );
    const name = (http.requests[0]?.body as { metadata: { name: string } }).metadata.name;
    assert.equal(http.requests[2]?.path, `/apis/events.k8s.io/v1/namespaces/team-a/events/${name}`);
    assert.deepEqual(http.requests[2]?.body, { series: { count: 3, lastObservedTime: '2026-01-01T12:01:00.000000Z' } });
  });

  it('starts a new Event for a different message, or after the series window', async function () {
    rec.record(claim, { type: 'Normal', reason: 'Allocated', message: 'a' });
    await rec.idle();
    rec.record(claim, { type: 'Normal', reason: 'Allocated', message: 'b' });
    await rec.idle();
    await clock.advance(600_001);
    rec.record(claim, { type: 'Normal', reason: 'Allocated', message: 'a' });
    await rec.idle();
    assert.deepEqual(
      http.requests.map((r) => r.method),
      ['POST', 'POST', 'POST'],
    );
  });

  it('recreates an Event that expired on the server, keeping the count; never throws', async function () {
    const e = { type: 'Warning' as const, reason: 'EdgeBusy', message: 'edge busy' };
    rec.record(claim, e);
    await rec.idle();
    http.respond = (r) => {
      if (r.method === 'PATCH') throw new KubeApiError('PATCH', r.path, 404, { reason: 'NotFound' });
      return r.body;
    };
    rec.record(claim, e);
    await rec.idle();
    assert.deepEqual(
      http.requests.map((r) => r.method),
      ['POST', 'PATCH', 'POST'],
    );
    assert.deepEqual((http.requests[2]?.body as { series?: { count: number } }).series?.count, 2);
    http.respond = () => {
      throw new KubeApiError('POST', '/events', 403, { reason: 'Forbidden' });
    };
    rec.record(claim, { type: 'Normal', reason: 'Other', message: 'x' }); // resolves despite 403
    await rec.idle();
  });

  it('returns before the write is done, and drops events beyond its bound instead of queueing without end', async function () {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    http.respond = async (r) => {
      await gate;
      return r.body;
    };
    const bounded = new EventRecorder({ client: new KubeClient(http), clock, controller: 'vcd-operator.io/claims', instance: 'pod-1', maxPending: 2 });
    for (const message of ['a', 'b', 'c']) bounded.record(claim, { type: 'Normal', reason: 'Allocated', message });
    await Promise.resolve();
    assert.equal(http.requests.length, 2, 'two writes started; the third was dropped');
    release();
    await bounded.idle();
    assert.deepEqual(
      http.requests.map((r) => (r.body as { note: string }).note),
      ['a', 'b'],
    );
  });
});
