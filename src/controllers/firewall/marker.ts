// Ownership markers of the firewall, in the operator's one marker format (src/reconcile/markers.ts):
// a rule's `description` names the cluster and the EdgeFirewallRule (namespace/name, UID); an IP
// set's or port profile's `description` names the cluster and the edge gateway whose rules it
// serves (kind EdgeFirewallRuleSet, owner = the edge id). Anything without our cluster's marker is
// foreign and is never changed.
import { formatMarker, parseMarker } from '../../reconcile/index.ts';

const RULE_KIND = 'EdgeFirewallRule';
const SET_KIND = 'EdgeFirewallRuleSet';

export interface RuleMarker {
  clusterId: string;
  namespace: string;
  name: string;
  uid: string;
}

export function formatRuleMarker(m: RuleMarker): string {
  return formatMarker({ clusterId: m.clusterId, kind: RULE_KIND, namespace: m.namespace, name: m.name, uid: m.uid });
}

export function parseRuleMarker(description: unknown): RuleMarker | undefined {
  const m = typeof description === 'string' ? parseMarker(description) : undefined;
  if (!m || m.kind !== RULE_KIND || !m.namespace) return undefined;
  return { clusterId: m.clusterId, namespace: m.namespace, name: m.name, uid: m.uid };
}

/** What an operator-owned IP set or port profile serves: one edge gateway of one cluster. */
export interface ObjectMarker {
  clusterId: string;
  edgeId: string;
}

export function formatObjectMarker(m: ObjectMarker): string {
  return formatMarker({ clusterId: m.clusterId, kind: SET_KIND, name: m.edgeId.split(':').pop() ?? m.edgeId, uid: m.edgeId });
}

export function parseObjectMarker(description: unknown): ObjectMarker | undefined {
  const m = typeof description === 'string' ? parseMarker(description) : undefined;
  return m && m.kind === SET_KIND ? { clusterId: m.clusterId, edgeId: m.uid } : undefined;
}
