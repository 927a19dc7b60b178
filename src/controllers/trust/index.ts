// What the wiring and tests use from the trust controller.
export { trustController, TRUST_FINALIZER, type TrustControllerDeps } from './controller.ts';
export { VCenterClientCache, type VCenterClientCacheOptions } from './clients.ts';
export { CHAIN_PREFIX, chainIdOf, clusterTagOf, isOperatorChain, isOwnChain } from './certs.ts';
export { TrustReasons } from './problems.ts';
