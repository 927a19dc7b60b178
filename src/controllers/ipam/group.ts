// Claims are reconciled per allocation group: one connection, one org, one IP Space. The group is
// the unit of VCD work: one allocation list per reconcile, and pending claims share allocate calls.
import type { FloatingIPClaim, IPPrefixClaim } from '../../api/index.ts';

export type Claim = FloatingIPClaim | IPPrefixClaim;

export function connectionKeyOf(claim: Claim): string {
  const ref = claim.spec.connectionRef;
  return ref.kind === 'ClusterVCDConnection' ? `ClusterVCDConnection/${ref.name}` : `VCDConnection/${claim.metadata?.namespace ?? ''}/${ref.name}`;
}

/** `<connection>|org:<name or id>|ipSpace:<name or id>`; the references are immutable, so a claim never changes group. */
export function groupKeyOf(claim: Claim): string {
  const org = claim.spec.org ? (claim.spec.org.id ? `id=${claim.spec.org.id}` : `name=${claim.spec.org.name ?? ''}`) : '';
  const space = claim.spec.ipSpace.id ? `id=${claim.spec.ipSpace.id}` : `name=${claim.spec.ipSpace.name ?? ''}`;
  return `${connectionKeyOf(claim)}|org:${org}|ipSpace:${space}`;
}
