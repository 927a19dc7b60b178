// metav1.LabelSelector matching, as the apiserver defines it: matchLabels and matchExpressions are
// ANDed; an empty selector matches everything; an absent selector matches nothing (the caller
// decides what absence means). A selector Kubernetes would refuse (a key or value that is not a
// label key or value) matches nothing: otherwise `DoesNotExist` on a key no label can have would
// open a connection to every namespace. Admission refuses such selectors; this covers objects
// stored before it did.

import { isLabelKey, isLabelValue, type LabelSelector } from '../../api/index.ts';

export function isValidSelector(selector: LabelSelector): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (!isLabelKey(k) || !isLabelValue(v)) return false;
  for (const req of selector.matchExpressions ?? []) {
    if (!isLabelKey(req.key) || !(req.values ?? []).every(isLabelValue)) return false;
    const hasValues = (req.values?.length ?? 0) > 0;
    if ((req.operator === 'In' || req.operator === 'NotIn') !== hasValues) return false;
  }
  return true;
}

export function matchesSelector(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  if (!isValidSelector(selector)) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const req of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(l, req.key);
    const value = l[req.key];
    switch (req.operator) {
      case 'In':
        if (!has || !(req.values ?? []).includes(value ?? '')) return false;
        break;
      case 'NotIn':
        if (has && (req.values ?? []).includes(value ?? '')) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}
