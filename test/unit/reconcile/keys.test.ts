// Group keys: equal keys make one work-queue entry whatever order their fields were set in.
import assert from 'node:assert/strict';
import { jsonKeyCodec } from '../../../src/reconcile/index.ts';

interface Key {
  connectionRef: { kind: string; name: string };
  ipSpace: { name?: string; id?: string };
  namespace?: string;
}
const isKey = (v: unknown): v is Key => typeof (v as Key | undefined)?.connectionRef?.name === 'string';
const codec = jsonKeyCodec<Key>('allocation-group', isKey);

describe('jsonKeyCodec', function () {
  it('encodes equal keys equally, whatever their field order, leaving out undefined fields', function () {
    const a = codec.encode({ connectionRef: { kind: 'VCDConnection', name: 'acme' }, ipSpace: { name: 'pub' }, namespace: 'ns' });
    const b = codec.encode({ namespace: 'ns', ipSpace: { id: undefined, name: 'pub' }, connectionRef: { name: 'acme', kind: 'VCDConnection' } });
    assert.equal(a, b);
    assert.equal(a, 'allocation-group:{"connectionRef":{"kind":"VCDConnection","name":"acme"},"ipSpace":{"name":"pub"},"namespace":"ns"}');
  });

  it('tells different keys apart and escapes what JSON escapes', function () {
    const a = codec.encode({ connectionRef: { kind: 'VCDConnection', name: 'a"b' }, ipSpace: { name: 'x,y' } });
    const b = codec.encode({ connectionRef: { kind: 'VCDConnection', name: 'a' }, ipSpace: { name: 'b",x,y' } });
    assert.notEqual(a, b);
    assert.deepEqual(codec.decode(a), { connectionRef: { kind: 'VCDConnection', name: 'a"b' }, ipSpace: { name: 'x,y' } });
  });

  it('decodes only its own keys of the right shape', function () {
    assert.equal(codec.decode('edge:{"connectionRef":{"kind":"VCDConnection","name":"acme"}}'), undefined);
    assert.equal(codec.decode('allocation-group:{"ipSpace":{}}'), undefined);
    assert.equal(codec.decode('allocation-group:{not json'), undefined);
  });
});
