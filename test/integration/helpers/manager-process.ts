// A manager in its own OS process, for leader-election tests that need real SIGKILL and SIGTERM.
// Usage: node manager-process.ts <kubeconfig> <namespace> <identity>
// Prints one line per fact on stdout: "probes <port>", "standby", "leading", "reconcile <key>".
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger, Manager, type ResourceType } from '../../../src/runtime/index.ts';

const [kubeconfigPath, namespace, identity] = process.argv.slice(2);
if (!kubeconfigPath || !namespace || !identity) {
  console.error('usage: manager-process.ts <kubeconfig> <namespace> <identity>');
  process.exit(2);
}
const configMaps: ResourceType = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };

const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(kubeconfigPath);
const manager = new Manager({
  kubeConfig,
  namespace,
  logger: createLogger({ level: 'warn', destination: process.stderr }),
  leaderElection: {
    enabled: true,
    leaseName: 'runtime-test',
    leaseNamespace: namespace,
    identity,
    leaseDurationMs: Number(process.env.LEASE_MS ?? 3000),
    renewDeadlineMs: Number(process.env.RENEW_MS ?? 2000),
    retryPeriodMs: Number(process.env.RETRY_MS ?? 500),
    onStarted: () => console.log('leading'),
  },
  gracefulShutdownTimeoutMs: 5000,
  probes: { port: 0, host: '127.0.0.1' },
});
manager.addController({
  name: 'cm',
  for: configMaps,
  reconcile: (key) => {
    console.log(`reconcile ${key}`);
    return Promise.resolve();
  },
});
manager.handleSignals();
await manager.start();
console.log(`probes ${manager.probesPort}`);
if (!manager.isLeader) console.log('standby');
