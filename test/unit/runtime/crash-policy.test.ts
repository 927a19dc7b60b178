// A rejection nobody handles, or an exception that escapes, stops the operator with a clear log
// line and exit code 70 instead of leaving it running in an unknown state (or, on older Node
// settings, silently continuing).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CRASH_EXIT_CODE } from '../../../src/runtime/index.ts';

function run(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

const policy = new URL('../../../src/runtime/crash-policy.ts', import.meta.url).href;
const logger = new URL('../../../src/runtime/logger.ts', import.meta.url).href;
const script = (body: string) =>
  `import { exitOnUnhandledErrors } from '${policy}'; import { createLogger } from '${logger}';` +
  `exitOnUnhandledErrors({ logger: createLogger() }); ${body}; setTimeout(() => console.log('still running'), 2000);`;

describe('process crash policy', function () {
  this.timeout(20_000);

  it('exits 70 with a fatal log line on an unhandled rejection', async function () {
    const r = await run(['--input-type=module', '-e', script("void Promise.reject(new Error('boom in a background task'))")]);
    assert.equal(r.code, CRASH_EXIT_CODE, r.out);
    const line = JSON.parse(r.out.trim().split('\n')[0] ?? '{}') as { level?: string; msg?: string; kind?: string; err?: { message?: string } };
    assert.equal(line.level, 'fatal');
    assert.equal(line.kind, 'unhandledRejection');
    assert.match(line.msg ?? '', /a promise rejected with no handler/);
    assert.equal(line.err?.message, 'boom in a background task');
    assert.doesNotMatch(r.out, /still running/);
  });

  it('exits 70 with a fatal log line on an uncaught exception', async function () {
    const r = await run(['--input-type=module', '-e', script("setTimeout(() => { throw new Error('bang'); }, 10)")]);
    assert.equal(r.code, CRASH_EXIT_CODE, r.out);
    assert.match(r.out, /"kind":"uncaughtException"/);
    assert.match(r.out, /"message":"bang"/);
  });

  it('is installed by the operator binary', async function () {
    // A kubeconfig for an apiserver that is not there keeps the operator trying to start; a
    // rejection planted by a preload module must end it with the crash policy, not hang it.
    const dir = mkdtempSync(join(tmpdir(), 'crash-policy-'));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\n' +
        'contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
    );
    const preload = `data:text/javascript,setTimeout(() => Promise.reject(new Error('planted rejection')), 300)`;
    const main = new URL('../../../src/main.ts', import.meta.url).pathname;
    const r = await run(['--import', preload, main, `--kubeconfig=${kubeconfig}`, '--probe-port=0', '--leader-elect=false', '--log-level=warn']);
    assert.equal(r.code, CRASH_EXIT_CODE, r.out);
    assert.match(r.out, /planted rejection/);
  });
});
