// Turns a VCD error response into the typed error a caller can act on.
import { VcdApiError, VcdBusyError, VcdNotFoundError, type VcdApiErrorFields } from './errors.ts';
import { legacyErrorOf } from './legacy-xml.ts';

export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  data: unknown;
}

/** Splits "[ request-id ] message" into its parts; VCD prefixes most messages that way. */
export function splitRequestId(message: string): { requestId: string | undefined; message: string } {
  const m = /^\s*\[\s*([^\]\s]+)\s*\]\s*(.*)$/s.exec(message);
  return m ? { requestId: m[1], message: m[2] ?? '' } : { requestId: undefined, message };
}

export function apiErrorFields(operation: string, res: ErrorResponse, scrub: (s: string) => string): VcdApiErrorFields {
  // CloudAPI errors are JSON; the legacy /api (task reads, queries) answers with an XML <Error>.
  const xmlError = typeof res.data === 'string' ? legacyErrorOf(res.data) : undefined;
  const body = xmlError ?? (typeof res.data === 'object' && res.data !== null ? (res.data as Record<string, unknown>) : {});
  const rawMessage =
    typeof body['message'] === 'string'
      ? body['message']
      : typeof res.data === 'string' && !xmlError && res.data.trim() !== '' && res.data.length < 500
        ? res.data.trim()
        : `HTTP ${res.status}`;
  const split = splitRequestId(rawMessage);
  const minor = body['minorErrorCode'];
  return {
    operation,
    status: res.status,
    minorErrorCode: typeof minor === 'string' && minor !== '' ? minor : undefined,
    serverMessage: scrub(split.message),
    requestId: res.headers['x-vmware-vcloud-request-id'] ?? split.requestId,
  };
}

export function toVcdApiError(operation: string, res: ErrorResponse, scrub: (s: string) => string): VcdApiError {
  const f = apiErrorFields(operation, res, scrub);
  if (f.status === 404 || (f.status === 403 && f.minorErrorCode === 'ACCESS_TO_RESOURCE_IS_FORBIDDEN')) return new VcdNotFoundError(f);
  if (f.minorErrorCode === 'BUSY_ENTITY' || (f.status === 400 && /is busy completing an operation/i.test(f.serverMessage))) {
    return new VcdBusyError(f);
  }
  return new VcdApiError(f);
}

/** True for quota refusals, whether they come back as a 400 or in a failed task. */
export function isQuotaMessage(minorErrorCode: string | undefined, message: string): boolean {
  return /QUOTA/i.test(minorErrorCode ?? '') || /quota/i.test(message);
}
