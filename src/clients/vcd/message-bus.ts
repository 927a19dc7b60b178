// VCD's MQTT message bus (vcd-api.md §9): MQTT 3.1.1 over a WebSocket to
// wss://{vcd}/messaging/mqtt, the upgrade carrying the session's bearer token. A subscription runs
// until its signal aborts; every connection attempt takes a valid token from the session (a fresh
// one after a 401), and a lost connection is retried with capped, jittered backoff. Events are
// parsed from the documented envelope `{type, headers, payload}`; anything else is skipped.
import mqtt, { type MqttClient } from 'mqtt';
import { WebSocket, type ClientOptions as WsOptions } from 'ws';
import { backoffDelay, type BackoffPolicy } from '../common/backoff.ts';
import type { Clock } from '../common/clock.ts';
import type { Logger } from '../common/logger.ts';

export const MESSAGING_PATH = '/messaging/mqtt';

/** One VCD event: the payload of an EVENT envelope. */
export interface VcdBusEvent {
  eventId: string;
  /** com/vmware/vcloud/event/<object>/<action> */
  type: string;
  timestamp?: string;
  operationSuccess: boolean;
  /** URN of the user who caused it. */
  user: string;
  org: string;
  /** URN of the object the event is about; its type is the URN's third part. */
  entity: string;
  /** A nested object the write named (an allocation, a rule), when there is one. */
  subEntity?: string;
  task?: string;
}

/** What a subscription needs from a logged-in client (VcdClient.messageBusAccess()). */
export interface MessageBusAccess {
  /** wss://host:port/messaging/mqtt */
  url: string;
  caPem?: string;
  insecureSkipVerify?: boolean;
  /** A valid session token (logs in again when needed). */
  token(): Promise<string>;
  /** Drops a token the bus refused, so token() returns a new one. */
  renew(stale: string): void;
  /** The session's org and user ids (URNs), which name the bus topics. */
  whoAmI(): Promise<{ orgId: string; userId: string; provider: boolean }>;
}

export type BusState = { connected: true } | { connected: false; error: string };

export interface SubscribeOptions {
  access: MessageBusAccess;
  /** Topics to subscribe to; default: publish/# for a provider, publish/{orgUUID}/+ for a tenant. */
  topics?: string[];
  onEvent(event: VcdBusEvent): void;
  /** Called on every change of connectedness (and on each failed attempt while disconnected). */
  onState(state: BusState): void;
  signal: AbortSignal;
  clock: Clock;
  logger: Logger;
  /** Reconnect delays; default 500 ms doubling to 30 s, 20 % jitter. */
  backoff?: BackoffPolicy;
  /** How long one connection attempt may take. Default 10 s. */
  connectTimeoutMs?: number;
}

const DEFAULT_BACKOFF: BackoffPolicy = { initialDelayMs: 500, maxDelayMs: 30_000, multiplier: 2, jitter: 0.2 };

/** The default topics of a session: everything for a provider, the org's topics for a tenant. */
export function defaultTopics(who: { orgId: string; provider: boolean }): string[] {
  return who.provider ? ['publish/#'] : [`publish/${uuidOf(who.orgId)}/+`];
}

/** Runs a subscription until `signal` aborts. Never rejects. */
export async function subscribeEvents(o: SubscribeOptions): Promise<void> {
  const backoff = o.backoff ?? DEFAULT_BACKOFF;
  let failures = 0;
  while (!o.signal.aborted) {
    let token: string | undefined;
    try {
      token = await o.access.token();
      const topics = o.topics ?? defaultTopics(await o.access.whoAmI());
      await runOnce(o, token, topics, () => {
        failures = 0;
        o.onState({ connected: true });
      });
      if (o.signal.aborted) return;
      o.onState({ connected: false, error: 'the message bus closed the connection' });
    } catch (err) {
      if (o.signal.aborted) return;
      const message = err instanceof Error ? err.message : String(err);
      // A refused upgrade means the token is no longer good: the next attempt logs in again.
      if (token && /HTTP 401|not authorized/i.test(message)) o.access.renew(token);
      o.onState({ connected: false, error: message });
    }
    failures++;
    const delay = backoffDelay(backoff, failures - 1, Math.random);
    o.logger.debug({ service: 'vcd', delayMs: delay, failures }, 'message bus disconnected; reconnecting after backoff');
    try {
      await o.clock.sleep(delay, o.signal);
    } catch {
      return;
    }
  }
}

/** One connection: resolves when it closes or the signal aborts, rejects when it cannot connect. */
async function runOnce(o: SubscribeOptions, token: string, topics: string[], onUp: () => void): Promise<void> {
  const url = new URL(MESSAGING_PATH, o.access.url.replace(/^http/, 'ws'));
  // The upgrade's HTTP status (401: the token is no longer good; 503) says why a connect failed.
  let refused: number | undefined;
  const wsOptions: WsOptions = {
    headers: { Authorization: `Bearer ${token}` },
    ...(o.access.caPem ? { ca: o.access.caPem } : {}),
    rejectUnauthorized: !o.access.insecureSkipVerify,
  };
  const client: MqttClient = mqtt.connect(url.toString(), {
    createWebsocket: (u: string, protocols: string[]) => {
      const ws = new WebSocket(u, protocols, wsOptions);
      ws.on('unexpected-response', (_req, res) => {
        refused = res.statusCode;
        res.resume();
        ws.terminate();
      });
      return ws;
    },
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: o.connectTimeoutMs ?? 10_000,
    keepalive: 30,
    // mqtt-packet's write cache is 65,536 two-byte Buffers (7 MB of heap) for a client that sends
    // one subscribe and a ping every 30 s.
    writeCache: false,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => resolve();
      o.signal.addEventListener('abort', onAbort, { once: true });
      let up = false;
      client.on('message', (_topic, payload) => {
        const event = parseEnvelope(payload);
        if (event) o.onEvent(event);
      });
      client.on('connect', () => {
        // QoS 0: events are hints, and a clean session loses what was published while it was
        // down whatever the QoS (a reconnect enqueues every key instead). QoS 1 would only add a
        // PUBACK written back over TLS for every event, hundreds a second under load.
        client.subscribe(topics, { qos: 0 }, (err, granted) => {
          if (err) return reject(err);
          const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
          if (refused.length) return reject(new Error(`the message bus refused the subscription to ${refused.join(', ')}`));
          up = true;
          onUp();
        });
      });
      let lastError: Error | undefined;
      client.on('error', (err) => {
        lastError = err;
        if (!up) reject(err);
      });
      client.on('close', () => {
        o.signal.removeEventListener('abort', onAbort);
        if (up) return resolve();
        // The upgrade's refusal (401, 503) may be reported just after the close.
        const why = refused !== undefined ? new Error(`the message bus refused the connection: HTTP ${refused}`) : lastError;
        setImmediate(() => reject(why ?? new Error('the message bus closed the connection before the subscription')));
      });
    });
  } finally {
    client.end(true);
  }
}

/** The event of an EVENT envelope whose payload is an encoded event; undefined for anything else. */
export function parseEnvelope(raw: Buffer | string): VcdBusEvent | undefined {
  try {
    const env = JSON.parse(raw.toString()) as { type?: unknown; payload?: unknown };
    if (env.type !== 'EVENT' && env.type !== 'EXTERNAL_EVENT') return undefined;
    const p = (typeof env.payload === 'string' ? JSON.parse(env.payload) : env.payload) as Record<string, unknown> | undefined;
    if (!p || typeof p !== 'object' || typeof p['type'] !== 'string' || typeof p['entity'] !== 'string') return undefined;
    const str = (k: string): string => (typeof p[k] === 'string' ? p[k] : '');
    return {
      eventId: str('eventId'),
      type: str('type'),
      ...(str('timestamp') ? { timestamp: str('timestamp') } : {}),
      operationSuccess: p['operationSuccess'] !== false,
      user: str('user'),
      org: str('org'),
      entity: str('entity'),
      ...(str('subEntity') ? { subEntity: str('subEntity') } : {}),
      ...(str('task') ? { task: str('task') } : {}),
    };
  } catch {
    return undefined;
  }
}

/** The entity type of a URN (`urn:vcloud:ipSpace:<uuid>` → 'ipSpace'); '' when it is not a URN. */
export function entityTypeOf(urn: string): string {
  const parts = urn.split(':');
  return parts.length >= 4 && parts[0] === 'urn' ? (parts[2] ?? '') : '';
}

function uuidOf(urn: string): string {
  return urn.slice(urn.lastIndexOf(':') + 1);
}
