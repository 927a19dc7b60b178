// Logged-in vCenter clients for trust members, one per (URL, Secret uid + resourceVersion, CA
// bundle): a rotated Secret or a new CA bundle builds a new client, the old one logs out after its
// calls finish. Each entry also keeps the member's chain contents by id, so a resync reads only the
// list and the TLS certificate. (Stands in for the generic connection pool of src/reconcile until
// that pool can key clients this way; only `memberClient` is used from outside.)
import type { Logger } from 'pino';
import { VCenterCredentialKeys, type VCenterTrustMember } from '../../api/index.ts';
import type { VCenterClient, VCenterConnectOptions } from '../../clients/vcenter/index.ts';
import type { SupervisedInformer } from '../../runtime/index.ts';
import type { Secret } from '../../reconcile/connections/index.ts';
import type { Root } from './certs.ts';
import { problemOf, trustProblem, TrustReasons } from './problems.ts';

export interface MemberConnection {
  client: VCenterClient;
  /** Chain contents by id, kept with the client they were read through. */
  chains: Map<string, Root[]>;
}

interface Entry {
  fingerprint: string;
  connection: Promise<MemberConnection>;
}

export interface VCenterClientCacheOptions {
  secrets: SupervisedInformer<Secret>;
  operatorNamespace: string;
  logger: Logger;
  connect: (opts: VCenterConnectOptions) => Promise<VCenterClient>;
  clientOptions?: Partial<VCenterConnectOptions>;
}

export class VCenterClientCache {
  readonly #o: VCenterClientCacheOptions;
  readonly #entries = new Map<string, Entry>();

  constructor(opts: VCenterClientCacheOptions) {
    this.#o = opts;
  }

  /** A logged-in client for a member, or a Problem saying why there is none. */
  async memberClient(member: VCenterTrustMember): Promise<MemberConnection> {
    const ns = this.#o.operatorNamespace;
    const secretName = member.credentialsSecretRef.name;
    const secret = this.#o.secrets.get(`${ns}/${secretName}`);
    if (!secret) throw trustProblem(TrustReasons.SecretNotFound, `${member.name}: Secret ${ns}/${secretName} does not exist.`);
    const fingerprint = JSON.stringify([member.url, secret.metadata?.uid, secret.metadata?.resourceVersion, member.caBundle ?? '']);
    const key = member.url;
    const existing = this.#entries.get(key);
    if (existing?.fingerprint === fingerprint) return existing.connection;

    const username = decode(secret, VCenterCredentialKeys.username);
    const password = decode(secret, VCenterCredentialKeys.password);
    if (!username || !password) {
      throw trustProblem(TrustReasons.SecretNotFound, `${member.name}: Secret ${ns}/${secretName} needs both ${VCenterCredentialKeys.username} and ${VCenterCredentialKeys.password}.`);
    }
    const connection = this.#o
      .connect({
        ...this.#o.clientOptions,
        url: member.url,
        username,
        password,
        ...(member.caBundle ? { caPem: member.caBundle } : {}),
        logger: this.#o.logger.child({ vcenter: member.url }),
      })
      .then((client) => ({ client, chains: new Map<string, Root[]>() }));
    const entry: Entry = { fingerprint, connection };
    this.#entries.set(key, entry);
    if (existing) retire(existing);
    try {
      return await connection;
    } catch (err) {
      // Not kept: the next reconcile logs in again (its own backoff bounds how often).
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
      throw problemOf(member.name, err);
    }
  }

  /** Drops the client of a member that no VCenterTrust lists any more. */
  forget(url: string): void {
    const entry = this.#entries.get(url);
    if (!entry) return;
    this.#entries.delete(url);
    retire(entry);
  }

  urls(): string[] {
    return [...this.#entries.keys()];
  }

  async closeAll(): Promise<void> {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all(entries.map((e) => e.connection.then((c) => c.client.close()).catch(() => undefined)));
  }
}

function retire(entry: Entry): void {
  // In-flight calls on the old client finish first; nothing waits on the logout.
  entry.connection.then((c) => setTimeout(() => void c.client.close().catch(() => undefined), 30_000).unref()).catch(() => undefined);
}

function decode(secret: Secret, key: string): string | undefined {
  const v = secret.data?.[key];
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8').trim();
}
