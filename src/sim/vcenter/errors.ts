// vSphere Automation error bodies in both URL families (reference B1): /api answers
// {error_type, messages[]}, the deprecated /rest answers {type: 'com.vmware.vapi.std.errors.x', value: {messages}}.
import type { SimResponse } from '../core/types.ts';

export type VapiErrorType = 'ALREADY_EXISTS' | 'ERROR' | 'INVALID_ARGUMENT' | 'NOT_FOUND' | 'SERVICE_UNAVAILABLE' | 'UNAUTHENTICATED' | 'UNAUTHORIZED';

const STATUS: Record<VapiErrorType, number> = {
  ALREADY_EXISTS: 400,
  ERROR: 500,
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  SERVICE_UNAVAILABLE: 503,
  UNAUTHENTICATED: 401,
  UNAUTHORIZED: 403,
};

export interface VapiMessage {
  id: string;
  default_message: string;
  args: string[];
}

/** Which URL family a request came in on; it decides body wrapping and error shape. */
export type Flavor = 'api' | 'rest';

export function flavorOf(path: string): Flavor {
  return path.startsWith('/rest/') ? 'rest' : 'api';
}

/** Thrown by vCenter handlers; the route wrapper renders it in the request's flavor. */
export class VapiError extends Error {
  override readonly name = 'VapiError';
  readonly errorType: VapiErrorType;
  readonly messageId: string;

  constructor(errorType: VapiErrorType, messageId: string, message: string) {
    super(message);
    this.errorType = errorType;
    this.messageId = messageId;
  }

  get status(): number {
    return STATUS[this.errorType];
  }

  toResponse(flavor: Flavor): SimResponse {
    return vapiError(flavor, this.errorType, this.messageId, this.message);
  }
}

export function vapiError(flavor: Flavor, errorType: VapiErrorType, messageId: string, message: string): SimResponse {
  const messages: VapiMessage[] = [{ id: messageId, default_message: message, args: [] }];
  const status = STATUS[errorType];
  const headers: Record<string, string> =
    errorType === 'UNAUTHENTICATED' ? { 'www-authenticate': 'Basic realm="VAPI endpoint",SIGN realm="VAPI endpoint"' } : {};
  if (flavor === 'rest') {
    return { status, headers, body: { type: `com.vmware.vapi.std.errors.${errorType.toLowerCase()}`, value: { messages } } };
  }
  return { status, headers, body: { error_type: errorType, messages } };
}
