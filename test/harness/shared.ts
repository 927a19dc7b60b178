// The one control plane of a test run, and a fresh namespace per test.
import { randomBytes } from 'node:crypto';
import { CoreV1Api } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from './controlPlane.ts';

let shared: ControlPlane | undefined;

export async function startSharedControlPlane(): Promise<ControlPlane> {
  shared ??= await startControlPlane();
  return shared;
}

export async function stopSharedControlPlane(): Promise<void> {
  const cp = shared;
  shared = undefined;
  await cp?.stop();
}

export function controlPlane(): ControlPlane {
  if (!shared) throw new Error('the control plane is not started (is test/integration/setup.ts loaded?)');
  return shared;
}

/** Creates a uniquely named namespace; a bare apiserver never finishes deleting one, so none is reused. */
export async function freshNamespace(prefix = 't'): Promise<string> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  await controlPlane()
    .kubeConfig()
    .makeApiClient(CoreV1Api)
    .createNamespace({ body: { metadata: { name } } });
  return name;
}
