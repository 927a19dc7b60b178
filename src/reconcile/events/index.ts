// Event-driven resync from VCD's message bus: the subscriptions and the entity → keys registry.
export { EventBus, type BusStatus, type EventBusOptions } from './bus.ts';
export { EventKeyRegistry, type EntityEvent, type EventMapping, type EnqueueCause } from './registry.ts';
