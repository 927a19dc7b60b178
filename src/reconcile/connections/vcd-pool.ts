// Logged-in VCD clients, one per VCDConnection or ClusterVCDConnection, shared by every
// controller: the VCD instance of the generic client cache. Tenancy is enforced here, in the one
// place every use of a connection passes through:
// - a VCDConnection serves only objects in its own namespace, with a Secret from that namespace;
// - a ClusterVCDConnection reads its Secret from the operator's namespace only, and serves only
//   namespaces its allowedNamespaces selector matches, plus the operator's own namespace (only that
//   one when the selector is absent);
// - when a ClusterVCDConnection has spec.tenants, a namespace other than the operator's acts only
//   for the orgs the entries matching its labels bind it to (see tenancy.ts).
import type { Logger } from 'pino';
import type { CloudRef, ClusterVCDConnection, ConnectionRef, Reason, VCDConnection } from '../../api/index.ts';
import { CredentialKeys, Reasons } from '../../api/index.ts';
import { UnsupportedApiVersionError, VcdAuthError, type VcdClient, type VcdConnectOptions } from '../../clients/vcd/index.ts';
import type { Clock, KubeObject, Runnable, SupervisedInformer } from '../../runtime/index.ts';
import { ClientCache } from './client-cache.ts';
import { ConnectionFailure } from './failure.ts';
import { connectionKey, type Connection } from './keys.ts';
import { clientFingerprint, credentialsSecret, secretValue, type Secret, type SecretSource } from './resources.ts';
import { matchesSelector } from './selector.ts';
import { boundOrgs, describeBinding, isBound } from './tenancy.ts';

export type Resolution =
  | {
      ok: true;
      client: VcdClient;
      connection: Connection;
      /** The org asked for in resolve(), with its name when it was named by id (looked up once here). */
      org?: { name?: string; id?: string };
    }
  | { ok: false; reason: Reason; message: string };

export interface ResolveOptions {
  /**
   * The organization the caller acts for (a claim's spec.org, an edge's org), by name or id.
   * Absent: the connection's own org (spec.org). Checked against a ClusterVCDConnection's
   * spec.tenants; an id is looked up through the connection before the check.
   */
  org?: CloudRef;
}

export interface VcdConnectionPoolOptions {
  vcdConnections: SupervisedInformer<VCDConnection>;
  clusterConnections: SupervisedInformer<ClusterVCDConnection>;
  /** Credentials Secrets (the SecretStore; an informer in tests). */
  secrets: SecretSource;
  namespaces: SupervisedInformer<KubeObject>;
  /** Where ClusterVCDConnection Secrets live. */
  operatorNamespace: string;
  logger: Logger;
  connect: (opts: VcdConnectOptions) => Promise<VcdClient>;
  /** Options every client gets (task deadline, the manager's metrics registry...). */
  clientOptions?: Partial<VcdConnectOptions>;
  /** A failed login is not retried for this long by users of the pool (the connection controller retries on its own). */
  failureHoldMs?: number;
  /** How long a replaced client stays open for calls still using it. Default 30 s. */
  retireAfterMs?: number;
  clock?: Clock;
}

export class VcdConnectionPool {
  readonly #o: VcdConnectionPoolOptions;
  readonly #cache: ClientCache<VcdClient>;

  constructor(opts: VcdConnectionPoolOptions) {
    this.#o = opts;
    this.#cache = new ClientCache<VcdClient>({
      classify: classifyConnectError,
      ...(opts.failureHoldMs !== undefined ? { failureHoldMs: opts.failureHoldMs } : {}),
      ...(opts.retireAfterMs !== undefined ? { retireAfterMs: opts.retireAfterMs } : {}),
      ...(opts.clock ? { clock: opts.clock } : {}),
    });
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

  /**
   * A logged-in client for a reference made from `namespace`, acting for `opts.org`, or why there
   * is none: ConnectionNotFound, ConnectionNotAllowed, OrgNotAllowed (refused before any call to
   * VCD when the org is named by name), OrgNotFound (an org id VCD does not know),
   * ConnectionNotReady. Errors of the org lookup by id other than not-found are thrown.
   */
  async resolve(ref: ConnectionRef, namespace: string, opts: ResolveOptions = {}): Promise<Resolution> {
    const found = this.lookup(ref, namespace);
    if (!found.ok) return found;
    const conn = found.connection;
    const bound =
      conn.kind === 'ClusterVCDConnection' && namespace !== this.#o.operatorNamespace
        ? boundOrgs(conn, this.#o.namespaces.get(namespace)?.metadata?.labels)
        : undefined;
    const org = opts.org?.id ? { id: opts.org.id } : { name: opts.org?.name ?? conn.spec.org };
    if (bound && org.name !== undefined && !isBound(bound, org.name)) return this.#orgNotAllowed(conn.metadata?.name ?? '', namespace, org.name, bound);
    let client: VcdClient;
    try {
      client = await this.clientFor(conn, { honourHold: true });
    } catch (err) {
      if (err instanceof ConnectionFailure) {
        return { ok: false, reason: Reasons.ConnectionNotReady, message: `${connectionKey(conn)} is not ready: ${err.message}` };
      }
      throw err;
    }
    if (bound && org.id !== undefined) {
      // Bindings are by name; an id is checked once VCD has said whose it is (a GET, never a write).
      const named = await client.orgs.get(org.id);
      if (!named) return { ok: false, reason: Reasons.OrgNotFound, message: `No organization with id ${org.id} exists in VCD. Check spec.org.` };
      if (!isBound(bound, named.name)) return this.#orgNotAllowed(conn.metadata?.name ?? '', namespace, `${named.name} (${org.id})`, bound);
      return { ok: true, client, connection: conn, org: { id: org.id, name: named.name } };
    }
    return { ok: true, client, connection: conn, ...(opts.org ? { org: opts.org.id ? { id: opts.org.id } : { name: org.name } } : {}) };
  }

  #orgNotAllowed(connection: string, namespace: string, org: string, bound: string[]): Resolution {
    return {
      ok: false,
      reason: Reasons.OrgNotAllowed,
      message:
        `ClusterVCDConnection ${connection} binds namespace ${namespace} to ${describeBinding(bound)}, not to org ${org}. ` +
        `To allow it, the platform team adds the org to the orgs of a spec.tenants entry of the connection whose namespaceSelector matches namespace ${namespace}.`,
    };
  }

  /**
   * The client for a connection object, logging in when needed. Throws ConnectionFailure with a
   * reason (SecretNotFound, CredentialsInvalid, Unreachable, UnsupportedAPIVersion...).
   */
  async clientFor(conn: Connection, opts: { honourHold?: boolean } = {}): Promise<VcdClient> {
    const key = connectionKey(conn);
    const secretNs = conn.kind === 'ClusterVCDConnection' ? this.#o.operatorNamespace : (conn.metadata?.namespace ?? '');
    const secretName = conn.spec.credentialsSecretRef.name;
    const secret = credentialsSecret(this.#o.secrets, secretNs, secretName);
    return this.#cache.get(
      key,
      clientFingerprint(conn, secret),
      () =>
        this.#o.connect({
          ...this.#o.clientOptions,
          url: conn.spec.url,
          org: conn.spec.org,
          auth: credentials(secret, `${secretNs}/${secretName}`),
          ...(conn.spec.caBundle ? { caPem: conn.spec.caBundle } : {}),
          ...(conn.spec.insecureSkipTLSVerify ? { insecureSkipVerify: true } : {}),
          ...(conn.spec.apiVersion ? { apiVersion: conn.spec.apiVersion } : {}),
          logger: this.#o.logger.child({ connection: key }),
          metricsConnection: key,
        }),
      opts,
    );
  }

  /** The connections logged in now, by connection key (the message bus subscribes per connection). */
  loggedIn(): Array<{ key: string; client: VcdClient }> {
    return this.#cache.loggedIn();
  }

  /** Forget a connection that was deleted; its client logs out. */
  forget(key: string): void {
    this.#cache.forget(key);
  }

  async closeAll(): Promise<void> {
    await this.#cache.closeAll();
  }

  /** Register with Manager.add: every client logs out when the manager stops. */
  runnable(): Runnable {
    return this.#cache.runnable('vcd-connection-pool');
  }
}

function credentials(secret: Secret, where: string): VcdConnectOptions['auth'] {
  const apiToken = secretValue(secret, CredentialKeys.apiToken);
  if (apiToken) return { apiToken };
  const username = secretValue(secret, CredentialKeys.username);
  const password = secretValue(secret, CredentialKeys.password);
  if (username && password) return { username, password };
  throw new ConnectionFailure(
    Reasons.SecretNotFound,
    `Secret ${where} has neither ${CredentialKeys.apiToken} nor both ${CredentialKeys.username} and ${CredentialKeys.password}.`,
  );
}

function classifyConnectError(err: unknown): { reason: Reason; message: string } {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof VcdAuthError) return { reason: Reasons.CredentialsInvalid, message: `Login failed: ${message}. Check the credentials in the Secret.` };
  if (err instanceof UnsupportedApiVersionError) return { reason: Reasons.UnsupportedAPIVersion, message };
  return { reason: Reasons.Unreachable, message: `Cannot reach VCD: ${message}` };
}
