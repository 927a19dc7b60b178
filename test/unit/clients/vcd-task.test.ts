import assert from 'node:assert/strict';
import { VcdTaskError, VcdTaskTimeoutError } from '../../../src/clients/vcd/errors.ts';
import { parseAllocationResults } from '../../../src/clients/vcd/ipSpaces.ts';
import { parseTask, TaskDurations, waitForTask, type VcdTask } from '../../../src/clients/vcd/task.ts';
import { FakeClock } from './fakeClock.ts';

const HREF = 'https://vcd/api/task/7c0';

const SUCCESS_XML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Task xmlns="http://www.vmware.com/vcloud/v1.5" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" status="success" operationName="ipSpaceIpAllocate" operation="Allocating" href="${HREF}" id="urn:vcloud:task:7c0">
  <Owner href="https://vcd/cloudapi/1.0.0/ipSpaces/urn:vcloud:ipSpace:1" id="urn:vcloud:ipSpace:1" name="public-ips" type="application/json"/>
  <Details>done</Details>
  <Result><ResultContent xsi:type="xs:string">[{"id":"urn:vcloud:ipSpaceIpAllocation:a1","value":"203.0.113.10","suggestedValue":null}]</ResultContent></Result>
</Task>`;

const ERROR_XML = `<Task xmlns="http://www.vmware.com/vcloud/v1.5" status="error" href="${HREF}">
  <Error majorErrorCode="400" minorErrorCode="BAD_REQUEST" message="Floating IP quota exceeded"/>
</Task>`;

function task(status: string, durationMs?: number): VcdTask {
  return {
    href: HREF,
    id: undefined,
    status,
    operationName: undefined,
    owner: undefined,
    error: undefined,
    resultContent: undefined,
    details: undefined,
    durationMs,
  };
}

describe('VCD tasks', () => {
  it('parses the XML task: status, Owner, Result and Details', () => {
    const t = parseTask(SUCCESS_XML, 'ignored');
    assert.equal(t.status, 'success');
    assert.equal(t.href, HREF);
    assert.equal(t.id, 'urn:vcloud:task:7c0');
    assert.deepEqual(t.owner, {
      id: 'urn:vcloud:ipSpace:1',
      href: 'https://vcd/cloudapi/1.0.0/ipSpaces/urn:vcloud:ipSpace:1',
      name: 'public-ips',
      type: 'application/json',
    });
    assert.equal(t.details, 'done');
    assert.deepEqual(parseAllocationResults('allocate', t.resultContent), [{ id: 'urn:vcloud:ipSpaceIpAllocation:a1', value: '203.0.113.10' }]);
  });

  it('parses the task Error and the JSON form', () => {
    assert.deepEqual(parseTask(ERROR_XML, HREF).error, { majorErrorCode: '400', minorErrorCode: 'BAD_REQUEST', message: 'Floating IP quota exceeded' });
    const j = parseTask({ status: 'running', owner: { id: 'urn:vcloud:gateway:9' }, result: { resultContent: '[]' } }, HREF);
    assert.equal(j.status, 'running');
    assert.equal(j.href, HREF);
    assert.equal(j.owner?.id, 'urn:vcloud:gateway:9');
    assert.equal(j.resultContent, '[]');
  });

  it('refuses an allocation result without entries', () => {
    assert.throws(() => parseAllocationResults('ipSpaces.allocate', '[]'), /succeeded without results/);
    assert.throws(() => parseAllocationResults('ipSpaces.allocate', 'not json'), /succeeded without results/);
  });

  it('waits before each poll, with growing intervals, until the task succeeds', async () => {
    const clock = new FakeClock();
    const states = ['queued', 'running', 'running', 'success'];
    let polls = 0;
    const done = await waitForTask({
      operation: 'ipSpaces.create',
      href: HREF,
      fetch: () => Promise.resolve(task(states[polls++] ?? 'success')),
      clock,
      random: () => 0,
      poll: { initialDelayMs: 100, maxDelayMs: 1000, multiplier: 2, jitter: 0 },
      timeoutMs: 60_000,
    });
    assert.equal(done.status, 'success');
    assert.equal(polls, 4);
    assert.deepEqual(clock.sleeps, [100, 200, 400, 800]);
  });

  it('reads the duration VCD reports from startTime and endTime', () => {
    const t = parseTask(`<Task status="success" href="${HREF}" startTime="2026-11-21T10:00:00.000Z" endTime="2026-11-21T10:00:00.480Z"/>`, HREF);
    assert.equal(t.durationMs, 480);
    assert.equal(parseTask(`<Task status="running" href="${HREF}" startTime="2026-11-21T10:00:00.000Z"/>`, HREF).durationMs, undefined);
  });

  it('first polls a task after the duration its operation usually takes, once that is known', async () => {
    const durations = new TaskDurations();
    const poll = { initialDelayMs: 100, maxDelayMs: 1000, multiplier: 1.5, jitter: 0 };
    const run = async () => {
      const clock = new FakeClock();
      let polls = 0;
      // The task ends 500 ms after it was accepted; VCD reports that duration.
      const fetch = () => Promise.resolve(++polls && clock.now() - 1_000_000 >= 500 ? task('success', 500) : task('running'));
      await waitForTask({ operation: 'ipSpaces.allocate', href: HREF, fetch, clock, random: () => 0, poll, timeoutMs: 60_000, durations });
      return { polls, sleeps: clock.sleeps };
    };
    // Unknown yet: read at the first step for the first second, not at the growing one.
    const first = await run();
    assert.deepEqual(first.sleeps, [100, 100, 100, 100, 100]);
    assert.equal(durations.expected('ipSpaces.allocate'), 500);
    const second = await run();
    assert.deepEqual(second, { polls: 1, sleeps: [510] });
  });

  it('grows the reads of a task of unknown duration after its first second', async () => {
    const clock = new FakeClock();
    const fetch = () => Promise.resolve(clock.now() - 1_000_000 >= 2_000 ? task('success', 2_000) : task('running'));
    const poll = { initialDelayMs: 100, maxDelayMs: 1000, multiplier: 1.5, jitter: 0 };
    await waitForTask({ operation: 'edge.update', href: HREF, fetch, clock, random: () => 0, poll, timeoutMs: 60_000, durations: new TaskDurations() });
    assert.deepEqual(clock.sleeps, [...Array<number>(10).fill(100), 100, 150, 225, 338, 506]);
  });

  it('tells when a task is due as soon as one of its operation has ended, and nothing after the caller stopped', () => {
    const durations = new TaskDurations();
    const heard: string[] = [];
    const live = new AbortController();
    const stopped = new AbortController();
    durations.whenDue('ipSpaces.allocate', 1000, live.signal, (at) => heard.push(`first ${at}`));
    durations.whenDue('ipSpaces.allocate', 1200, stopped.signal, (at) => heard.push(`stopped ${at}`));
    durations.whenDue('edge.update', 1000, live.signal, (at) => heard.push(`other ${at}`));
    stopped.abort();
    assert.equal(heard.length, 0, 'nothing is known before a task has ended');
    durations.record('ipSpaces.allocate', 500);
    assert.deepEqual(heard, ['first 1510']);
    durations.whenDue('ipSpaces.allocate', 2000, live.signal, (at) => heard.push(`known ${at}`));
    assert.deepEqual(heard, ['first 1510', 'known 2510'], 'known: called at once');
  });

  it('reads again soon when a task is still running at the time such tasks usually end', async () => {
    const durations = new TaskDurations();
    durations.record('ipSpaces.allocate', 500);
    const clock = new FakeClock();
    // This one ends 560 ms after it was accepted (VCD was slow to start it).
    const fetch = () => Promise.resolve(clock.now() - 1_000_000 >= 560 ? task('success', 500) : task('running'));
    const poll = { initialDelayMs: 100, maxDelayMs: 1000, multiplier: 1.5, jitter: 0 };
    await waitForTask({ operation: 'ipSpaces.allocate', href: HREF, fetch, clock, random: () => 0, poll, timeoutMs: 60_000, durations });
    // 510, then 25 and 38 ms rather than the policy’s 100 and 150.
    assert.deepEqual(clock.sleeps, [510, 25, 38]);
  });

  it('throws VcdTaskError carrying the task Error when the task fails', async () => {
    const clock = new FakeClock();
    await assert.rejects(
      waitForTask({
        operation: 'ipSpaces.allocate',
        href: HREF,
        fetch: () => Promise.resolve(parseTask(ERROR_XML, HREF)),
        clock,
        random: () => 0,
        poll: { initialDelayMs: 10, maxDelayMs: 10, multiplier: 1, jitter: 0 },
        timeoutMs: 1000,
      }),
      (err: unknown) =>
        err instanceof VcdTaskError && err.taskStatus === 'error' && err.taskError.minorErrorCode === 'BAD_REQUEST' && /quota exceeded/.test(err.message),
    );
    await assert.rejects(
      waitForTask({
        operation: 'x',
        href: HREF,
        fetch: () => Promise.resolve(task('aborted')),
        clock,
        random: () => 0,
        poll: { initialDelayMs: 10, maxDelayMs: 10, multiplier: 1, jitter: 0 },
        timeoutMs: 1000,
      }),
      (err: unknown) => err instanceof VcdTaskError && err.taskStatus === 'aborted',
    );
  });

  it('gives up at the overall deadline with VcdTaskTimeoutError, never sleeping past it', async () => {
    const clock = new FakeClock();
    const start = clock.now();
    let polls = 0;
    await assert.rejects(
      waitForTask({
        operation: 'firewall.put',
        href: HREF,
        fetch: () => {
          polls++;
          return Promise.resolve(task('running'));
        },
        clock,
        random: () => 0,
        poll: { initialDelayMs: 400, maxDelayMs: 400, multiplier: 1, jitter: 0 },
        timeoutMs: 1000,
      }),
      (err: unknown) => err instanceof VcdTaskTimeoutError && err.taskHref === HREF && err.lastStatus === 'running' && err.waitedMs === 1000,
    );
    assert.deepEqual(clock.sleeps, [400, 400, 200]);
    assert.equal(clock.now() - start, 1000);
    assert.equal(polls, 3);
  });

  it('reports a poll that failed at the deadline as a task timeout, and other poll failures as they are', async () => {
    const clock = new FakeClock();
    const poll = { initialDelayMs: 100, maxDelayMs: 100, multiplier: 1, jitter: 0 };
    let deadlineSeen = 0;
    let polls = 0;
    await assert.rejects(
      waitForTask({
        operation: 'x',
        href: HREF,
        fetch: (_signal, deadline) => {
          deadlineSeen = deadline;
          if (++polls === 1) return Promise.resolve(task('running'));
          clock.t = deadline; // the read hung until the deadline cut it off
          return Promise.reject(new Error('ETIMEDOUT'));
        },
        clock,
        random: () => 0,
        poll,
        timeoutMs: 500,
      }),
      (err: unknown) => err instanceof VcdTaskTimeoutError && err.lastStatus === 'running',
    );
    assert.equal(deadlineSeen, 1_000_000 + 500);
    await assert.rejects(
      waitForTask({
        operation: 'x',
        href: HREF,
        fetch: () => Promise.reject(new Error('HTTP 500')),
        clock: new FakeClock(),
        random: () => 0,
        poll,
        timeoutMs: 500,
      }),
      /HTTP 500/,
    );
  });

  it('stops waiting when cancelled', async () => {
    const clock = new FakeClock();
    const ac = new AbortController();
    let polls = 0;
    await assert.rejects(
      waitForTask({
        operation: 'x',
        href: HREF,
        fetch: () => {
          if (++polls === 2) ac.abort(new Error('reconcile cancelled'));
          return Promise.resolve(task('running'));
        },
        clock,
        random: () => 0,
        poll: { initialDelayMs: 10, maxDelayMs: 10, multiplier: 1, jitter: 0 },
        timeoutMs: 60_000,
        signal: ac.signal,
      }),
      /reconcile cancelled/,
    );
    assert.equal(polls, 2);
  });
});
