// Audit entries keep request bodies so tests can see what was written, but never secrets.

const SECRET_KEY = /pass(word)?|secret|token|private.?key|key.?pem|authorization|assertion|credential/i;

export const REDACTED = '***';

export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? REDACTED : redactSecrets(v);
    return out;
  }
  return value;
}
