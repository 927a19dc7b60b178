// Typed NSX errors, built from NSX's ApiError body (error_code, error_message, module_name).
import { CloudClientError } from '../common/errors.ts';

export class NsxError extends CloudClientError {
  constructor(operation: string, message: string) {
    super('nsx', operation, message);
  }
}

export interface NsxApiErrorFields {
  operation: string;
  status: number;
  errorCode: number | undefined;
  moduleName: string | undefined;
  serverMessage: string;
}

export class NsxApiError extends NsxError {
  readonly status: number;
  readonly errorCode: number | undefined;
  readonly moduleName: string | undefined;
  readonly serverMessage: string;

  constructor(f: NsxApiErrorFields) {
    super(f.operation, `NSX ${f.operation} failed: HTTP ${f.status}${f.errorCode !== undefined ? ` error ${f.errorCode}` : ''}: ${f.serverMessage}`);
    this.status = f.status;
    this.errorCode = f.errorCode;
    this.moduleName = f.moduleName;
    this.serverMessage = f.serverMessage;
  }
}

export class NsxNotFoundError extends NsxApiError {}

/** The write quoted an old `_revision`: someone else changed the object. Re-read and retry. */
export class NsxStaleRevisionError extends NsxApiError {}

/** Credentials refused, or the session could not be (re)built. */
export class NsxAuthError extends NsxApiError {}

/** A read-modify-write kept losing the race to other writers. */
export class NsxConflictError extends NsxError {
  readonly path: string;
  readonly attempts: number;

  constructor(operation: string, path: string, attempts: number) {
    super(operation, `NSX object ${path} kept changing under us: ${attempts} read-modify-write attempts hit a stale _revision`);
    this.path = path;
    this.attempts = attempts;
  }
}

const STALE_400_CODES = new Set([500087, 500232, 100148]);

export function toNsxApiError(operation: string, status: number, data: unknown, scrub: (s: string) => string): NsxApiError {
  const body = typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {};
  const code = typeof body['error_code'] === 'number' ? body['error_code'] : undefined;
  const f: NsxApiErrorFields = {
    operation,
    status,
    errorCode: code,
    moduleName: typeof body['module_name'] === 'string' ? body['module_name'] : undefined,
    serverMessage: scrub(typeof body['error_message'] === 'string' ? body['error_message'] : `HTTP ${status}`),
  };
  if (status === 404) return new NsxNotFoundError(f);
  if (status === 412 || status === 409 || (status === 400 && code !== undefined && STALE_400_CODES.has(code))) return new NsxStaleRevisionError(f);
  return new NsxApiError(f);
}
