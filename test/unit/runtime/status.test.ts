import assert from 'node:assert/strict';
import { KubeClient } from '../../../src/runtime/client.ts';
import { ManualClock } from '../../../src/runtime/clock.ts';
import { findCondition, setCondition, type Condition } from '../../../src/runtime/conditions.ts';
import { KubeApiError } from '../../../src/runtime/errors.ts';
import { FinalizerHelper } from '../../../src/runtime/finalizers.ts';
import { createMergePatch } from '../../../src/runtime/merge-patch.ts';
import { StatusWriter, type StatusShape } from '../../../src/runtime/status.ts';
import type { KubeObject, ResourceType } from '../../../src/runtime/types.ts';
import { RecordingTransport } from './recording-transport.ts';

const claims: ResourceType = { group: 'vcd-operator.io', version: 'v1alpha1', plural: 'floatingipclaims', kind: 'FloatingIPClaim', namespaced: true };

interface ClaimStatus extends StatusShape {
  address?: string;
}
type Claim = KubeObject & { status?: ClaimStatus };

describe('conditions', function () {
  const t0 = Date.UTC(2026, 0, 1, 10, 0, 0, 123);

  it('adds a condition with a second-precision transition time', function () {
    const cs: Condition[] = [];
    assert.equal(setCondition(cs, { type: 'Ready', status: 'False', reason: 'Pending', message: 'waiting', observedGeneration: 1 }, t0), true);
    assert.deepEqual(cs, [
      { type: 'Ready', status: 'False', reason: 'Pending', message: 'waiting', observedGeneration: 1, lastTransitionTime: '2026-01-01T10:00:00Z' },
    ]);
  });

  it('moves lastTransitionTime only when the status flips', function () {
    const cs: Condition[] = [];
    setCondition(cs, { type: 'Ready', status: 'False', reason: 'Pending', message: 'a' }, t0);
    assert.equal(setCondition(cs, { type: 'Ready', status: 'False', reason: 'QuotaExceeded', message: 'b', observedGeneration: 2 }, t0 + 60_000), true);
    assert.equal(findCondition(cs, 'Ready')?.lastTransitionTime, '2026-01-01T10:00:00Z');
    assert.equal(findCondition(cs, 'Ready')?.reason, 'QuotaExceeded');
    assert.equal(setCondition(cs, { type: 'Ready', status: 'True', reason: 'Allocated', message: 'c', observedGeneration: 2 }, t0 + 120_000), true);
    assert.equal(findCondition(cs, 'Ready')?.lastTransitionTime, '2026-01-01T10:02:00Z');
  });

  it('reports no change when setting the same condition again', function () {
    const cs: Condition[] = [];
    const c = { type: 'Ready', status: 'True' as const, reason: 'Allocated', message: 'ok', observedGeneration: 3 };
    setCondition(cs, c, t0);
    assert.equal(setCondition(cs, c, t0 + 999_000), false);
    assert.equal(cs.length, 1);
  });
});

describe('createMergePatch', function () {
  it('is undefined for equal documents and holds only what changed', function () {
    assert.equal(createMergePatch({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 }), undefined);
    assert.deepEqual(createMergePatch({ a: 1, b: { c: 2, d: 3 } }, { a: 1, b: { c: 2, d: 4 }, e: 'x' }), { b: { d: 4 }, e: 'x' });
  });

  it('nulls removed keys and replaces arrays whole', function () {
    assert.deepEqual(createMergePatch({ a: 1, list: [1, 2] }, { list: [1, 2, 3] }), { a: null, list: [1, 2, 3] });
  });
});

describe('StatusWriter', function () {
  let http: RecordingTransport;
  let writer: StatusWriter;
  let clock: ManualClock;

  beforeEach(function () {
    http = new RecordingTransport();
    http.respond = (r) => ({ metadata: { name: 'c1' }, ...(r.body as object) });
    clock = new ManualClock(Date.UTC(2026, 0, 1));
    writer = new StatusWriter(new KubeClient(http), claims, clock);
  });

  it('sends one merge-patch to /status with only the changed fields and observedGeneration', async function () {
    const obj: Claim = { metadata: { name: 'c1', namespace: 'team-a', generation: 4 }, status: { address: '10.0.0.1', observedGeneration: 3 } };
    await writer.patchStatus<ClaimStatus, Claim>(obj, (s) => {
      writer.setCondition((s.conditions ??= []), { type: 'Ready', status: 'True', reason: 'Allocated', message: 'ok', observedGeneration: 4 });
    });
    assert.equal(http.requests.length, 1);
    const [req] = http.requests;
    assert.equal(req?.method, 'PATCH');
    assert.equal(req?.patch, 'merge');
    assert.equal(req?.path, '/apis/vcd-operator.io/v1alpha1/namespaces/team-a/floatingipclaims/c1/status');
    assert.deepEqual(req?.body, {
      status: {
        observedGeneration: 4,
        conditions: [{ type: 'Ready', status: 'True', reason: 'Allocated', message: 'ok', observedGeneration: 4, lastTransitionTime: '2026-01-01T00:00:00Z' }],
      },
    });
  });

  it('writes nothing when the mutation changes nothing', async function () {
    const conditions: Condition[] = [];
    setCondition(conditions, { type: 'Ready', status: 'True', reason: 'Allocated', message: 'ok', observedGeneration: 2 }, clock.now());
    const obj: Claim = { metadata: { name: 'c1', namespace: 'ns', generation: 2 }, status: { observedGeneration: 2, address: '10.0.0.1', conditions } };
    await clock.advance(3_600_000);
    const out = await writer.patchStatus<ClaimStatus, Claim>(obj, (s) => {
      s.address = '10.0.0.1';
      writer.setCondition((s.conditions ??= []), { type: 'Ready', status: 'True', reason: 'Allocated', message: 'ok', observedGeneration: 2 });
    });
    assert.equal(http.requests.length, 0);
    assert.equal(out, obj);
    assert.equal(obj.status?.conditions?.[0]?.lastTransitionTime, '2026-01-01T00:00:00Z', 'the cached object was not mutated');
  });
});

describe('FinalizerHelper', function () {
  let http: RecordingTransport;
  let fin: FinalizerHelper;
  beforeEach(function () {
    http = new RecordingTransport();
    fin = new FinalizerHelper(new KubeClient(http), claims);
  });

  it('adds a finalizer with a resourceVersion-guarded merge-patch, keeping others', async function () {
    const obj: Claim = { metadata: { name: 'c1', namespace: 'ns', resourceVersion: '42', finalizers: ['other.io/keep'] } };
    await fin.ensure(obj, 'vcd-operator.io/release');
    assert.deepEqual(http.requests[0]?.body, { metadata: { resourceVersion: '42', finalizers: ['other.io/keep', 'vcd-operator.io/release'] } });
    assert.equal(http.requests[0]?.path, '/apis/vcd-operator.io/v1alpha1/namespaces/ns/floatingipclaims/c1');
  });

  it('does nothing when already present or already absent', async function () {
    const obj: Claim = { metadata: { name: 'c1', namespace: 'ns', resourceVersion: '1', finalizers: ['a'] } };
    assert.equal(await fin.ensure(obj, 'a'), obj);
    assert.equal(await fin.remove(obj, 'b'), obj);
    assert.equal(http.requests.length, 0);
    assert.equal(fin.has(obj, 'a'), true);
  });

  it('removes only its own finalizer, and surfaces a conflict to the caller', async function () {
    const obj: Claim = { metadata: { name: 'c1', namespace: 'ns', resourceVersion: '7', finalizers: ['a', 'mine'] } };
    http.respond = () => {
      throw new KubeApiError('PATCH', '/x', 409, { reason: 'Conflict', message: 'the object has been modified' });
    };
    await assert.rejects(fin.remove(obj, 'mine'), (err: KubeApiError) => err.conflict);
    assert.deepEqual(http.requests[0]?.body, { metadata: { resourceVersion: '7', finalizers: ['a'] } });
  });
});
