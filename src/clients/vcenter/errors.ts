// Typed vCenter errors from vSphere Automation error bodies, in both URL families:
// /api {error_type, messages[]} and /rest {type: 'com.vmware.vapi.std.errors.x', value: {messages}}.
import { CloudClientError } from '../common/errors.ts';

export class VCenterError extends CloudClientError {
  constructor(operation: string, message: string) {
    super('vcenter', operation, message);
  }
}

export interface VCenterApiErrorFields {
  operation: string;
  status: number;
  /** NOT_FOUND, ALREADY_EXISTS, UNAUTHENTICATED, INVALID_ARGUMENT, ERROR, ... */
  errorType: string | undefined;
  serverMessage: string;
}

export class VCenterApiError extends VCenterError {
  readonly status: number;
  readonly errorType: string | undefined;
  readonly serverMessage: string;

  constructor(f: VCenterApiErrorFields) {
    super(f.operation, `vCenter ${f.operation} failed: HTTP ${f.status}${f.errorType ? ` ${f.errorType}` : ''}: ${f.serverMessage}`);
    this.status = f.status;
    this.errorType = f.errorType;
    this.serverMessage = f.serverMessage;
  }
}

export class VCenterNotFoundError extends VCenterApiError {}
export class VCenterAlreadyExistsError extends VCenterApiError {}
export class VCenterAuthError extends VCenterApiError {}

export function toVCenterApiError(operation: string, status: number, data: unknown, scrub: (s: string) => string): VCenterApiError {
  const body = obj(data);
  let errorType = typeof body['error_type'] === 'string' ? body['error_type'] : undefined;
  let messages = body['messages'];
  if (typeof body['type'] === 'string') {
    // /rest: com.vmware.vapi.std.errors.not_found -> NOT_FOUND
    errorType = body['type'].split('.').pop()?.toUpperCase();
    messages = obj(body['value'])['messages'];
  }
  const text = Array.isArray(messages)
    ? messages
        .map((m) => obj(m)['default_message'])
        .filter((m): m is string => typeof m === 'string')
        .join('; ')
    : '';
  const f: VCenterApiErrorFields = { operation, status, errorType, serverMessage: scrub(text || `HTTP ${status}`) };
  if (status === 404 || errorType === 'NOT_FOUND') return new VCenterNotFoundError(f);
  if (errorType === 'ALREADY_EXISTS') return new VCenterAlreadyExistsError(f);
  if (status === 401 || errorType === 'UNAUTHENTICATED') return new VCenterAuthError(f);
  return new VCenterApiError(f);
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
