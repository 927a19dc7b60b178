// The base of every error the cloud clients throw. Errors carry only what a caller or a status
// condition needs (service, operation, status, codes, server message); never a request, headers,
// a body we sent, or the transport error object (which holds the Authorization header).

export type ServiceKind = 'vcd' | 'nsx' | 'vcenter';

export class CloudClientError extends Error {
  readonly service: ServiceKind;
  readonly operation: string;

  constructor(service: ServiceKind, operation: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.service = service;
    this.operation = operation;
  }
}

/** No HTTP response came back: refused, reset, timed out, or TLS failed. */
export class CloudNetworkError extends CloudClientError {
  /** Node/axios error code such as ECONNRESET or SELF_SIGNED_CERT_IN_CHAIN. */
  readonly code: string;
  /**
   * True when the request may have reached the server (reset or timeout after sending): the write
   * may have happened. A caller of a non-idempotent operation resolves this through markers.
   */
  readonly outcomeUnknown: boolean;

  constructor(service: ServiceKind, operation: string, code: string, detail: string, outcomeUnknown: boolean) {
    super(service, operation, `${service} ${operation}: network error ${code}${detail ? `: ${detail}` : ''}`);
    this.code = code;
    this.outcomeUnknown = outcomeUnknown;
  }
}

/** The server's certificate did not verify against the configured CA bundle. Never retried. */
export class TlsVerificationError extends CloudNetworkError {
  constructor(service: ServiceKind, operation: string, code: string, detail: string) {
    super(service, operation, code, `TLS verification failed (check the CA bundle): ${detail}`, false);
  }
}

/** Thrown when a client is used after close(). */
export class ClientClosedError extends CloudClientError {
  constructor(service: ServiceKind, operation: string) {
    super(service, operation, `${service} client is closed; ${operation} was not sent`);
  }
}
