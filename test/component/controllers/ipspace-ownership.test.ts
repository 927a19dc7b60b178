// What lets the IPSpace controller recognise its own IP Space and not create a second one: the
// description marker, the create-pending window, the classification of a failed create; and the
// per-org quota plan.
import assert from 'node:assert/strict';
import { CloudNetworkError, VcdApiError, VcdTaskError, VcdTaskTimeoutError, type IpSpaceOrgAssignment } from '../../../src/clients/vcd/index.ts';
import { IPSpaceReasons } from '../../../src/controllers/ipspace/problems.ts';
import {
  certainlyNotWritten as certainlyNotCreated,
  formatMarker,
  isOwnedBy,
  joinDescription,
  parseMarker,
  pendingDecision,
  pendingSince,
  problemOf,
  splitDescription,
} from '../../../src/reconcile/index.ts';
import { planQuotas } from '../../../src/controllers/ipspace/quotas.ts';

const me = {
  clusterId: '4f1c0e2a-1111-2222-3333-444455556666',
  kind: 'IPSpace',
  namespace: 'team-a',
  name: 'public',
  uid: 'a1b2c3d4-0000-1111-2222-333344445555',
  retained: false,
};
const annotated = (at: string) => pendingSince({ metadata: { annotations: { 'vcd-operator.io/create-pending': at } } });

describe('IPSpace ownership marker', function () {
  it('round-trips and sits on the last line after the human text', function () {
    const line = formatMarker(me);
    assert.equal(line, `vcd-operator.io cluster=${me.clusterId} IPSpace=team-a/public uid=${me.uid}`);
    assert.deepEqual(parseMarker(line), me);
    const d = joinDescription('shared addresses\nsecond line', me);
    assert.deepEqual(splitDescription(d), { text: 'shared addresses\nsecond line', marker: me });
    assert.deepEqual(splitDescription(joinDescription('', me)), { text: '', marker: me });
  });

  it('treats a description without a marker as foreign text, and a claim marker as not this IPSpace', function () {
    assert.deepEqual(splitDescription('made by hand'), { text: 'made by hand', marker: undefined });
    assert.deepEqual(splitDescription(undefined), { text: '', marker: undefined });
    const claim = `vcd-operator.io cluster=${me.clusterId} FloatingIPClaim=team-a/web uid=${me.uid}`;
    assert.equal(isOwnedBy(parseMarker(claim), me), false);
  });

  it('is ours only for the same cluster and the same object UID', function () {
    assert.equal(isOwnedBy(me, me), true);
    assert.equal(isOwnedBy({ ...me, clusterId: 'other-cluster' }, me), false);
    assert.equal(
      isOwnedBy({ ...me, uid: 'recreated-object' }, me),
      false,
      'an IPSpace deleted with Orphan and recreated does not silently take the old one over',
    );
    assert.equal(isOwnedBy(undefined, me), false);
  });
});

describe('IPSpace create-pending window', function () {
  const t0 = Date.parse('2026-11-21T06:00:00Z');

  it('allows a create without the annotation, or once the window has passed', function () {
    assert.deepEqual(pendingDecision(undefined, t0, 60_000), { write: true });
    assert.deepEqual(pendingDecision(annotated('not a time'), t0, 60_000), { write: true });
    assert.deepEqual(pendingDecision(annotated('2026-11-21T06:00:00Z'), t0 + 60_000, 60_000), { write: true });
  });

  it('holds a second create back while an earlier one may still land', function () {
    assert.deepEqual(pendingDecision(annotated('2026-11-21T06:00:00Z'), t0 + 15_000, 60_000), { write: false, since: t0, waitMs: 45_000 });
    // Another replica's clock ahead of ours: the whole window still applies.
    assert.deepEqual(pendingDecision(annotated('2026-11-21T06:00:10Z'), t0, 60_000), { write: false, since: t0 + 10_000, waitMs: 60_000 });
  });
});

describe('IPSpace failed-create classification', function () {
  const api = (status: number) =>
    new VcdApiError({ operation: 'ipSpaces.create', status, minorErrorCode: 'BAD_REQUEST', serverMessage: 'name taken', requestId: 'r-1' });

  it('knows nothing was created only when VCD refused the request or the task failed', function () {
    assert.equal(certainlyNotCreated(api(400)), true);
    assert.equal(certainlyNotCreated(api(503)), false);
    assert.equal(certainlyNotCreated(new CloudNetworkError('vcd', 'ipSpaces.create', 'ECONNRESET', 'socket hang up', true)), false);
    assert.equal(certainlyNotCreated(new CloudNetworkError('vcd', 'ipSpaces.create', 'ECONNREFUSED', '', false)), true);
    assert.equal(certainlyNotCreated(new VcdTaskTimeoutError('ipSpaces.create', 'https://vcd/api/task/1', 'running', 600_000)), false);
    assert.equal(
      certainlyNotCreated(
        new VcdTaskError('ipSpaces.create', 'https://vcd/api/task/1', 'error', { majorErrorCode: '400', minorErrorCode: 'BAD_REQUEST', message: 'overlap' }),
      ),
      true,
    );
  });

  it('maps client errors to reasons: refusals wait for a change, outages back off', function () {
    const refused = problemOf(api(400), 'create IP Space x');
    assert.equal(refused?.reason, IPSpaceReasons.Refused);
    assert.equal(refused?.transient, false);
    assert.match(refused?.message ?? '', /VCD answered: name taken \(request r-1\)/);
    assert.equal(problemOf(api(503), 'x')?.transient, true);
    assert.equal(problemOf(new CloudNetworkError('vcd', 'op', 'ETIMEDOUT', '', true), 'x')?.reason, IPSpaceReasons.Unreachable);
    assert.equal(problemOf(new Error('a bug'), 'x'), undefined, 'unknown errors are not dressed up as conditions');
  });
});

describe('IPSpace per-org quota plan', function () {
  const assignment = (org: string, customQuotas?: IpSpaceOrgAssignment['customQuotas']): IpSpaceOrgAssignment => ({
    id: `urn:vcloud:ipSpaceOrgAssignment:${org}`,
    ipSpaceRef: { id: 'urn:vcloud:ipSpace:1' },
    orgRef: { name: org, id: `urn:vcloud:org:${org}` },
    ...(customQuotas !== undefined ? { customQuotas } : {}),
  });

  it('writes only what differs, matching orgs by name or id', function () {
    const plan = planQuotas(
      [
        { org: { name: 'acme' }, floatingIPs: 5, prefixes: [{ prefixLength: 28, quota: 2 }] },
        { org: { id: 'urn:vcloud:org:globex' }, floatingIPs: 1 },
      ],
      [assignment('acme'), assignment('globex', { floatingIpQuota: 1, ipPrefixQuotas: [] })],
    );
    assert.deepEqual(plan.waiting, []);
    assert.deepEqual(
      plan.updates.map((u) => [u.org, u.customQuotas]),
      [['acme', { floatingIpQuota: 5, ipPrefixQuotas: [{ prefixLength: 28, quota: 2 }] }]],
    );
  });

  it('reports orgs VCD has not assigned yet, and resets orgs no longer listed', function () {
    const plan = planQuotas([{ org: { name: 'initech' }, floatingIPs: 3 }], [assignment('acme', { floatingIpQuota: 9 }), assignment('globex')]);
    assert.deepEqual(plan.waiting, ['initech']);
    assert.deepEqual(
      plan.updates.map((u) => [u.org, u.customQuotas]),
      [['acme', null]],
    );
  });

  it('leaves quotas alone when orgQuotas is not set at all', function () {
    assert.deepEqual(planQuotas(undefined, [assignment('acme', { floatingIpQuota: 9 })]), { updates: [], waiting: [] });
  });

  it('treats an entry without values as "use the defaults"', function () {
    const plan = planQuotas([{ org: { name: 'acme' } }], [assignment('acme', { floatingIpQuota: 9 })]);
    assert.deepEqual(
      plan.updates.map((u) => [u.org, u.customQuotas]),
      [['acme', null]],
    );
    assert.deepEqual(planQuotas([{ org: { name: 'acme' } }], [assignment('acme')]).updates, []);
  });
});
