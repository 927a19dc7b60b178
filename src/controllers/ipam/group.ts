// Claims are reconciled per allocation group: one connection, one org, one IP Space. The group is
// the unit of VCD work: one allocation list per reconcile, and pending claims share allocate calls.
// The key is typed and goes through one codec; the references are immutable, so a claim never
// changes group.
import type { FloatingIPClaim, IPPrefixClaim } from '../../api/index.ts';
import { jsonKeyCodec, type KeyCodec } from '../../reconcile/index.ts';
import { connectionKeyOf } from '../../reconcile/connections/index.ts';

export type Claim = FloatingIPClaim | IPPrefixClaim;

type Ref = { name?: string; id?: string };

export interface GroupKey {
  connectionRef: { kind: 'VCDConnection' | 'ClusterVCDConnection'; name: string };
  /** The claims' namespace for a VCDConnection (which serves only its own namespace). */
  namespace?: string;
  org?: Ref;
  ipSpace: Ref;
}

export function connectionKeyOfClaim(claim: Claim): string {
  return connectionKeyOf(claim.spec.connectionRef.kind, claim.spec.connectionRef.name, claim.metadata?.namespace);
}

const refOf = (r: Ref): Ref => (r.id ? { id: r.id } : { name: r.name ?? '' });

export function groupKeyOf(claim: Claim): GroupKey {
  const { kind, name } = claim.spec.connectionRef;
  return {
    connectionRef: { kind, name },
    ...(kind === 'VCDConnection' ? { namespace: claim.metadata?.namespace ?? '' } : {}),
    ...(claim.spec.org ? { org: refOf(claim.spec.org) } : {}),
    ipSpace: refOf(claim.spec.ipSpace),
  };
}

const isRef = (v: unknown): v is Ref => !!v && typeof v === 'object' && (typeof (v as Ref).id === 'string' || typeof (v as Ref).name === 'string');

function isGroupKey(v: unknown): v is GroupKey {
  if (!v || typeof v !== 'object') return false;
  const k = v as Partial<GroupKey>;
  const c = k.connectionRef;
  return (
    !!c &&
    (c.kind === 'VCDConnection' || c.kind === 'ClusterVCDConnection') &&
    typeof c.name === 'string' &&
    isRef(k.ipSpace) &&
    (k.org === undefined || isRef(k.org)) &&
    (k.namespace === undefined || typeof k.namespace === 'string')
  );
}

export const groupKeys: KeyCodec<GroupKey> = jsonKeyCodec('allocation-group', isGroupKey);

/** The connection key of a group (the pool's and the by-connection index's name for it). */
export function connectionKeyOfGroup(k: GroupKey): string {
  return connectionKeyOf(k.connectionRef.kind, k.connectionRef.name, k.namespace);
}
