// The cluster identity written into ownership markers: the UID of the kube-system namespace. It
// survives operator reinstalls and differs between clusters, so two clusters sharing one VCD never
// adopt each other's allocations.
import { type KubeClient, type KubeObject } from '../runtime/index.ts';
import { NamespaceResource } from '../reconcile/connections/index.ts';

export async function clusterIdentity(client: KubeClient): Promise<string> {
  const ns = await client.get<KubeObject>(NamespaceResource, 'kube-system');
  const uid = ns.metadata?.uid;
  if (!uid) throw new Error('the kube-system namespace has no uid; cannot derive the cluster identity');
  return uid;
}
