// Which orgs a namespace may act for through a ClusterVCDConnection: the union of the orgs of the
// spec.tenants entries whose namespaceSelector matches the namespace's labels. No tenants field:
// no binding (every namespace allowedNamespaces admits may act for any org). Org names compare
// without regard to case, as VCD compares them.
import type { ClusterVCDConnection } from '../../api/index.ts';
import { matchesSelector } from './selector.ts';

/** The org names (lower case) `labels` is bound to, or undefined when the connection binds nothing. */
export function boundOrgs(conn: ClusterVCDConnection, labels: Record<string, string> | undefined): string[] | undefined {
  const tenants = conn.spec.tenants;
  if (!tenants) return undefined;
  // A namespace not in the cache (just created, or deleted) has no labels and matches only {}.
  const orgs = tenants.filter((t) => matchesSelector(t.namespaceSelector, labels)).flatMap((t) => t.orgs.map((o) => o.toLowerCase()));
  return [...new Set(orgs)].sort();
}

export function isBound(bound: string[], orgName: string): boolean {
  return bound.includes(orgName.toLowerCase());
}

export function describeBinding(bound: string[]): string {
  if (!bound.length) return 'no org';
  return bound.length === 1 ? `org ${bound[0] ?? ''}` : `orgs ${bound.join(', ')}`;
}
