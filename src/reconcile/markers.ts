// Ownership markers: the text the operator writes into a cloud object's description (or comments)
// so it can find its own work after a crash and never mistake anyone else's for it. A marker names
// the cluster (the kube-system namespace UID), the owning object's kind, namespace/name and UID;
// `retained=true` flags an object left in the cloud on purpose (reclaimPolicy: Retain), which
// garbage collection leaves alone.
//
//   vcd-operator.io cluster=<uid> <Kind>=<namespace>/<name> uid=<uid>[ retained=true]
//   vcd-operator.io cluster=<uid> <Kind>=<name> uid=<uid>               (cluster-scoped owners)

const PREFIX = 'vcd-operator.io';

/** The kinds that own cloud objects; a marker naming any other kind is someone else's text. */
export const OWNER_KINDS: ReadonlySet<string> = new Set([
  'IPSpace',
  'FloatingIPClaim',
  'IPPrefixClaim',
  'EdgeFirewallRule',
  // IP sets and port profiles the firewall creates for inline addresses and ports; owner = the edge.
  'EdgeFirewallRuleSet',
  'EdgeStaticRoute',
  'EdgeGatewayUplink',
  'VCenterTrust',
]);

export interface Marker {
  clusterId: string;
  kind: string;
  /** Absent for cluster-scoped owners. */
  namespace?: string;
  name: string;
  uid: string;
  retained: boolean;
}

export type MarkerInput = Omit<Marker, 'retained'> & { retained?: boolean };

export function formatMarker(m: MarkerInput): string {
  const owner = m.namespace ? `${m.namespace}/${m.name}` : m.name;
  const base = `${PREFIX} cluster=${m.clusterId} ${m.kind}=${owner} uid=${m.uid}`;
  return m.retained ? `${base} retained=true` : base;
}

const pattern = /^vcd-operator\.io cluster=(\S+) ([A-Za-z][A-Za-z0-9]*)=(?:([^/\s]+)\/)?([^/\s]+) uid=(\S+?)( retained=true)?$/;

export function parseMarker(text: string | undefined): Marker | undefined {
  const m = text ? pattern.exec(text.trim()) : null;
  if (!m) return undefined;
  const [, clusterId, kind, namespace, name, uid, retained] = m;
  if (!clusterId || !kind || !name || !uid || !OWNER_KINDS.has(kind)) return undefined;
  return { clusterId, kind, ...(namespace ? { namespace } : {}), name, uid, retained: !!retained };
}

/** The marker naming this Kubernetes object as owner. */
export function markerFor(
  clusterId: string,
  kind: string,
  obj: { metadata?: { namespace?: string; name?: string; uid?: string } },
  retained = false,
): MarkerInput {
  const m = obj.metadata ?? {};
  return { clusterId, kind, ...(m.namespace ? { namespace: m.namespace } : {}), name: m.name ?? '', uid: m.uid ?? '', retained };
}

/** Whether the marker names exactly this owner of this cluster (a recreated object has a new UID). */
export function isOwnedBy(marker: Marker | undefined, me: Pick<Marker, 'clusterId' | 'kind' | 'uid'>): boolean {
  return marker !== undefined && marker.clusterId === me.clusterId && marker.kind === me.kind && marker.uid === me.uid;
}

/** Splits a description into the human text and the marker on its last line, if any. */
export function splitDescription(description: string | undefined): { text: string; marker: Marker | undefined } {
  const d = description ?? '';
  const i = d.lastIndexOf('\n');
  const marker = parseMarker(i < 0 ? d : d.slice(i + 1));
  if (!marker) return { text: d, marker: undefined };
  return { text: i < 0 ? '' : d.slice(0, i), marker };
}

/** The description to write: the human text, then the marker line. */
export function joinDescription(text: string, marker: MarkerInput): string {
  return text ? `${text}\n${formatMarker(marker)}` : formatMarker(marker);
}
