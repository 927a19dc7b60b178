import assert from 'node:assert/strict';
import { matchesSelector } from '../../../src/reconcile/connections/selector.ts';

describe('label selector matching', function () {
  const labels = { team: 'a', tier: 'prod' };
  it('matches everything with an empty selector', function () {
    assert.equal(matchesSelector({}, labels), true);
    assert.equal(matchesSelector({}, undefined), true);
  });
  it('ANDs matchLabels and matchExpressions', function () {
    assert.equal(matchesSelector({ matchLabels: { team: 'a' } }, labels), true);
    assert.equal(matchesSelector({ matchLabels: { team: 'b' } }, labels), false);
    assert.equal(matchesSelector({ matchLabels: { team: 'a' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['dev'] }] }, labels), false);
  });
  it('implements In, NotIn, Exists and DoesNotExist', function () {
    assert.equal(matchesSelector({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['prod', 'dev'] }] }, labels), true);
    assert.equal(matchesSelector({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['prod'] }] }, labels), false);
    assert.equal(matchesSelector({ matchExpressions: [{ key: 'missing', operator: 'NotIn', values: ['x'] }] }, labels), true);
    assert.equal(matchesSelector({ matchExpressions: [{ key: 'team', operator: 'Exists' }] }, labels), true);
    assert.equal(matchesSelector({ matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] }, labels), false);
    assert.equal(matchesSelector({ matchExpressions: [{ key: 'missing', operator: 'DoesNotExist' }] }, labels), true);
  });
  it('matches nothing when Kubernetes would refuse the selector', function () {
    // DoesNotExist and NotIn on a key no label can carry would otherwise match every namespace.
    assert.equal(matchesSelector({ matchExpressions: [{ key: 'not a valid key!', operator: 'DoesNotExist' }] }, labels), false);
    assert.equal(matchesSelector({ matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['not a value!'] }] }, labels), false);
    assert.equal(matchesSelector({ matchExpressions: [{ key: 'team', operator: 'NotIn' }] }, labels), false);
    assert.equal(matchesSelector({ matchLabels: { 'bad key!': 'a' } }, labels), false);
    assert.equal(matchesSelector({ matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'DoesNotExist' }] }, labels), true);
  });
});
