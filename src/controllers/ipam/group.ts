// Claims are reconciled per allocation group: one connection, one org, one IP Space. The group is
// the unit of VCD work: one allocation list per reconcile, and pending claims share allocate calls.
import type { FloatingIPClaim, IPPrefixClaim } from '../../api/index.ts';
import { connectionKeyOf } from '../connections/pool.ts';

export type Claim = FloatingIPClaim | IPPrefixClaim;

export function connectionKeyOfClaim(claim: Claim): string {
  return connectionKeyOf(claim.spec.connectionRef.kind, claim.spec.connectionRef.name, claim.metadata?.namespace);
}

/** `<connection>|org:<name or id>|ipSpace:<name or id>`; the references are immutable, so a claim never changes group. */
export function groupKeyOf(claim: Claim): string {
  const org = claim.spec.org ? (claim.spec.org.id ? `id=${claim.spec.org.id}` : `name=${claim.spec.org.name ?? ''}`) : '';
  const space = claim.spec.ipSpace.id ? `id=${claim.spec.ipSpace.id}` : `name=${claim.spec.ipSpace.name ?? ''}`;
  return `${connectionKeyOfClaim(claim)}|org:${org}|ipSpace:${space}`;
}

export interface GroupRef {
  connectionRef: { kind: 'VCDConnection' | 'ClusterVCDConnection'; name: string };
  /** The namespace a VCDConnection lives in (claims of the group are in it too). */
  namespace?: string;
  org?: { name?: string; id?: string };
  ipSpace: { name?: string; id?: string };
}

function refOf(text: string): { name?: string; id?: string } | undefined {
  if (text.startsWith('id=')) return { id: text.slice(3) };
  if (text.startsWith('name=')) return { name: text.slice(5) };
  return undefined;
}

/** The references a group key was made from, or undefined for a key this module did not make. */
export function parseGroupKey(key: string): GroupRef | undefined {
  const m = /^(VCDConnection\/([^/|]+)\/([^/|]+)|ClusterVCDConnection\/([^/|]+))\|org:(.*?)\|ipSpace:(.+)$/.exec(key);
  if (!m) return undefined;
  const ipSpace = refOf(m[6] ?? '');
  if (!ipSpace) return undefined;
  const org = m[5] ? refOf(m[5]) : undefined;
  const connectionRef = m[2] !== undefined ? { kind: 'VCDConnection' as const, name: m[3] ?? '' } : { kind: 'ClusterVCDConnection' as const, name: m[4] ?? '' };
  return { connectionRef, ...(m[2] !== undefined ? { namespace: m[2] } : {}), ...(org ? { org } : {}), ipSpace };
}
