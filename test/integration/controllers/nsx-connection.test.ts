// NSXConnection: Ready once a login to NSX works; refused credentials and a URL carrying
// credentials are reported, never sent on.
import assert from 'node:assert/strict';
import { SecretResource } from '../../../src/controllers/connections/controller.ts';
import { isKubeApiError, type KubeClient, type KubeObject } from '../../../src/runtime/index.ts';
import { startSimulator, type RunningSim } from '../../../src/sim/index.ts';
import {
  createNsxConnection,
  hasReason,
  isReady,
  readyOf,
  resources,
  startTestOperator,
  uniqueName,
  userClient,
  waitFor,
  type TestOperator,
} from '../../harness/operator.ts';
import { freshNamespace } from '../../harness/shared.ts';

describe('NSXConnection', function () {
  this.timeout(60_000);
  let sim: RunningSim;
  let op: TestOperator;
  let kube: KubeClient;
  let opNs: string;

  before(async function () {
    sim = await startSimulator();
    opNs = await freshNamespace('op');
    kube = userClient();
    op = await startTestOperator({ operatorNamespace: opNs });
  });
  after(async function () {
    await op?.stop();
    await sim?.stop();
  });

  it('becomes Ready once a login works, and recovers when the Secret is fixed', async function () {
    const name = await createNsxConnection(kube, sim, opNs, { password: 'wrong-password' });
    const refused = await waitFor(kube, resources.nsx, undefined, name, hasReason('CredentialsInvalid'));
    assert.equal(readyOf(refused)?.status, 'False');
    assert.doesNotMatch(readyOf(refused)?.message ?? '', /wrong-password/);
    const secret = await kube.get<KubeObject & { data?: Record<string, string> }>(SecretResource, `${name}-creds`, opNs);
    await kube.replace(SecretResource, {
      ...secret,
      data: { username: Buffer.from(sim.nsx.username).toString('base64'), password: Buffer.from(sim.nsx.password).toString('base64') },
    } as KubeObject);
    const ready = await waitFor(kube, resources.nsx, undefined, name, isReady);
    assert.equal(readyOf(ready)?.reason, 'LoggedIn');
    await kube.delete(resources.nsx, name);
  });

  it('the apiserver refuses a URL with user:password@ in it', async function () {
    await assert.rejects(
      kube.create(resources.nsx, {
        apiVersion: 'vcd-operator.io/v1alpha1',
        kind: 'NSXConnection',
        metadata: { name: uniqueName('nsx') },
        spec: { url: 'https://admin:secret@nsx.example.com', credentialsSecretRef: { name: 'x' } },
      } as KubeObject),
      (err: unknown) => isKubeApiError(err) && err.code === 422 && /credentials go in the Secret/.test(err.message),
    );
  });
});
