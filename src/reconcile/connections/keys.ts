// The one name of a connection across the operator: the pool's cache key, the value of the
// controllers' by-connection indexes and the first part of claim group keys. A reference made from
// an object in `namespace` and the connection object itself give the same key.
import type { ClusterVCDConnection, ConnectionKind, VCDConnection } from '../../api/index.ts';

export type Connection = VCDConnection | ClusterVCDConnection;

export function connectionKeyOf(kind: ConnectionKind, name: string, namespace: string | undefined): string {
  return kind === 'ClusterVCDConnection' ? `ClusterVCDConnection/${name}` : `VCDConnection/${namespace ?? ''}/${name}`;
}

export function connectionKey(conn: Connection): string {
  return connectionKeyOf(conn.kind, conn.metadata?.name ?? '', conn.metadata?.namespace);
}
