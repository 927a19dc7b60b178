// Why an object is not (yet) as specified: one typed Problem carrying the condition reason, a
// message that says what to do, and whether retrying can help by itself. Every cloud client error
// maps onto a Problem here, once, for every controller.
import { Reasons } from '../api/index.ts';
import { ClientClosedError, CloudClientError, CloudNetworkError, TlsVerificationError } from '../clients/common/errors.ts';
import { NsxApiError, NsxAuthError } from '../clients/nsx/index.ts';
import { VCenterApiError, VCenterAuthError } from '../clients/vcenter/index.ts';
import {
  UnsupportedApiVersionError,
  VcdAmbiguousNameError,
  VcdApiError,
  VcdAuthError,
  VcdBusyError,
  VcdError,
  VcdQuotaExceededError,
  VcdTaskError,
  VcdTaskTimeoutError,
} from '../clients/vcd/index.ts';

export interface ProblemOptions {
  /** Look again after this long; absent: the queue's backoff when transient, else the engine's retry period. */
  requeueAfterMs?: number;
  /** Retrying unchanged may help (network, busy, 5xx): the work queue backs off. */
  transient?: boolean;
  cause?: unknown;
}

/**
 * A condition-ready failure. Non-transient problems are refusals that will not change until the
 * spec or something outside the object changes: they are never retried in a loop.
 */
export class Problem extends Error {
  override readonly name = 'Problem';
  readonly reason: string;
  readonly requeueAfterMs: number | undefined;
  readonly transient: boolean;

  constructor(reason: string, message: string, opts: ProblemOptions = {}) {
    super(message, { cause: opts.cause });
    this.reason = reason;
    this.requeueAfterMs = opts.requeueAfterMs;
    this.transient = opts.transient ?? false;
  }
}

const SERVICE = { vcd: 'VCD', nsx: 'NSX', vcenter: 'vCenter' } as const;

function serverSaid(err: CloudClientError & { serverMessage: string; requestId?: string | undefined }): string {
  return `${SERVICE[err.service]} answered: ${err.serverMessage}${err.requestId ? ` (request ${err.requestId})` : ''}`;
}

/**
 * The problem a cloud client error stands for, `doing` naming the attempted work ("delete IP Space
 * x"). Undefined for errors that are bugs (they propagate and the queue backs off).
 */
export function problemOf(err: unknown, doing: string): Problem | undefined {
  if (err instanceof Problem) return err;
  if (!(err instanceof CloudClientError)) return undefined;
  const opts = (transient: boolean): ProblemOptions => ({ cause: err, transient });
  if (err instanceof UnsupportedApiVersionError) return new Problem(Reasons.UnsupportedAPIVersion, `Cannot ${doing}: ${err.message}.`, opts(false));
  if (err instanceof VcdAuthError || err instanceof NsxAuthError || err instanceof VCenterAuthError || err instanceof ClientClosedError) {
    return new Problem(Reasons.ConnectionNotReady, `Cannot ${doing}: ${err.message}. Check the connection's status and credentials.`, opts(true));
  }
  if (err instanceof TlsVerificationError) return new Problem(Reasons.Unreachable, `Cannot ${doing}: ${err.message}.`, opts(false));
  if (err instanceof CloudNetworkError) return new Problem(Reasons.Unreachable, `Cannot ${doing}: ${err.message}. Retrying.`, opts(true));
  if (err instanceof VcdQuotaExceededError) return new Problem(Reasons.QuotaExceeded, `Cannot ${doing}: ${err.message}`, opts(false));
  if (err instanceof VcdTaskTimeoutError) return new Problem(Reasons.ReconcileError, `Cannot ${doing} yet: ${err.message}. Checking again.`, opts(true));
  if (err instanceof VcdAmbiguousNameError) return new Problem('AlreadyExists', `Cannot ${doing}: ${err.message}. Reference it by id instead.`, opts(false));
  if (err instanceof VcdBusyError)
    return new Problem(Reasons.ReconcileError, `Cannot ${doing} yet: VCD is busy with another change to the same object. Retrying.`, opts(true));
  if (err instanceof VcdTaskError) {
    const refused = err.taskStatus === 'error';
    return new Problem(refused ? Reasons.Refused : Reasons.ReconcileError, `Cannot ${doing}: ${err.message}.`, opts(!refused));
  }
  if (err instanceof VcdApiError || err instanceof NsxApiError || err instanceof VCenterApiError) {
    // 4xx: the cloud refused what was sent; retrying unchanged will not help until something changes.
    const transient = err.status >= 500 || err.status === 429;
    return new Problem(transient ? Reasons.ReconcileError : Reasons.Refused, `Cannot ${doing}: ${serverSaid(err)}.`, opts(transient));
  }
  if (err instanceof VcdError) return new Problem(Reasons.ReconcileError, `Cannot ${doing}: ${err.message}.`, opts(true));
  return new Problem(Reasons.ReconcileError, `Cannot ${doing}: ${err.message}.`, opts(true));
}

/** Whether a failed write certainly changed nothing (the cloud refused it before acting). */
export function certainlyNotWritten(err: unknown): boolean {
  if (err instanceof UnsupportedApiVersionError) return true;
  if (err instanceof CloudNetworkError) return !err.outcomeUnknown;
  if (err instanceof VcdTaskError) return err.taskStatus === 'error';
  if (err instanceof VcdTaskTimeoutError) return false;
  return (err instanceof VcdApiError || err instanceof NsxApiError || err instanceof VCenterApiError) && err.status >= 400 && err.status < 500;
}

/** Whether a write may or may not have happened and nobody told us which. */
export function outcomeUnknown(err: unknown): boolean {
  return (err instanceof CloudNetworkError && err.outcomeUnknown) || err instanceof VcdTaskTimeoutError;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
