// Why a member or the whole mesh is not trusted yet: stable reasons for conditions and events, and
// the mapping from vCenter client errors to member-level Problems (the shared Problem type; the
// reasons name what the user must fix on that member, which the generic mapping cannot know).
import { Reasons } from '../../api/index.ts';
import { Problem } from '../../reconcile/index.ts';
import { ConnectionFailure } from '../../reconcile/connections/index.ts';
import { CloudNetworkError, TlsVerificationError, VCenterApiError, VCenterAuthError } from '../../clients/vcenter/index.ts';

export const TrustReasons = {
  /** Every member trusts every other member's roots and every extra root. */
  MeshComplete: 'MeshComplete',
  /** Some pairs do not hold yet (writes pending or failed). */
  PairsMissing: 'PairsMissing',
  InvalidSpec: Reasons.InvalidSpec,
  SecretNotFound: Reasons.SecretNotFound,
  CredentialsInvalid: Reasons.CredentialsInvalid,
  Unreachable: Reasons.Unreachable,
  /** The member's TLS certificate does not verify against its caBundle (or the system roots). */
  CABundleMismatch: Reasons.CABundleMismatch,
  /** The account may log in but not read or change trusted roots. */
  NotAuthorized: Reasons.NotAuthorized,
  /** No trusted root (nor download.zip) issued the member's TLS certificate. */
  RootNotFound: 'RootNotFound',
  ReconcileSuccess: Reasons.ReconcileSuccess,
  ReconcileError: Reasons.ReconcileError,
} as const;
export type TrustReason = (typeof TrustReasons)[keyof typeof TrustReasons];

/** A member-level problem; `transient` when retrying unchanged may help. */
export function trustProblem(reason: TrustReason, message: string, transient = false): Problem {
  return new Problem(reason, message, { transient });
}

/** A member-level problem from whatever reading or writing it threw. */
export function problemOf(member: string, err: unknown): Problem {
  if (err instanceof Problem) return err;
  // The client cache already classified a failed login (with this function) and holds it a while.
  if (err instanceof ConnectionFailure) return trustProblem(err.reason as TrustReason, err.message, err.reason === Reasons.Unreachable);
  const detail = err instanceof Error ? err.message : String(err);
  if (err instanceof VCenterAuthError)
    return trustProblem(TrustReasons.CredentialsInvalid, `${member} refused the login: ${detail}. Check username and password in its Secret.`);
  if (err instanceof TlsVerificationError) {
    return trustProblem(
      TrustReasons.CABundleMismatch,
      `${member}'s TLS certificate does not verify against its caBundle: ${detail}. Put the root that signs it (its VMCA root) in caBundle.`,
    );
  }
  if (err instanceof CloudNetworkError) return trustProblem(TrustReasons.Unreachable, `${member} is unreachable: ${detail}`, true);
  if (err instanceof VCenterApiError && err.status === 403) {
    return trustProblem(
      TrustReasons.NotAuthorized,
      `${member} refused: ${detail}. The account needs the certificate-management privileges listed in the README.`,
    );
  }
  return trustProblem(TrustReasons.ReconcileError, `${member}: ${detail}`, true);
}
