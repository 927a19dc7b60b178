// The core Kubernetes objects every connection kind depends on: credentials Secrets and the
// namespaces whose labels decide who may use a cluster-wide connection.
import type { KubeObject, ResourceType } from '../../runtime/index.ts';

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
