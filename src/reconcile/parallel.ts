// Work over many objects at a bounded parallelism (status writes of a group's members, reads of
// many vCenters): never one by one, never all at once against a shared apiserver or cloud.

/**
 * Runs `fn` over `items`, at most `limit` at a time, and returns the results in order. Every item
 * runs even when one fails; the first error is rethrown after all have settled, so no rejection
 * is left without a handler.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  const errors: unknown[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i] as T);
      } catch (err) {
        errors.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  if (errors.length) throw errors[0] instanceof Error ? errors[0] : new Error(String(errors[0]));
  return out;
}
