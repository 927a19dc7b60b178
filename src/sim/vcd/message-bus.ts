// VCD's MQTT message bus (vcd-api.md §9): MQTT 3.1.1 over a WebSocket at /messaging/mqtt on the VCD
// endpoint, the upgrade authenticated with `Authorization: Bearer <session JWT>` (or, as the
// extension SDK describes, the JWT as the MQTT password). A real broker (aedes) behind a `ws`
// server: clients use real MQTT, QoS and reconnects. Only the simulator publishes; a tenant may
// subscribe to its own org's topics, a provider to everything under publish/.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Aedes, type Client } from 'aedes';
import { WebSocketServer, createWebSocketStream, type WebSocket } from 'ws';
import type { AuthStore, SessionRecord } from './auth.ts';
import type { BusMessage } from './events.ts';
import { uuidOf } from './state.ts';

export const MESSAGING_PATH = '/messaging/mqtt';

export interface MessageBus {
  /** Handles an HTTP upgrade on the VCD listener; false when the path is not the bus's. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  publish(messages: BusMessage[]): void;
  /** Takes the bus away (every client dropped, upgrades answered 503) or brings it back. */
  setAvailable(up: boolean): void;
  readonly available: boolean;
  /** Clients connected now. */
  readonly clients: number;
  /** Messages published since start (one per topic). */
  readonly published: number;
  close(): Promise<void>;
}

export async function createMessageBus(auth: AuthStore): Promise<MessageBus> {
  const broker = await Aedes.createBroker({ heartbeatInterval: 3_600_000, drainTimeout: 10_000 });
  const sessions = new WeakMap<object, SessionRecord>();
  const sockets = new Set<WebSocket>();
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false) });
  let available = true;
  let published = 0;

  const sessionOf = (client: Client): SessionRecord | undefined => sessions.get(client.conn);

  broker.authenticate = (client, _username, password, done) => {
    if (sessionOf(client)) return done(null, true);
    // No bearer on the upgrade: the password must be a live session token.
    const s = password ? auth.sessionOfToken(password.toString('utf8')) : undefined;
    if (!s) {
      const err = Object.assign(new Error('not authorized'), { returnCode: 5 as const });
      return done(err, false);
    }
    sessions.set(client.conn, s);
    done(null, true);
  };
  broker.authorizePublish = (_client, _packet, callback) => callback(new Error('clients do not publish on the VCD message bus'));
  broker.authorizeSubscribe = (client, sub, callback) => {
    const s = sessionOf(client);
    if (!s) return callback(new Error('not authenticated'));
    const allowed = s.user.provider ? sub.topic === '#' || sub.topic.startsWith('publish/') : sub.topic.startsWith(`publish/${uuidOf(s.user.orgId)}/`);
    // A refused subscription gets a failure code in SUBACK (MQTT 3.1.1 0x80), not a disconnect.
    callback(null, allowed ? sub : null);
  };

  const refuse = (socket: Duplex, status: number, text: string): void => {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };

  return {
    upgrade(req, socket, head) {
      const path = new URL(req.url ?? '/', 'https://sim.invalid').pathname;
      if (path !== MESSAGING_PATH) return false;
      if (!available) {
        refuse(socket, 503, 'Service Unavailable');
        return true;
      }
      const m = /^bearer\s+(\S+)$/i.exec(req.headers.authorization?.trim() ?? '');
      const session = m ? auth.sessionOfToken(m[1] as string) : undefined;
      if (m && !session) {
        refuse(socket, 401, 'Unauthorized');
        return true;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        sockets.add(ws);
        ws.on('close', () => sockets.delete(ws));
        const stream = createWebSocketStream(ws);
        stream.on('error', () => ws.terminate());
        if (session) sessions.set(stream, session);
        broker.handle(stream, req);
      });
      return true;
    },
    publish(messages) {
      if (!available) return;
      for (const msg of messages) {
        published++;
        broker.publish(
          { cmd: 'publish', topic: msg.topic, payload: Buffer.from(JSON.stringify(msg.envelope)), qos: 1, retain: false, dup: false },
          () => undefined,
        );
      }
    },
    setAvailable(up) {
      available = up;
      if (!up) for (const ws of sockets) ws.terminate();
    },
    get available() {
      return available;
    },
    get clients() {
      return sockets.size;
    },
    get published() {
      return published;
    },
    close: async () => {
      for (const ws of sockets) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}
