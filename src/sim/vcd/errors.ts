// VCD's error contract: a JSON body { minorErrorCode, message } with the status VCD uses, or on the
// legacy /api surface the XML Error document govcd parses. Handlers throw VcdError; the service
// turns it into a response, so validation reads as plain code.
import type { SimRequest, SimResponse } from '../core/types.ts';
import { errorXml, wantsLegacyXml } from './xml.ts';

export class VcdError extends Error {
  readonly status: number;
  readonly minorErrorCode: string;
  constructor(status: number, minorErrorCode: string, message: string) {
    super(message);
    this.name = 'VcdError';
    this.status = status;
    this.minorErrorCode = minorErrorCode;
  }
}

export function badRequest(message: string): VcdError {
  return new VcdError(400, 'BAD_REQUEST', message);
}

/** VCD answers 403, not 404, for ids that do not exist (or that the caller may not see). */
export function forbiddenUnknown(id: string): VcdError {
  return new VcdError(
    403,
    'ACCESS_TO_RESOURCE_IS_FORBIDDEN',
    `Either you need some or all of the following rights [ACCESS_TO_RESOURCE_IS_FORBIDDEN] to perform operations [${id}] or the target entity is invalid.`,
  );
}

export function busyEntity(entityRef: string, operation: string): VcdError {
  return new VcdError(400, 'BUSY_ENTITY', `The entity ${entityRef} is busy completing an operation ${operation}.`);
}

export function unauthorized(message = 'Authentication required.'): VcdError {
  return new VcdError(401, 'UNAUTHORIZED', message);
}

export function errorResponse(err: VcdError, requestId: string, req?: SimRequest): SimResponse {
  if (req && wantsLegacyXml(req)) return errorXml(err.status, err.minorErrorCode, `[ ${requestId} ] ${err.message}`);
  return {
    status: err.status,
    body: { minorErrorCode: err.minorErrorCode, message: `[ ${requestId} ] ${err.message}`, stackTrace: '' },
  };
}
