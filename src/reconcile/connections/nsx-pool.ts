// Logged-in NSX clients, one per NSXConnection: the NSX instance of the generic client cache.
// NSXConnection is cluster-scoped and provider-only, so its Secret is read from the operator's
// namespace and nothing namespaced may name it; the controllers that use it act for the provider.
import type { Logger } from 'pino';
import type { NSXConnection, Reason } from '../../api/index.ts';
import { NsxCredentialKeys, Reasons } from '../../api/index.ts';
import { NsxAuthError, type NsxClient, type NsxConnectOptions } from '../../clients/nsx/index.ts';
import type { Clock, Runnable, SupervisedInformer } from '../../runtime/index.ts';
import { ClientCache } from './client-cache.ts';
import { ConnectionFailure } from './failure.ts';
import { clientFingerprint, credentialsSecret, secretValue, type Secret, type SecretSource } from './resources.ts';

export interface NsxConnectionPoolOptions {
  connections: SupervisedInformer<NSXConnection>;
  /** Credentials Secrets (the SecretStore; an informer in tests). */
  secrets: SecretSource;
  /** Where NSXConnection Secrets live. */
  operatorNamespace: string;
  logger: Logger;
  connect: (opts: NsxConnectOptions) => Promise<NsxClient>;
  /** Options every client gets (the manager's metrics registry...). */
  clientOptions?: Partial<NsxConnectOptions>;
  failureHoldMs?: number;
  retireAfterMs?: number;
  clock?: Clock;
}

export type NsxResolution = { ok: true; client: NsxClient; connection: NSXConnection } | { ok: false; reason: Reason; message: string };

export function nsxConnectionKey(name: string): string {
  return `NSXConnection/${name}`;
}

export class NsxConnectionPool {
  readonly #o: NsxConnectionPoolOptions;
  readonly #cache: ClientCache<NsxClient>;

  constructor(opts: NsxConnectionPoolOptions) {
    this.#o = opts;
    this.#cache = new ClientCache<NsxClient>({
      classify: classifyConnectError,
      ...(opts.failureHoldMs !== undefined ? { failureHoldMs: opts.failureHoldMs } : {}),
      ...(opts.retireAfterMs !== undefined ? { retireAfterMs: opts.retireAfterMs } : {}),
      ...(opts.clock ? { clock: opts.clock } : {}),
    });
  }

  /** A logged-in client for the NSXConnection `name`, or why there is none (ConnectionNotFound, ConnectionNotReady). */
  async resolve(name: string): Promise<NsxResolution> {
    const conn = this.#o.connections.get(name);
    if (!conn) return { ok: false, reason: Reasons.ConnectionNotFound, message: `NSXConnection ${name} does not exist.` };
    try {
      return { ok: true, client: await this.clientFor(conn, { honourHold: true }), connection: conn };
    } catch (err) {
      if (err instanceof ConnectionFailure)
        return { ok: false, reason: Reasons.ConnectionNotReady, message: `NSXConnection ${name} is not ready: ${err.message}` };
      throw err;
    }
  }

  /** The client for a connection object, logging in when needed. Throws ConnectionFailure. */
  async clientFor(conn: NSXConnection, opts: { honourHold?: boolean } = {}): Promise<NsxClient> {
    const key = nsxConnectionKey(conn.metadata?.name ?? '');
    const ns = this.#o.operatorNamespace;
    const secretName = conn.spec.credentialsSecretRef.name;
    const secret = credentialsSecret(this.#o.secrets, ns, secretName);
    return this.#cache.get(
      key,
      clientFingerprint(conn, secret),
      () =>
        this.#o.connect({
          ...this.#o.clientOptions,
          url: conn.spec.url,
          ...credentials(secret, `${ns}/${secretName}`),
          ...(conn.spec.caBundle ? { caPem: conn.spec.caBundle } : {}),
          ...(conn.spec.insecureSkipTLSVerify ? { insecureSkipVerify: true } : {}),
          logger: this.#o.logger.child({ connection: key }),
          metricsConnection: key,
        }),
      opts,
    );
  }

  /** Forget a connection that was deleted; its session is destroyed. */
  forget(name: string): void {
    this.#cache.forget(nsxConnectionKey(name));
  }

  async closeAll(): Promise<void> {
    await this.#cache.closeAll();
  }

  /** Register with Manager.add: every session is destroyed when the manager stops. */
  runnable(): Runnable {
    return this.#cache.runnable('nsx-connection-pool');
  }
}

function credentials(secret: Secret, where: string): { username: string; password: string } {
  const username = secretValue(secret, NsxCredentialKeys.username);
  const password = secretValue(secret, NsxCredentialKeys.password);
  if (username && password) return { username, password };
  throw new ConnectionFailure(Reasons.SecretNotFound, `Secret ${where} must hold both ${NsxCredentialKeys.username} and ${NsxCredentialKeys.password}.`);
}

function classifyConnectError(err: unknown): { reason: Reason; message: string } {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof NsxAuthError) return { reason: Reasons.CredentialsInvalid, message: `Login failed: ${message}. Check the credentials in the Secret.` };
  return { reason: Reasons.Unreachable, message: `Cannot reach NSX: ${message}` };
}
