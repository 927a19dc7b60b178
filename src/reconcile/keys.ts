// Typed keys for many-to-one controllers (controller-runtime's TypedReconciler[request]): a key
// is a small plain object (a connection, an org, an edge gateway...) encoded once into the work
// queue's string and decoded back, instead of strings parsed with a regex in several places.

export interface KeyCodec<K> {
  encode(key: K): string;
  decode(text: string): K | undefined;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, x]) => [k, sortKeys(x)]),
    );
  }
  return v;
}

/**
 * `<prefix>:<canonical JSON>`: equal keys encode equally whatever their field order, and decode
 * checks the shape with `is`, so a key from another controller is refused rather than misread.
 */
export function jsonKeyCodec<K>(prefix: string, is: (v: unknown) => v is K): KeyCodec<K> {
  const head = `${prefix}:`;
  return {
    encode: (key) => head + JSON.stringify(sortKeys(key)),
    decode(text) {
      if (!text.startsWith(head)) return undefined;
      try {
        const v: unknown = JSON.parse(text.slice(head.length));
        return is(v) ? v : undefined;
      } catch {
        return undefined;
      }
    },
  };
}
