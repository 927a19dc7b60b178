// The core Kubernetes objects every connection kind depends on: credentials Secrets and the
// namespaces whose labels decide who may use a cluster-wide connection.
import { Reasons } from '../../api/index.ts';
import type { KubeObject, ResourceType } from '../../runtime/index.ts';
import { ConnectionFailure } from './failure.ts';

export const SecretResource: ResourceType = { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true };
export const NamespaceResource: ResourceType = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false };

export interface Secret extends KubeObject {
  data?: Record<string, string>;
}

/** A Secret value decoded from base64 and trimmed (editors leave trailing newlines), or undefined. */
export function secretValue(secret: Secret, key: string): string | undefined {
  const v = secret.data?.[key];
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8').trim();
}

/** Cached Secrets by `namespace/name` key: an informer, or the SecretStore (which may throw ConnectionFailure). */
export interface SecretSource {
  get(key: string): Secret | undefined;
}

/** The credentials Secret a connection names, from the cache; SecretNotFound when it is absent. */
export function credentialsSecret(secrets: SecretSource, namespace: string, name: string): Secret {
  const secret = secrets.get(`${namespace}/${name}`);
  if (!secret) throw new ConnectionFailure(Reasons.SecretNotFound, `Secret ${namespace}/${name} does not exist.`);
  return secret;
}

/**
 * What a client was built from: the connection (its identity and spec) and its Secret's
 * version. A client cached under another fingerprint is rebuilt, so edits and rotations apply
 * without a restart; status-only updates of the connection do not rebuild it.
 */
export function clientFingerprint(conn: KubeObject & { spec: unknown }, secret: Secret): string {
  return JSON.stringify([conn.metadata?.uid, conn.spec, secret.metadata?.uid, secret.metadata?.resourceVersion]);
}
