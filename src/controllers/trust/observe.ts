// Reading one member: its trusted root chains (contents cached by chain id, since an id's
// contents change only by delete and re-create, which our own writes and the list reveal) and its
// own VMCA roots: the trusted root its TLS certificate chains to, matched by subject, key
// identifiers and signature, with /certs/download.zip as the fallback; plus any renewed root
// beside it (same subject, not one we added), so a renewal reaches peers before it is served.
import type { TlsInfo } from '../../clients/vcenter/index.ts';
import { isOperatorChain, issued, issuerRefOf, parseRoot, pemBlocks, type IssuerRef, type Root } from './certs.ts';
import type { Chain, OwnRoot } from './plan.ts';
import { trustProblem, TrustReasons } from './problems.ts';

/** What observing needs from a vCenter client (VCenterClient has it). */
export interface MemberClient {
  readonly apiFamily: string;
  tls(): Promise<TlsInfo>;
  downloadRoots(): Promise<Array<{ pem: string }>>;
  readonly trustedRootChains: {
    list(): Promise<string[]>;
    get(chain: string): Promise<string[]>;
  };
}

export interface Observed {
  chains: Chain[];
  ownRoots: OwnRoot[];
  apiFamily: string;
}

/** Reads a member; `cache` holds chain contents by id across rounds (entries for vanished ids are dropped). */
export async function observeMember(name: string, client: MemberClient, cache: Map<string, Root[]>, now: Date): Promise<Observed> {
  const [tls, ids] = await Promise.all([client.tls(), client.trustedRootChains.list()]);
  for (const id of [...cache.keys()]) if (!ids.includes(id)) cache.delete(id);
  const chains: Chain[] = [];
  for (const id of ids) {
    let roots = cache.get(id);
    if (!roots) {
      roots = parseAll(await client.trustedRootChains.get(id));
      cache.set(id, roots);
    }
    chains.push({ id, roots });
  }
  let issuer: IssuerRef;
  try {
    issuer = issuerRefOf(tls.cert);
  } catch (err) {
    throw trustProblem(TrustReasons.RootNotFound, `${name} serves a TLS certificate the operator cannot parse: ${(err as Error).message}`);
  }
  let ownRoots = findOwnRoots(chains, issuer, now);
  if (!ownRoots) {
    const zipRoots = parseAll((await client.downloadRoots()).map((r) => r.pem));
    ownRoots = findOwnRoots([{ id: 'download.zip', roots: zipRoots }], issuer, now);
  }
  if (!ownRoots) {
    throw trustProblem(
      TrustReasons.RootNotFound,
      `${name}'s TLS certificate is issued by ${issuer.subject}, which is neither among its trusted root chains nor in its /certs/download.zip; ` +
        "add that root to the vCenter's trusted roots (or renew its certificate from VMCA).",
    );
  }
  return { chains, ownRoots, apiFamily: client.apiFamily };
}

/**
 * The member's own roots among `chains` (chains the operator added are peers' roots, never its
 * own): the issuer of its TLS certificate first, then other valid CA roots with the same subject
 * (a renewed or previous VMCA root). Undefined when no root issued the certificate.
 */
export function findOwnRoots(chains: readonly Chain[], issuer: IssuerRef, now: Date): OwnRoot[] | undefined {
  const candidates = chains.filter((c) => !isOperatorChain(c.id)).flatMap((c) => c.roots);
  const serving = candidates.find((r) => issued(r, issuer));
  if (!serving) return undefined;
  const out: OwnRoot[] = [{ ...serving, serving: true }];
  for (const r of candidates) {
    if (r.sha256 === serving.sha256 || out.some((o) => o.sha256 === r.sha256)) continue;
    if (r.isCA && r.subject === serving.subject && r.notBefore <= now && now <= r.notAfter) out.push({ ...r, serving: false });
  }
  return out;
}

function parseAll(pems: string[]): Root[] {
  const out: Root[] = [];
  for (const pem of pems.flatMap(pemBlocks)) {
    try {
      out.push(parseRoot(pem));
    } catch {
      // A certificate vCenter accepted but Node cannot parse is simply not one we can match or copy.
    }
  }
  return out;
}
