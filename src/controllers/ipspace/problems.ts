// Why an IPSpace is not (yet) as specified: a typed problem carrying the condition reason and a
// message that says what to do, and the mapping of VCD client errors onto such problems.
import { Reasons } from '../../api/index.ts';
import {
  ClientClosedError,
  CloudNetworkError,
  UnsupportedApiVersionError,
  VcdAmbiguousNameError,
  VcdApiError,
  VcdAuthError,
  VcdError,
  VcdTaskError,
  VcdTaskTimeoutError,
} from '../../clients/vcd/index.ts';

/** Reasons of the IPSpace's Ready and Synced conditions beyond the shared vocabulary. */
export const IPSpaceReasons = {
  ...Reasons,
  /** An IP Space of that name exists in VCD and is not ours; adopt it through spec.id. */
  AlreadyExists: 'AlreadyExists',
  /** IP Spaces are managed with provider (System org) rights. */
  ProviderRequired: 'ProviderRequired',
  ProviderGatewayNotFound: 'ProviderGatewayNotFound',
  /** An orgQuotas entry waits for VCD to assign the IP Space to the org. */
  OrgAssignmentPending: 'OrgAssignmentPending',
  RealizationFailed: 'RealizationFailed',
} as const;
export type IPSpaceReason = (typeof IPSpaceReasons)[keyof typeof IPSpaceReasons];

export interface ProblemOptions {
  /** Reconcile again after this long; absent: the queue's backoff when `transient`, else not at all. */
  requeueAfterMs?: number;
  /** Retrying may help by itself (network, VCD busy): the queue backs off. */
  transient?: boolean;
  cause?: unknown;
}

export class IPSpaceProblem extends Error {
  override readonly name = 'IPSpaceProblem';
  readonly reason: IPSpaceReason;
  readonly requeueAfterMs: number | undefined;
  readonly transient: boolean;

  constructor(reason: IPSpaceReason, message: string, opts: ProblemOptions = {}) {
    super(message, { cause: opts.cause });
    this.reason = reason;
    this.requeueAfterMs = opts.requeueAfterMs;
    this.transient = opts.transient ?? false;
  }
}

/** The problem an error from the VCD client stands for; undefined for errors that are bugs. */
export function problemOf(err: unknown, doing: string): IPSpaceProblem | undefined {
  if (err instanceof IPSpaceProblem) return err;
  if (err instanceof UnsupportedApiVersionError) {
    return new IPSpaceProblem(IPSpaceReasons.UnsupportedAPIVersion, `Cannot ${doing}: ${err.message}.`, { cause: err });
  }
  if (err instanceof VcdAuthError || err instanceof ClientClosedError) {
    return new IPSpaceProblem(IPSpaceReasons.ConnectionNotReady, `Cannot ${doing}: ${err.message}. Check the connection's status.`, { cause: err, transient: true });
  }
  if (err instanceof CloudNetworkError) {
    return new IPSpaceProblem(IPSpaceReasons.Unreachable, `Cannot ${doing}: ${err.message}. Retrying.`, { cause: err, transient: true });
  }
  if (err instanceof VcdTaskTimeoutError) {
    return new IPSpaceProblem(IPSpaceReasons.ReconcileError, `Cannot ${doing} yet: ${err.message}. Checking again.`, { cause: err, transient: true });
  }
  if (err instanceof VcdAmbiguousNameError) {
    return new IPSpaceProblem(IPSpaceReasons.AlreadyExists, `Cannot ${doing}: ${err.message}. Set spec.id to the one this IPSpace should manage.`, { cause: err });
  }
  if (err instanceof VcdTaskError) {
    return new IPSpaceProblem(IPSpaceReasons.ReconcileError, `Cannot ${doing}: ${err.message}.`, { cause: err, transient: true });
  }
  if (err instanceof VcdApiError) {
    // 4xx: VCD refused what was sent; retrying unchanged will not help until something changes.
    const transient = err.status >= 500 || err.status === 429;
    return new IPSpaceProblem(IPSpaceReasons.ReconcileError, `Cannot ${doing}: VCD answered: ${err.serverMessage}${err.requestId ? ` (request ${err.requestId})` : ''}.`, {
      cause: err,
      transient,
    });
  }
  if (err instanceof VcdError) return new IPSpaceProblem(IPSpaceReasons.ReconcileError, `Cannot ${doing}: ${err.message}.`, { cause: err, transient: true });
  return undefined;
}

/** Whether a failed create certainly created nothing (VCD refused it before doing anything). */
export function certainlyNotCreated(err: unknown): boolean {
  if (err instanceof UnsupportedApiVersionError) return true;
  if (err instanceof CloudNetworkError) return !err.outcomeUnknown;
  if (err instanceof VcdTaskError) return err.taskStatus === 'error';
  return err instanceof VcdApiError && err.status >= 400 && err.status < 500;
}
