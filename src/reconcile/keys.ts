// Typed keys for many-to-one controllers (controller-runtime's TypedReconciler[request]): a key
// is a small plain object (a connection, an org, an edge gateway...) encoded once into the work
// queue's string and decoded back, instead of strings parsed with a regex in several places.

export interface KeyCodec<K> {
  encode(key: K): string;
  decode(text: string): K | undefined;
}

/** JSON with object keys in order and undefined members left out, whatever order the fields were set in. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonical(x))).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    let out = '';
    for (const k of Object.keys(o).sort()) {
      const x = o[k];
      if (x === undefined) continue;
      out += `${out ? ',' : ''}${JSON.stringify(k)}:${canonical(x)}`;
    }
    return `{${out}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/**
 * `<prefix>:<canonical JSON>`: equal keys encode equally whatever their field order, and decode
 * checks the shape with `is`, so a key from another controller is refused rather than misread.
 */
export function jsonKeyCodec<K>(prefix: string, is: (v: unknown) => v is K): KeyCodec<K> {
  const head = `${prefix}:`;
  return {
    encode: (key) => head + canonical(key),
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
