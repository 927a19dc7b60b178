// Typed VCD errors. Each carries what a controller's condition needs (status, minorErrorCode, the
// server's message, the request id for support) and nothing from the request itself.
import { CloudClientError } from '../common/errors.ts';

export class VcdError extends CloudClientError {
  constructor(operation: string, message: string) {
    super('vcd', operation, message);
  }
}

export interface VcdApiErrorFields {
  operation: string;
  status: number;
  minorErrorCode: string | undefined;
  /** The server's message, without the leading "[ request-id ]". */
  serverMessage: string;
  requestId: string | undefined;
}

/** The API answered with an error status. */
export class VcdApiError extends VcdError {
  readonly status: number;
  readonly minorErrorCode: string | undefined;
  readonly serverMessage: string;
  readonly requestId: string | undefined;

  constructor(f: VcdApiErrorFields, message?: string) {
    super(
      f.operation,
      message ??
        `VCD ${f.operation} failed: HTTP ${f.status}${f.minorErrorCode ? ` ${f.minorErrorCode}` : ''}: ${f.serverMessage}` +
          (f.requestId ? ` (request ${f.requestId})` : ''),
    );
    this.status = f.status;
    this.minorErrorCode = f.minorErrorCode;
    this.serverMessage = f.serverMessage;
    this.requestId = f.requestId;
  }
}

/** 404, or 403 ACCESS_TO_RESOURCE_IS_FORBIDDEN, which VCD also answers for ids that do not exist. */
export class VcdNotFoundError extends VcdApiError {}

/** 400 BUSY_ENTITY: the edge gateway (or other entity) is completing another operation. */
export class VcdBusyError extends VcdApiError {}

/** 401 after a fresh login, or a failed login: the credentials are wrong or lack rights. */
export class VcdAuthError extends VcdError {
  readonly status: number | undefined;
  readonly requestId: string | undefined;

  constructor(operation: string, status: number | undefined, detail: string, requestId?: string) {
    super(operation, `VCD authentication failed during ${operation}${status ? ` (HTTP ${status})` : ''}: ${detail}`);
    this.status = status;
    this.requestId = requestId;
  }
}

/** The allocation was refused because the org's quota on the IP Space is used up. */
export class VcdQuotaExceededError extends VcdError {
  readonly ipSpaceId: string;
  readonly allocationType: string;
  readonly minorErrorCode: string | undefined;
  readonly serverMessage: string;
  readonly requestId: string | undefined;

  constructor(f: {
    operation: string;
    ipSpaceId: string;
    allocationType: string;
    minorErrorCode: string | undefined;
    serverMessage: string;
    requestId: string | undefined;
  }) {
    super(
      f.operation,
      `the ${f.allocationType} quota of this organization on IP Space ${f.ipSpaceId} is exhausted: ${f.serverMessage}. ` +
        'Release unused allocations or raise the custom quota for the org.',
    );
    this.ipSpaceId = f.ipSpaceId;
    this.allocationType = f.allocationType;
    this.minorErrorCode = f.minorErrorCode;
    this.serverMessage = f.serverMessage;
    this.requestId = f.requestId;
  }
}

/** The negotiated API version is too old for an operation or field. Raised before sending. */
export class UnsupportedApiVersionError extends VcdError {
  readonly requiredVersion: string;
  readonly actualVersion: string;
  readonly feature: string;

  constructor(operation: string, feature: string, requiredVersion: string, actualVersion: string) {
    super(
      operation,
      `${feature} needs VCD API ${requiredVersion} or newer, but this connection uses API ${actualVersion}` +
        ` (${describeVersion(requiredVersion)} or newer is required)`,
    );
    this.feature = feature;
    this.requiredVersion = requiredVersion;
    this.actualVersion = actualVersion;
  }
}

export interface VcdTaskErrorDetail {
  majorErrorCode: string | undefined;
  minorErrorCode: string | undefined;
  message: string;
}

/** The task behind an asynchronous operation ended in error (or was aborted). */
export class VcdTaskError extends VcdError {
  readonly taskHref: string;
  readonly taskStatus: string;
  readonly taskError: VcdTaskErrorDetail;

  constructor(operation: string, taskHref: string, taskStatus: string, taskError: VcdTaskErrorDetail) {
    super(
      operation,
      `VCD task for ${operation} ended ${taskStatus}` + `${taskError.minorErrorCode ? `: ${taskError.minorErrorCode}` : ''}: ${taskError.message}`,
    );
    this.taskHref = taskHref;
    this.taskStatus = taskStatus;
    this.taskError = taskError;
  }
}

/** The task did not finish before the deadline. It may still finish: the outcome is unknown. */
export class VcdTaskTimeoutError extends VcdError {
  readonly taskHref: string;
  readonly lastStatus: string | undefined;
  readonly waitedMs: number;

  constructor(operation: string, taskHref: string, lastStatus: string | undefined, waitedMs: number) {
    super(operation, `VCD task for ${operation} did not finish within ${waitedMs} ms (last status ${lastStatus ?? 'unknown'}); it may still complete`);
    this.taskHref = taskHref;
    this.lastStatus = lastStatus;
    this.waitedMs = waitedMs;
  }
}

const RELEASES: Record<string, string> = {
  '36.0': 'VCD 10.3.0',
  '36.1': 'VCD 10.3.1',
  '36.2': 'VCD 10.3.2',
  '36.3': 'VCD 10.3.3',
  '37.0': 'VCD 10.4.0',
  '37.1': 'VCD 10.4.1',
  '37.2': 'VCD 10.4.2',
  '38.0': 'VCD 10.5.0',
  '38.1': 'VCD 10.5.1',
  '39.0': 'VCD 10.6.0',
};

/** 'VCD 10.4.1' for '37.1'; the API version itself when unknown. */
export function describeVersion(apiVersion: string): string {
  return RELEASES[apiVersion] ?? `API ${apiVersion}`;
}

/** The request was rejected by the client before sending: it can never succeed as written. */
export class VcdInvalidRequestError extends VcdError {}

/** A lookup by name matched more than one object; the caller must use an id. */
export class VcdAmbiguousNameError extends VcdError {
  readonly matches: string[];

  constructor(operation: string, name: string, matches: string[]) {
    super(operation, `more than one object is named "${name}" (${matches.join(', ')}); reference it by id`);
    this.matches = matches;
  }
}
