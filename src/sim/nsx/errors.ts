// NSX's ApiError body and the codes clients branch on (nsx-operator maps HTTP status + error_code
// to retry, rebuild-session or stale-revision; see reference A1-A3). Codes marked [I] in the
// reference are guesses the simulator keeps in one place.
import type { SimResponse } from '../core/types.ts';

const HTTP_STATUS_NAMES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  412: 'PRECONDITION_FAILED',
  429: 'TOO_MANY_REQUESTS',
  500: 'INTERNAL_SERVER_ERROR',
  503: 'SERVICE_UNAVAILABLE',
};

export const NsxErrorCode = {
  /** 403: the XSRF token is missing or does not belong to the session. */
  badXsrfToken: 98,
  /** 403: wrong credentials, or an expired/unknown session. */
  badCredentials: 403,
  /** 404: no object at this policy path. */
  notFound: 500090,
  /** 400: a referenced policy path does not exist or has the wrong form. */
  invalidPath: 500012,
  /** 400: the body breaks the object's schema (enums, required fields). */
  invalidArgument: 255,
  /** 412 (configurable): the write's `_revision` is not the object's current one. */
  staleRevision: 500087,
  /** 400: the object still has children or is referenced. */
  inUse: 500030,
} as const;

export interface NsxErrorBody {
  httpStatus: string;
  error_code: number;
  module_name: string;
  error_message: string;
  details?: string;
}

export function nsxErrorBody(status: number, errorCode: number, message: string, moduleName = 'Policy'): NsxErrorBody {
  return {
    httpStatus: HTTP_STATUS_NAMES[status] ?? String(status),
    error_code: errorCode,
    module_name: moduleName,
    error_message: message,
  };
}

export function nsxError(status: number, errorCode: number, message: string, moduleName?: string): SimResponse {
  return { status, body: nsxErrorBody(status, errorCode, message, moduleName) };
}

/** Thrown inside handlers and turned into the NSX error body by the route wrapper. */
export class NsxApiError extends Error {
  override readonly name = 'NsxApiError';
  readonly status: number;
  readonly errorCode: number;

  constructor(status: number, errorCode: number, message: string) {
    super(message);
    this.status = status;
    this.errorCode = errorCode;
  }

  toResponse(): SimResponse {
    return nsxError(this.status, this.errorCode, this.message);
  }
}
