// Carrying out a plan: members are written in parallel, each member's writes one after another
// (vCenter serialises them anyway). A failed write stops that member's remaining writes and is
// reported against it; other members go on. Chain ids are deterministic, so a create whose answer
// was lost (ALREADY_EXISTS on the retry) counts as done once the chain is seen to hold the root.
import { VCenterAlreadyExistsError } from '../../clients/vcenter/index.ts';
import { pemBlocks, parseRoot, type Root } from './certs.ts';
import type { Add, Plan, Remove } from './plan.ts';
import type { Problem } from '../../reconcile/index.ts';
import { problemOf } from './problems.ts';

/** What executing needs from a vCenter client. */
export interface WriteClient {
  readonly trustedRootChains: {
    create(certPems: string[], chain?: string): Promise<string>;
    get(chain: string): Promise<string[]>;
    delete(chain: string): Promise<boolean>;
  };
}

export interface Executed {
  adds: Add[];
  removes: Remove[];
  failures: Map<string, Problem>;
}

export interface ExecuteOptions {
  clientOf: (member: string) => { client: WriteClient; chains: Map<string, Root[]> } | undefined;
  signal?: AbortSignal;
  /** Called after each write that succeeded (events). */
  onWrite?: (w: { kind: 'add'; add: Add } | { kind: 'remove'; remove: Remove }) => Promise<void> | void;
}

export async function execute(p: Plan, o: ExecuteOptions): Promise<Executed> {
  const done: Executed = { adds: [], removes: [], failures: new Map() };
  const members = [...new Set([...p.adds.map((a) => a.member), ...p.removes.map((r) => r.member)])];
  await Promise.all(
    members.map(async (member) => {
      const conn = o.clientOf(member);
      if (!conn) return;
      try {
        for (const add of p.adds.filter((a) => a.member === member)) {
          o.signal?.throwIfAborted();
          await create(conn.client, add);
          conn.chains.set(add.chain, [add.root]);
          done.adds.push(add);
          await o.onWrite?.({ kind: 'add', add });
        }
        for (const remove of p.removes.filter((r) => r.member === member)) {
          o.signal?.throwIfAborted();
          await conn.client.trustedRootChains.delete(remove.chain);
          conn.chains.delete(remove.chain);
          done.removes.push(remove);
          await o.onWrite?.({ kind: 'remove', remove });
        }
      } catch (err) {
        if (o.signal?.aborted) return;
        done.failures.set(member, problemOf(member, err));
      }
    }),
  );
  o.signal?.throwIfAborted();
  return done;
}

async function create(client: WriteClient, add: Add): Promise<void> {
  try {
    await client.trustedRootChains.create([add.root.pem], add.chain);
  } catch (err) {
    if (!(err instanceof VCenterAlreadyExistsError)) throw err;
    const there = (await client.trustedRootChains.get(add.chain)).flatMap(pemBlocks).map((pem) => parseRoot(pem).sha256);
    if (!there.includes(add.root.sha256)) throw err;
  }
}
