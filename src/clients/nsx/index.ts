// What controllers may use from the NSX client.
export { NsxClient, POLICY, type NsxConnectOptions, type OwnedEntries, type StatisticsOptions } from './client.ts';
export { NsxError, NsxApiError, NsxNotFoundError, NsxStaleRevisionError, NsxAuthError, NsxConflictError } from './errors.ts';
export { mergeOwned } from './merge.ts';
export type * from './types.ts';
export { CloudClientError, CloudNetworkError, TlsVerificationError, ClientClosedError } from '../common/errors.ts';
export type { Logger } from '../common/logger.ts';
export type { RetryOptions } from '../common/retry.ts';
