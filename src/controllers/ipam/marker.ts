// The ownership marker written into an allocation's description when it is marked USED_MANUAL.
// It names the cluster (the kube-system namespace UID), the claim's kind, namespace/name and UID,
// so the operator finds its own allocations after a crash and never touches anyone else's.
// A retained allocation (reclaimPolicy: Retain, claim deleted) keeps a marker flagged `retained`,
// which garbage collection leaves alone.

const PREFIX = 'vcd-operator.io';

export type ClaimKind = 'FloatingIPClaim' | 'IPPrefixClaim';

export interface Marker {
  clusterId: string;
  kind: ClaimKind;
  namespace: string;
  name: string;
  uid: string;
  retained: boolean;
}

export function formatMarker(m: Omit<Marker, 'retained'> & { retained?: boolean }): string {
  const base = `${PREFIX} cluster=${m.clusterId} ${m.kind}=${m.namespace}/${m.name} uid=${m.uid}`;
  return m.retained ? `${base} retained=true` : base;
}

const pattern = new RegExp(
  `^${PREFIX.replace('.', '\\.')} cluster=(\\S+) (FloatingIPClaim|IPPrefixClaim)=([^/\\s]+)/(\\S+) uid=(\\S+?)( retained=true)?$`,
);

export function parseMarker(description: string | undefined): Marker | undefined {
  const m = description ? pattern.exec(description.trim()) : null;
  if (!m) return undefined;
  const [, clusterId, kind, namespace, name, uid, retained] = m;
  if (!clusterId || !kind || !namespace || !name || !uid) return undefined;
  return { clusterId, kind: kind as ClaimKind, namespace, name, uid, retained: !!retained };
}
