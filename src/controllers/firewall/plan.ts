// The whole-list merge for one edge gateway. VCD replaces an edge's user-defined rules with the
// list a PUT carries, so the new list is computed from the current one:
//  - foreign rules (no marker of this cluster) are carried through as the raw JSON VCD returned,
//    every field, known or not, in their relative order;
//  - managed rules form one block ordered by (priority, namespace/name), placed before ("top",
//    the default) or after ("bottom") the foreign rules;
//  - a managed rule keeps its VCD id (and version), so changing or inserting one rule never
//    recreates another; duplicates of one object (a lost response, a crash) collapse to the first;
//  - marked rules of objects that no longer exist are dropped, rules of deleted objects with
//    reclaimPolicy Retain lose their marker and stay where they are, as foreign rules.
// Nothing here talks to VCD; `changed` says whether a PUT is needed at all.
import { projection, type RuleBody } from './desired.ts';
import { parseRuleMarker } from './marker.ts';

export type RawRule = Record<string, unknown>;
export type Placement = 'top' | 'bottom';
export const Placements: readonly Placement[] = ['top', 'bottom'];

export interface ManagedEntry {
  uid: string;
  namespace: string;
  name: string;
  priority: number;
}

export interface DesiredEntry extends ManagedEntry {
  /** The rule as it should be (no id, no version). */
  body: RuleBody;
}

export interface ListPlanInput {
  clusterId: string;
  /** userDefinedRules as VCD returned them. */
  current: readonly RawRule[];
  /** Rules to write as given. */
  desired: readonly DesiredEntry[];
  /**
   * Live objects whose rules stay as VCD has them: not admitted this round (a bad spec, an
   * unresolvable reference) or reconciled under another key for the same edge.
   */
  held: readonly ManagedEntry[];
  /** Deleted objects of this key: Delete drops their rule, Retain unmarks it. */
  released: ReadonlyMap<string, 'Delete' | 'Retain'>;
  placement: Placement;
}

export interface ListPlan {
  rules: RawRule[];
  /** Whether `rules` differs from `current` in anything VCD stores. */
  changed: boolean;
  /** Managed rules left out: of deleted or vanished objects, and duplicates. */
  dropped: RawRule[];
  /** Objects whose rule this plan unmarks (Retain). */
  unmarked: string[];
}

export function compareManaged(a: ManagedEntry, b: ManagedEntry): number {
  return a.priority - b.priority || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name) || a.uid.localeCompare(b.uid);
}

/** Our markers of the list: object uid → its rule (the first, when a crash left duplicates). */
export function managedRules(clusterId: string, rules: readonly RawRule[]): Map<string, { rule: RawRule; position: number }> {
  const out = new Map<string, { rule: RawRule; position: number }>();
  rules.forEach((rule, i) => {
    const m = parseRuleMarker(rule['description']);
    if (m && m.clusterId === clusterId && !out.has(m.uid)) out.set(m.uid, { rule, position: i + 1 });
  });
  return out;
}

function unmark(rule: RawRule, clusterId: string): RawRule {
  const m = parseRuleMarker(rule['description']);
  if (!m || m.clusterId !== clusterId) return rule;
  return { ...rule, description: `Retained from EdgeFirewallRule ${m.namespace}/${m.name}; no longer managed by vcd-operator.io.` };
}

export function planList(input: ListPlanInput): ListPlan {
  const { clusterId, current } = input;
  const desired = new Map(input.desired.map((d) => [d.uid, d]));
  const held = new Map(input.held.map((h) => [h.uid, h]));
  const foreign: RawRule[] = [];
  const kept = new Map<string, RawRule>();
  const dropped: RawRule[] = [];
  const unmarked: string[] = [];

  for (const rule of current) {
    const m = parseRuleMarker(rule['description']);
    if (!m || m.clusterId !== clusterId) {
      foreign.push(rule);
      continue;
    }
    if (kept.has(m.uid)) {
      dropped.push(rule);
      continue;
    }
    if (desired.has(m.uid) || held.has(m.uid)) {
      kept.set(m.uid, rule);
      continue;
    }
    if (input.released.get(m.uid) === 'Retain' && !unmarked.includes(m.uid)) {
      foreign.push(unmark(rule, clusterId));
      unmarked.push(m.uid);
      continue;
    }
    dropped.push(rule);
  }

  const block: Array<{ entry: ManagedEntry; rule: RawRule }> = [];
  for (const d of desired.values()) {
    const old = kept.get(d.uid);
    const rule: RawRule = { ...d.body };
    if (old?.['id'] !== undefined) rule['id'] = old['id'];
    if (old?.['version'] !== undefined) rule['version'] = old['version'];
    block.push({ entry: d, rule });
  }
  for (const h of held.values()) {
    const old = kept.get(h.uid);
    if (old) block.push({ entry: h, rule: old });
  }
  block.sort((a, b) => compareManaged(a.entry, b.entry));
  const managed = block.map((b) => b.rule);
  const rules = input.placement === 'top' ? [...managed, ...foreign] : [...foreign, ...managed];

  const changed =
    rules.length !== current.length ||
    unmarked.length > 0 ||
    rules.some((r, i) => {
      const c = current[i];
      if (!c || r['id'] === undefined || r['id'] !== c['id']) return true;
      return r !== c && projection(r) !== projection(c);
    });
  return { rules, changed, dropped, unmarked };
}

/** Every firewall group and port profile id a rule list references. */
export function referencedIds(rules: readonly RawRule[]): Set<string> {
  const out = new Set<string>();
  for (const r of rules)
    for (const key of ['sourceFirewallGroups', 'destinationFirewallGroups', 'applicationPortProfiles']) {
      const refs = r[key];
      if (Array.isArray(refs)) for (const ref of refs) if (typeof (ref as { id?: unknown } | null)?.id === 'string') out.add((ref as { id: string }).id);
    }
  return out;
}

/** Operator-owned IP sets or port profiles of this edge that no rule in `rules` uses any more. */
export function unusedOwned<T extends { id?: string; description?: string }>(
  owned: readonly T[],
  rules: readonly RawRule[],
  isOurs: (description: string | undefined) => boolean,
): T[] {
  const used = referencedIds(rules);
  return owned.filter((o) => o.id !== undefined && isOurs(o.description) && !used.has(o.id));
}
