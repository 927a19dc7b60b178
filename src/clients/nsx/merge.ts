// Read-modify-write of ordered lists shared with other writers (prefix-list entries, route-map
// entries, redistribution rules): replace our entries, keep everyone else's unchanged and in order.

/**
 * The list with the entries `owns` claims replaced by `desired`. Our block goes where our first
 * entry was; when we had none, before the trailing catch-all entries (e.g. a final "ANY DENY"),
 * else at the end.
 */
export function mergeOwned<T>(current: readonly T[], desired: readonly T[], owns: (e: T) => boolean, isCatchAll: (e: T) => boolean = () => false): T[] {
  const foreign = current.filter((e) => !owns(e));
  const firstOwned = current.findIndex(owns);
  let at: number;
  if (firstOwned !== -1) {
    at = current.slice(0, firstOwned).filter((e) => !owns(e)).length;
  } else {
    at = foreign.length;
    while (at > 0 && isCatchAll(foreign[at - 1] as T)) at--;
  }
  return [...foreign.slice(0, at), ...desired, ...foreign.slice(at)];
}
