// What became of allocate requests sent under a guard whose answer never came (a lost response,
// an operator killed mid-task): asked of VCD's task records instead of waited out. The allocate
// tasks VCD ran on the IP Space since the oldest guard say whether one may still land, and their
// results name exactly the allocations they made, so only those are ever adopted; an unmarked
// allocation someone else made meanwhile is never taken for ours.
import { parseAllocationResults, taskFinished, VcdApiError, type VcdClient } from '../../clients/vcd/index.ts';
import type { ClaimView } from './plan.ts';

/** The query-service name of VCD's allocate task. */
const ALLOCATE_TASK = 'ipSpaceIpAllocate';
/** Clock skew tolerated between this host and VCD when comparing task start times with guards (NTP keeps it far below). */
const CLOCK_SKEW_MS = 1_000;

export type LostAllocates =
  /** No guard within the window, or VCD cannot tell (no query service for this caller). */
  | { known: false }
  /** Some allocate since the guard is still running: its allocations may still appear. */
  | { known: true; settled: false }
  /** Every allocate since the guard has ended; these are the allocations they made. */
  | { known: true; settled: true; made: ReadonlySet<string> };

export async function lostAllocates(client: VcdClient, spaceId: string, claims: readonly ClaimView[], now: number, windowMs: number): Promise<LostAllocates> {
  const guards = claims.flatMap((c) => (c.pendingSince && now - c.pendingSince.getTime() < windowMs ? [c.pendingSince.getTime()] : []));
  if (!guards.length) return { known: false };
  let tasks;
  try {
    tasks = await client.tasks.recent({ name: ALLOCATE_TASK, objectId: spaceId, since: new Date(Math.min(...guards) - CLOCK_SKEW_MS) });
  } catch (err) {
    // Only a refusal of the query itself means this VCD cannot tell; a 429 or 5xx is asked again.
    if (err instanceof VcdApiError && err.status >= 400 && err.status < 500 && err.status !== 429) return { known: false };
    throw err;
  }
  if (!tasks.every(taskFinished)) return { known: true, settled: false };
  const made = new Set<string>();
  for (const t of tasks) {
    if (t.status.toLowerCase() !== 'success') continue;
    const task = await client.tasks.wait(t.href);
    for (const r of parseAllocationResults('ipSpaces.allocate', task.resultContent)) made.add(r.id);
  }
  return { known: true, settled: true, made };
}
