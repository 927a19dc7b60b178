import assert from 'node:assert/strict';
import { REDACTED, SecretSet } from '../../../src/clients/common/secrets.ts';

describe('SecretSet', () => {
  it('scrubs secrets in plain, base64 and URL-encoded form', () => {
    const s = new SecretSet();
    s.add('p@ss w0rd!');
    const b64 = Buffer.from('p@ss w0rd!').toString('base64');
    const text = `a p@ss w0rd! b ${b64} c ${encodeURIComponent('p@ss w0rd!')}`;
    assert.equal(s.scrub(text), `a ${REDACTED} b ${REDACTED} c ${REDACTED}`);
  });

  it('scrubs a whole Basic credential', () => {
    const s = new SecretSet();
    s.addBasic('admin@System', 'hunter22');
    const header = Buffer.from('admin@System:hunter22').toString('base64');
    assert.equal(s.scrub(`Authorization: Basic ${header}`), `Authorization: Basic ${REDACTED}`);
  });

  it('forgets removed secrets and ignores values too short to be secrets', () => {
    const s = new SecretSet();
    s.add('token-12345');
    s.add('ab');
    s.remove('token-12345');
    assert.equal(s.scrub('token-12345 ab'), 'token-12345 ab');
  });
});
