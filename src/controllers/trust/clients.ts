// Logged-in vCenter clients for trust members, on the shared client cache: one per member URL,
// rebuilt when the URL, the Secret (uid + resourceVersion) or the CA bundle changes, a failed
// login held for a few seconds, replaced clients logged out once their calls are done. Each
// entry also keeps the member's chain contents by id, so a resync reads only the list and the
// TLS certificate.
import type { Logger } from 'pino';
import { VCenterCredentialKeys, type VCenterTrustMember } from '../../api/index.ts';
import type { VCenterClient, VCenterConnectOptions } from '../../clients/vcenter/index.ts';
import { ClientCache, ConnectionFailure, credentialsSecret, secretValue, type Secret, type SecretSource } from '../../reconcile/connections/index.ts';
import type { Clock, Runnable } from '../../runtime/index.ts';
import type { Root } from './certs.ts';
import { problemOf, TrustReasons } from './problems.ts';

export interface MemberConnection {
  client: VCenterClient;
  /** Chain contents by id, kept with the client they were read through. */
  chains: Map<string, Root[]>;
  close(): Promise<void>;
}

export interface VCenterClientCacheOptions {
  secrets: SecretSource;
  operatorNamespace: string;
  logger: Logger;
  connect: (opts: VCenterConnectOptions) => Promise<VCenterClient>;
  clientOptions?: Partial<VCenterConnectOptions>;
  clock?: Clock;
  /** A failed login is not tried again for this long. Default 5 s. */
  failureHoldMs?: number;
}

export class VCenterClientCache {
  readonly #o: VCenterClientCacheOptions;
  readonly #cache: ClientCache<MemberConnection>;
  readonly #urls = new Set<string>();

  constructor(opts: VCenterClientCacheOptions) {
    this.#o = opts;
    this.#cache = new ClientCache<MemberConnection>({
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.failureHoldMs !== undefined ? { failureHoldMs: opts.failureHoldMs } : {}),
      // Only logins reach this; the message names the URL, the caller adds the member's name.
      classify: (err) => {
        const p = problemOf('the vCenter', err);
        return { reason: p.reason as ConnectionFailure['reason'], message: p.message };
      },
    });
  }

  /** A logged-in client for a member; throws ConnectionFailure (SecretNotFound, CredentialsInvalid, CABundleMismatch, Unreachable...). */
  async memberClient(member: VCenterTrustMember): Promise<MemberConnection> {
    const ns = this.#o.operatorNamespace;
    const secretName = member.credentialsSecretRef.name;
    this.#urls.add(member.url);
    try {
      const secret = credentialsSecret(this.#o.secrets, ns, secretName);
      const fingerprint = JSON.stringify([member.url, secret.metadata?.uid, secret.metadata?.resourceVersion, member.caBundle ?? '']);
      return await this.#cache.get(member.url, fingerprint, () => this.#connect(member, secret, `${ns}/${secretName}`), { honourHold: true });
    } catch (err) {
      if (!(err instanceof ConnectionFailure)) throw err;
      const message = err.message.includes('the vCenter') ? err.message.replaceAll('the vCenter', member.name) : `${member.name}: ${err.message}`;
      throw new ConnectionFailure(err.reason, message);
    }
  }

  async #connect(member: VCenterTrustMember, secret: Secret, where: string): Promise<MemberConnection> {
    const username = secretValue(secret, VCenterCredentialKeys.username);
    const password = secretValue(secret, VCenterCredentialKeys.password);
    if (!username || !password) {
      throw new ConnectionFailure(
        TrustReasons.SecretNotFound,
        `Secret ${where} needs both ${VCenterCredentialKeys.username} and ${VCenterCredentialKeys.password}.`,
      );
    }
    const client = await this.#o.connect({
      ...this.#o.clientOptions,
      url: member.url,
      username,
      password,
      ...(member.caBundle ? { caPem: member.caBundle } : {}),
      logger: this.#o.logger.child({ vcenter: member.url }),
    });
    return { client, chains: new Map<string, Root[]>(), close: () => client.close() };
  }

  /** Drops the client of a vCenter that no VCenterTrust lists any more (it logs out). */
  forget(url: string): void {
    this.#urls.delete(url);
    this.#cache.forget(url);
  }

  urls(): string[] {
    return [...this.#urls];
  }

  /** Lives as long as the manager; logs every client out on stop. */
  runnable(): Runnable {
    return this.#cache.runnable('vcenter-clients');
  }

  closeAll(): Promise<void> {
    return this.#cache.closeAll();
  }
}
