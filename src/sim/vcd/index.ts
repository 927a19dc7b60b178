// The simulated VCD CloudAPI: what the simulator entry point composes.
export { createVcdService, type VcdService } from './service.ts';
export type { VcdBackingHooks } from './context.ts';
export type { VcdDump } from './dump.ts';
export type { EdgeRec, ExternalNetworkRec, VcdState } from './state.ts';
export { SUPPORTED_VERSIONS, FIELD_ADDED_IN, FIELD_ADDED_AFTER_SPEC } from './version.ts';
export { stableUuid } from './seed.ts';
