// Why a connection cannot give a client: a stable reason for the Ready condition and a message
// that says what to fix. Thrown by pools, mapped to conditions by controllers.
import type { Reason } from '../../api/index.ts';

export class ConnectionFailure extends Error {
  readonly reason: Reason;
  constructor(reason: Reason, message: string) {
    super(message);
    this.name = 'ConnectionFailure';
    this.reason = reason;
  }
}
