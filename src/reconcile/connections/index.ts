// Connections to the clouds, shared by every controller: keys, the generic client cache, the VCD
// pool with its tenancy rules, and the Kubernetes objects they read.
export { ClientCache, type ClientCacheOptions, type Closable } from './client-cache.ts';
export { ConnectionFailure } from './failure.ts';
export { connectionKey, connectionKeyOf, type Connection } from './keys.ts';
export { clientFingerprint, credentialsSecret, NamespaceResource, SecretResource, secretValue, type Secret, type SecretSource } from './resources.ts';
export { SecretAccessModes, SecretStore, type SecretAccess, type SecretInformerHost, type SecretStoreOptions } from './secrets.ts';
export { matchesSelector } from './selector.ts';
export { boundOrgs } from './tenancy.ts';
export { VcdConnectionPool, type ResolveOptions, type Resolution, type VcdConnectionPoolOptions } from './vcd-pool.ts';
export { NsxConnectionPool, nsxConnectionKey, type NsxConnectionPoolOptions, type NsxResolution } from './nsx-pool.ts';
export { BY_CONNECTION, connectionChanged, connectionWatches, nsxConnectionWatch, vcdConnectionWatches } from './watches.ts';
