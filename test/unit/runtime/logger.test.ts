import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../../src/runtime/logger.ts';

function capture(): { stream: Writable; lines: () => Array<Record<string, unknown>>; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  const text = (): string => chunks.join('');
  return {
    stream,
    text,
    lines: () =>
      text()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('createLogger', function () {
  it('writes structured JSON lines with the child context (controller, key, reconcileID)', function () {
    const out = capture();
    const log = createLogger({ destination: out.stream });
    log.child({ controller: 'claims', key: 'ns/a', reconcileID: 'r-1' }).info({ address: '10.0.0.1' }, 'allocated');
    const [line] = out.lines();
    assert.equal(line?.msg, 'allocated');
    assert.equal(line?.level, 'info');
    assert.equal(line?.controller, 'claims');
    assert.equal(line?.key, 'ns/a');
    assert.equal(line?.reconcileID, 'r-1');
    assert.equal(line?.address, '10.0.0.1');
  });

  it('redacts tokens, passwords, authorization headers and Secret data wherever a caller puts them', function () {
    const out = capture();
    const log = createLogger({ destination: out.stream });
    const secrets = ['s3cr3t-password', 'api-token-value', 'Bearer abc.def', 'dmNkLXBhc3N3b3Jk', 'vcloud-session', 'plain-string-data'];
    log.info({ password: secrets[0], apiToken: secrets[1] }, 'top level');
    log.info({ req: { headers: { authorization: secrets[2] } } }, 'nested header');
    log.info({ secret: { kind: 'Secret', data: { password: secrets[3] }, stringData: { token: secrets[5] } } }, 'a Secret object');
    log.info({ headers: { 'x-vcloud-authorization': secrets[4] } }, 'vcd session header');
    log.info({ creds: { username: 'admin', password: secrets[0] } }, 'credentials');
    const text = out.text();
    for (const s of secrets) assert.ok(!text.includes(s), `log output leaks ${s}: ${text}`);
    assert.ok(text.includes('[REDACTED]'));
    assert.ok(text.includes('"username":"admin"'), 'non-secret fields stay readable');
    assert.equal(out.lines().length, 5);
  });

  it('honours extra redact paths and the level', function () {
    const out = capture();
    const log = createLogger({ destination: out.stream, level: 'warn', redact: ['vcd.sessionId'] });
    log.info('dropped');
    log.warn({ vcd: { sessionId: 'sess-1', org: 'acme' } }, 'kept');
    const lines = out.lines();
    assert.equal(lines.length, 1);
    assert.deepEqual(lines[0]?.vcd, { sessionId: '[REDACTED]', org: 'acme' });
  });
});
