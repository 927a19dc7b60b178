// What controllers may use from the VCD client.
export { VcdClient, bareUuid, type VcdConnectOptions } from './client.ts';
export type { VcdAuth } from './session.ts';
export {
  subscribeEvents,
  parseEnvelope,
  entityTypeOf,
  defaultTopics,
  type VcdBusEvent,
  type MessageBusAccess,
  type BusState,
  type SubscribeOptions,
} from './message-bus.ts';
export type { TaskOptions } from './transport.ts';
export type { VcdTask, TaskRef } from './task.ts';
export { taskFinished, type TaskRecordView } from './taskQuery.ts';
export {
  VcdError,
  VcdApiError,
  VcdNotFoundError,
  VcdBusyError,
  VcdAuthError,
  VcdQuotaExceededError,
  UnsupportedApiVersionError,
  VcdTaskError,
  VcdTaskTimeoutError,
  VcdInvalidRequestError,
  VcdAmbiguousNameError,
  describeVersion,
  type VcdTaskErrorDetail,
} from './errors.ts';
export { redactUrl } from '../common/url.ts';
export { CloudClientError, CloudNetworkError, TlsVerificationError, ClientClosedError } from '../common/errors.ts';
export { FEATURES, CLIENT_API_VERSIONS, atLeast, compareVersions, type Feature } from './versions.ts';
export { parseAllocationResults } from './ipSpaces.ts';
export type { IpSpacesApi, IpSpaceUplinksApi, IpSpaceOrgAssignmentsApi, IpSpaceAllocationsApi } from './ipSpaces.ts';
export type { EdgeGatewaysApi, FirewallApi, FirewallGroupsApi, ApplicationPortProfilesApi, OrgVdcNetworksApi } from './edgeGateways.ts';
export type { OrgsApi, ExternalNetworksApi, NamedEntity, ExternalNetwork } from './inventory.ts';
export { routeVersion, type StaticRoutesApi } from './staticRoutes.ts';
export type * from './types.ts';
export type { Logger } from '../common/logger.ts';
export type { RetryOptions } from '../common/retry.ts';
