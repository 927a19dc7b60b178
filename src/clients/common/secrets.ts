// Defence in depth for "credentials never appear in logs or errors": the clients never put
// headers or request bodies into logs or errors in the first place, and every text that comes
// from outside (server messages, transport error text) is also scrubbed of every secret the
// connection knows (password, API token, access token, session id, XSRF token).

const MIN_SECRET_LENGTH = 4;
export const REDACTED = '[REDACTED]';

export class SecretSet {
  readonly #values = new Set<string>();

  add(value: string | undefined): void {
    if (value === undefined || value.length < MIN_SECRET_LENGTH) return;
    this.#values.add(value);
    // Basic auth puts secrets on the wire base64-encoded; scrub that form too.
    this.#values.add(Buffer.from(value).toString('base64'));
    this.#values.add(encodeURIComponent(value));
  }

  /** Registers the Basic-auth header value built from user and password. */
  addBasic(user: string, password: string): void {
    this.add(password);
    this.add(Buffer.from(`${user}:${password}`).toString('base64'));
  }

  remove(value: string | undefined): void {
    if (value === undefined) return;
    this.#values.delete(value);
    this.#values.delete(Buffer.from(value).toString('base64'));
    this.#values.delete(encodeURIComponent(value));
  }

  scrub(text: string): string {
    let out = text;
    // Longest first, so a secret that contains another is replaced whole.
    for (const secret of [...this.#values].sort((a, b) => b.length - a.length)) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    return out;
  }
}
