// Ownership markers of the firewall: a rule's `description` names the cluster (the kube-system
// namespace UID) and the EdgeFirewallRule (namespace/name, UID); an IP set's or port profile's
// `description` names the cluster and the edge gateway it serves. Rules and objects without our
// cluster's marker are foreign and are never changed.
// TODO(reconcile): move onto src/reconcile/markers.ts once it is on main.

const PREFIX = 'vcd-operator.io';
const KIND = 'EdgeFirewallRule';

export interface RuleMarker {
  clusterId: string;
  namespace: string;
  name: string;
  uid: string;
}

export function formatRuleMarker(m: RuleMarker): string {
  return `${PREFIX} cluster=${m.clusterId} ${KIND}=${m.namespace}/${m.name} uid=${m.uid}`;
}

const rulePattern = /^vcd-operator\.io cluster=(\S+) EdgeFirewallRule=([^/\s]+)\/(\S+) uid=(\S+)$/;

export function parseRuleMarker(description: unknown): RuleMarker | undefined {
  if (typeof description !== 'string') return undefined;
  const m = rulePattern.exec(description.trim());
  if (!m) return undefined;
  const [, clusterId, namespace, name, uid] = m;
  if (!clusterId || !namespace || !name || !uid) return undefined;
  return { clusterId, namespace, name, uid };
}

/** What an operator-owned IP set or port profile serves: one edge gateway of one cluster. */
export interface ObjectMarker {
  clusterId: string;
  edgeId: string;
}

export function formatObjectMarker(m: ObjectMarker): string {
  return `${PREFIX} cluster=${m.clusterId} edge=${m.edgeId} inline set of EdgeFirewallRules`;
}

const objectPattern = /^vcd-operator\.io cluster=(\S+) edge=(\S+) inline set of EdgeFirewallRules$/;

export function parseObjectMarker(description: unknown): ObjectMarker | undefined {
  if (typeof description !== 'string') return undefined;
  const m = objectPattern.exec(description.trim());
  return m?.[1] && m[2] ? { clusterId: m[1], edgeId: m[2] } : undefined;
}
