// The key of the firewall controller: one edge gateway as seen through one connection (and, for a
// provider connection, one org). Every EdgeFirewallRule naming the same edge the same way is
// reconciled together: one read of the edge's list, one diff, at most one PUT.
import type { CloudRef, ConnectionKind, EdgeFirewallRule } from '../../api/index.ts';
import { jsonKeyCodec, type KeyCodec } from '../../reconcile/index.ts';

export interface EdgeKey {
  connection: { kind: ConnectionKind; name: string };
  /** The namespace of a VCDConnection (its rules live there too); absent for a ClusterVCDConnection. */
  namespace?: string;
  org?: CloudRef;
  edge: CloudRef;
}

const ref = (r: CloudRef): CloudRef => (r.id ? { id: r.id } : { name: r.name ?? '' });

function isRef(v: unknown): v is CloudRef {
  const r = v as CloudRef | null;
  return typeof r === 'object' && r !== null && (typeof r.id === 'string' || typeof r.name === 'string');
}

function isEdgeKey(v: unknown): v is EdgeKey {
  const k = v as EdgeKey | null;
  return (
    typeof k === 'object' &&
    k !== null &&
    (k.connection?.kind === 'VCDConnection' || k.connection?.kind === 'ClusterVCDConnection') &&
    typeof k.connection.name === 'string' &&
    isRef(k.edge) &&
    (k.org === undefined || isRef(k.org))
  );
}

export const edgeKeyCodec: KeyCodec<EdgeKey> = jsonKeyCodec('edge', isEdgeKey);

export function edgeKeyOf(o: EdgeFirewallRule): EdgeKey {
  const c = o.spec.connectionRef;
  return {
    connection: { kind: c.kind, name: c.name },
    ...(c.kind === 'VCDConnection' ? { namespace: o.metadata?.namespace ?? '' } : {}),
    ...(o.spec.org ? { org: ref(o.spec.org) } : {}),
    edge: ref(o.spec.edgeGateway),
  };
}
