// What services and the simulator entry point may use from the shared core.
export type { AuditEntry, FaultKind, FaultRule, HttpMethod, Route, ServiceKind, SimRequest, SimResponse } from './types.ts';
export { SimCore, type RouteCounter, type SimClock } from './core.ts';
export { defaultKnobs, mergeKnobs, type SimKnobs } from './knobs.ts';
export { serveRoutes, type ServeRoutesOptions, type ServedRoutes } from './server.ts';
export { redactSecrets, REDACTED } from './redact.ts';
