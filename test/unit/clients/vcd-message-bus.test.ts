import assert from 'node:assert/strict';
import { entityTypeOf, parseEnvelope } from '../../../src/clients/vcd/index.ts';
import { eventOfWrite, messagesOf } from '../../../src/sim/vcd/events.ts';

const actor = { orgId: 'urn:vcloud:org:11111111-1111-1111-1111-111111111111', userId: 'urn:vcloud:user:22222222-2222-2222-2222-222222222222' };
const space = 'urn:vcloud:ipSpace:33333333-3333-3333-3333-333333333333';
const alloc = 'urn:vcloud:ipSpaceIpAllocation:44444444-4444-4444-4444-444444444444';

describe('VCD message bus events', () => {
  it('names the IP Space and the allocation of a release, on the org and user topic, in the documented envelope', () => {
    const e = eventOfWrite(
      { method: 'DELETE', pattern: '/cloudapi/1.0.0/ipSpaces/{id}/allocations/{allocationId}', params: { id: space, allocationId: alloc }, actor },
      0,
    );
    assert.equal(e?.type, 'com/vmware/vcloud/event/ipSpace/allocation/delete');
    assert.equal(e?.entity, space);
    assert.equal(e?.subEntity, alloc);
    assert.ok(e);
    const [m] = messagesOf(e, [actor.orgId]);
    assert.equal(m?.topic, 'publish/11111111-1111-1111-1111-111111111111/22222222-2222-2222-2222-222222222222');
    assert.equal(m?.envelope.type, 'EVENT');
    assert.equal(typeof m?.envelope.payload, 'string');
    const parsed = parseEnvelope(JSON.stringify(m?.envelope));
    assert.deepEqual([parsed?.entity, parsed?.subEntity, parsed?.user, parsed?.operationSuccess], [space, alloc, actor.userId, true]);
    assert.deepEqual([entityTypeOf(space), entityTypeOf(alloc), entityTypeOf('plain')], ['ipSpace', 'ipSpaceIpAllocation', '']);
  });

  it('calls an action on an entity by its name, and skips what is no entity write', () => {
    const e = eventOfWrite({ method: 'POST', pattern: '/cloudapi/1.0.0/ipSpaces/{id}/allocate', params: { id: space }, actor }, 0);
    assert.equal(e?.type, 'com/vmware/vcloud/event/ipSpace/allocate');
    assert.equal(eventOfWrite({ method: 'POST', pattern: '/cloudapi/1.0.0/sessions', params: {}, actor }, 0), undefined);
  });

  it('ignores envelopes that are not events and payloads without an entity', () => {
    assert.equal(parseEnvelope(JSON.stringify({ type: 'TASK', headers: {}, payload: '{}' })), undefined);
    assert.equal(parseEnvelope(JSON.stringify({ type: 'EVENT', headers: {}, payload: '{"type":"x"}' })), undefined);
    assert.equal(parseEnvelope('not json'), undefined);
  });
});
