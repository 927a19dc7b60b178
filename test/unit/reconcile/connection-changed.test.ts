// Objects using a connection are woken by the changes they act on, not by every status write of
// the connection (the event bus going away and coming back rewrites its status).
import assert from 'node:assert/strict';
import { connectionChanged } from '../../../src/reconcile/connections/index.ts';

const conn = (over: { generation?: number; labels?: Record<string, string>; ready?: [string, string]; bus?: string; deleting?: boolean } = {}) => ({
  metadata: {
    name: 'acme',
    namespace: 'ns',
    generation: over.generation ?? 1,
    ...(over.labels ? { labels: over.labels } : {}),
    ...(over.deleting ? { deletionTimestamp: '2026-12-06T00:00:00Z' } : {}),
  },
  status: {
    conditions: [
      { type: 'Ready', status: over.ready?.[0] ?? 'True', reason: over.ready?.[1] ?? 'LoggedIn', message: 'm', lastTransitionTime: 't' },
      { type: 'EventBus', status: over.bus ?? 'True', reason: 'Connected', message: 'm', lastTransitionTime: 't' },
    ],
  },
});

describe('connectionChanged', function () {
  it('is false for status writes that leave Ready as it was (the event bus down, then back)', function () {
    assert.equal(connectionChanged(conn(), conn({ bus: 'False' })), false);
    assert.equal(connectionChanged(conn({ bus: 'False' }), conn()), false);
  });

  it('is true for a new spec, new labels, a deletion, and any change of Ready or its reason', function () {
    assert.equal(connectionChanged(conn(), conn({ generation: 2 })), true);
    assert.equal(connectionChanged(conn(), conn({ labels: { team: 'a' } })), true);
    assert.equal(connectionChanged(conn(), conn({ deleting: true })), true);
    assert.equal(connectionChanged(conn(), conn({ ready: ['False', 'LoginFailed'] })), true);
    assert.equal(connectionChanged(conn({ ready: ['False', 'LoginFailed'] }), conn({ ready: ['False', 'CredentialsMissing'] })), true);
  });
});
