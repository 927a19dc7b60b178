// Logged-in VCD clients, one per connection object, shared by every controller. A client is
// rebuilt when what it was built from changes (the connection's spec or its Secret's
// resourceVersion), so a rotated Secret takes effect without a restart. Tenancy is enforced here,
// in the one place every use of a connection passes through:
// - a VCDConnection serves only objects in its own namespace, with a Secret from that namespace;
// - a ClusterVCDConnection reads its Secret from the operator's namespace only, and serves only
//   namespaces its allowedNamespaces selector matches, plus the operator's own namespace (only that
//   one when the selector is absent).
import type { Logger } from 'pino';
import type { ClusterVCDConnection, ConnectionKind, ConnectionRef, Reason, VCDConnection } from '../../api/index.ts';
import { CredentialKeys, Reasons } from '../../api/index.ts';
import { UnsupportedApiVersionError, VcdAuthError, type VcdClient, type VcdConnectOptions } from '../../clients/vcd/index.ts';
import type { KubeObject, SupervisedInformer } from '../../runtime/index.ts';
import { matchesSelector } from './selector.ts';

export interface Secret extends KubeObject {
  data?: Record<string, string>;
}

export type Connection = VCDConnection | ClusterVCDConnection;

export type Resolution =
  | { ok: true; client: VcdClient; connection: Connection }
  | { ok: false; reason: Reason; message: string };

export interface ConnectionPoolOptions {
  vcdConnections: SupervisedInformer<VCDConnection>;
  clusterConnections: SupervisedInformer<ClusterVCDConnection>;
  secrets: SupervisedInformer<Secret>;
  namespaces: SupervisedInformer<KubeObject>;
  /** Where ClusterVCDConnection Secrets live. */
  operatorNamespace: string;
  logger: Logger;
  connect: (opts: VcdConnectOptions) => Promise<VcdClient>;
  /** Options every client gets (task deadline, metrics registry, logger...). */
  clientOptions?: Partial<VcdConnectOptions>;
  /** A failed login is not retried for this long by users of the pool (the connection controller retries on its own). */
  failureHoldMs?: number;
  now?: () => number;
}

interface Entry {
  fingerprint: string;
  client: Promise<VcdClient>;
  failedAt?: number;
  failure?: { reason: Reason; message: string };
}

export class ConnectionFailure extends Error {
  readonly reason: Reason;
  constructor(reason: Reason, message: string) {
    super(message);
    this.name = 'ConnectionFailure';
    this.reason = reason;
  }
}

function decode(secret: Secret, key: string): string | undefined {
  const v = secret.data?.[key];
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8').trim();
}

/**
 * The one name of a connection across the operator: the pool's cache key and the value of the
 * controllers' by-connection indexes. A reference from an object in `namespace` and the
 * connection object itself give the same key.
 */
export function connectionKeyOf(kind: ConnectionKind, name: string, namespace: string | undefined): string {
  return kind === 'ClusterVCDConnection' ? `ClusterVCDConnection/${name}` : `VCDConnection/${namespace ?? ''}/${name}`;
}

export function connectionKey(conn: Connection): string {
  return connectionKeyOf(conn.kind, conn.metadata?.name ?? '', conn.metadata?.namespace);
}

export class ConnectionPool {
  readonly #o: ConnectionPoolOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;

  constructor(opts: ConnectionPoolOptions) {
    this.#o = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** Where ClusterVCDConnection Secrets live; the operator's own work may use any connection from here. */
  get operatorNamespace(): string {
    return this.#o.operatorNamespace;
  }

  /** The connection object a reference made from `namespace` names, or why it may not be used. */
  lookup(ref: ConnectionRef, namespace: string): { ok: true; connection: Connection } | { ok: false; reason: Reason; message: string } {
    if (ref.kind === 'ClusterVCDConnection') {
      const conn = this.#o.clusterConnections.get(ref.name);
      if (!conn) return { ok: false, reason: Reasons.ConnectionNotFound, message: `ClusterVCDConnection ${ref.name} does not exist.` };
      // The operator's own namespace may always use it; others only when the selector matches.
      const selector = conn.spec.allowedNamespaces;
      const ns = this.#o.namespaces.get(namespace);
      const allowed = namespace === this.#o.operatorNamespace || (!!selector && !!ns && matchesSelector(selector, ns.metadata?.labels));
      if (!allowed) {
        return {
          ok: false,
          reason: Reasons.ConnectionNotAllowed,
          message: `ClusterVCDConnection ${ref.name} does not allow namespace ${namespace}; its allowedNamespaces selector must match the namespace's labels.`,
        };
      }
      return { ok: true, connection: conn };
    }
    const conn = this.#o.vcdConnections.get(`${namespace}/${ref.name}`);
    if (!conn) return { ok: false, reason: Reasons.ConnectionNotFound, message: `VCDConnection ${ref.name} does not exist in namespace ${namespace}.` };
    return { ok: true, connection: conn };
  }

  /** A logged-in client for a reference made from `namespace`, or why there is none. */
  async resolve(ref: ConnectionRef, namespace: string): Promise<Resolution> {
    const found = this.lookup(ref, namespace);
    if (!found.ok) return found;
    try {
      return { ok: true, client: await this.clientFor(found.connection, { honourHold: true }), connection: found.connection };
    } catch (err) {
      if (err instanceof ConnectionFailure) {
        return { ok: false, reason: Reasons.ConnectionNotReady, message: `${connectionKey(found.connection)} is not ready: ${err.message}` };
      }
      throw err;
    }
  }

  /**
   * The client for a connection object, logging in when needed. Throws ConnectionFailure with a
   * reason (SecretNotFound, CredentialsInvalid, Unreachable, UnsupportedAPIVersion...).
   */
  async clientFor(conn: Connection, opts: { honourHold?: boolean } = {}): Promise<VcdClient> {
    const key = connectionKey(conn);
    const secretNs = conn.kind === 'ClusterVCDConnection' ? this.#o.operatorNamespace : (conn.metadata?.namespace ?? '');
    const secretName = conn.spec.credentialsSecretRef.name;
    const secret = this.#o.secrets.get(`${secretNs}/${secretName}`);
    if (!secret) throw new ConnectionFailure(Reasons.SecretNotFound, `Secret ${secretNs}/${secretName} does not exist.`);
    const fingerprint = JSON.stringify([conn.metadata?.uid, conn.spec, secret.metadata?.uid, secret.metadata?.resourceVersion]);
    const existing = this.#entries.get(key);
    if (existing && existing.fingerprint === fingerprint) {
      const hold = this.#o.failureHoldMs ?? 5000;
      if (!existing.failure) return existing.client;
      if (opts.honourHold && this.#now() - (existing.failedAt ?? 0) < hold) throw new ConnectionFailure(existing.failure.reason, existing.failure.message);
    }
    const auth = this.#credentials(secret, `${secretNs}/${secretName}`);
    const client = this.#o.connect({
      ...this.#o.clientOptions,
      url: conn.spec.url,
      org: conn.spec.org,
      auth,
      ...(conn.spec.caBundle ? { caPem: conn.spec.caBundle } : {}),
      ...(conn.spec.insecureSkipTLSVerify ? { insecureSkipVerify: true } : {}),
      ...(conn.spec.apiVersion ? { apiVersion: conn.spec.apiVersion } : {}),
      logger: this.#o.logger.child({ connection: key }),
    });
    const entry: Entry = { fingerprint, client };
    this.#entries.set(key, entry);
    if (existing) this.#retire(existing);
    try {
      return await client;
    } catch (err) {
      const failure = classifyConnectError(err);
      entry.failure = failure;
      entry.failedAt = this.#now();
      throw new ConnectionFailure(failure.reason, failure.message);
    }
  }

  /** Forget a connection that was deleted; its client logs out. */
  forget(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    this.#retire(entry);
  }

  async closeAll(): Promise<void> {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all(entries.map((e) => e.client.then((c) => c.close()).catch(() => undefined)));
  }

  #retire(entry: Entry): void {
    // In-flight calls on the old client finish first; nothing waits on the logout.
    entry.client.then((c) => setTimeout(() => void c.close().catch(() => undefined), 30_000).unref()).catch(() => undefined);
  }

  #credentials(secret: Secret, where: string): VcdConnectOptions['auth'] {
    const apiToken = decode(secret, CredentialKeys.apiToken);
    if (apiToken) return { apiToken };
    const username = decode(secret, CredentialKeys.username);
    const password = decode(secret, CredentialKeys.password);
    if (username && password) return { username, password };
    throw new ConnectionFailure(
      Reasons.SecretNotFound,
      `Secret ${where} has neither ${CredentialKeys.apiToken} nor both ${CredentialKeys.username} and ${CredentialKeys.password}.`,
    );
  }
}

function classifyConnectError(err: unknown): { reason: Reason; message: string } {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof ConnectionFailure) return { reason: err.reason, message: err.message };
  if (err instanceof VcdAuthError) return { reason: Reasons.CredentialsInvalid, message: `Login failed: ${message}. Check the credentials in the Secret.` };
  if (err instanceof UnsupportedApiVersionError) return { reason: Reasons.UnsupportedAPIVersion, message };
  return { reason: Reasons.Unreachable, message: `Cannot reach VCD: ${message}` };
}
