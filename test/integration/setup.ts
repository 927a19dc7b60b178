// Root hooks for the integration tier: one control plane per test run, shared by every file.
import { controlPlane, startSharedControlPlane, stopSharedControlPlane } from '../harness/shared.ts';

export const mochaHooks = {
  async beforeAll(this: Mocha.Context): Promise<void> {
    this.timeout(180_000);
    await startSharedControlPlane();
    const cp = controlPlane();
    console.log(`  control plane: kube-apiserver ${cp.version} at ${cp.server} (ready in ${cp.startSeconds.toFixed(1)} s)`);
  },
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(30_000);
    await stopSharedControlPlane();
  },
};
