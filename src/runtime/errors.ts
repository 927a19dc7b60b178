// Typed errors: what callers and conditions need to decide (retry or not, why), never a bare string.

/** Thrown from reconcile to say "retrying will not help": the key is not requeued. */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
  /** A CamelCase reason a controller may copy into its Ready condition. */
  readonly reason: string;
  constructor(message: string, opts: { reason?: string; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.reason = opts.reason ?? 'TerminalError';
  }
}

/** A failed request to the Kubernetes API, with the HTTP status and the Status object's fields. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  readonly code: number;
  /** metav1.Status reason, e.g. NotFound, Conflict, Expired, Gone. */
  readonly reason: string;
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
  constructor(method: string, path: string, code: number, body: unknown) {
    const status = (typeof body === 'object' && body !== null ? body : {}) as { reason?: string; message?: string };
    super(`${method} ${path}: ${code} ${status.message ?? ''}`.trim());
    this.method = method;
    this.path = path;
    this.code = code;
    this.reason = status.reason ?? '';
    this.body = body;
  }
  get notFound(): boolean {
    return this.code === 404;
  }
  get conflict(): boolean {
    return this.code === 409;
  }
  /** 410 Gone / Expired: the resourceVersion is too old, the client must relist. */
  get gone(): boolean {
    return this.code === 410 || this.reason === 'Expired' || this.reason === 'Gone';
  }
}

export function isKubeApiError(err: unknown, code?: number): err is KubeApiError {
  return err instanceof KubeApiError && (code === undefined || err.code === code);
}
