// The operator binary: flags and environment, then one Manager running every controller.
import { parseArgs } from 'node:util';
import { getHeapStatistics } from 'node:v8';
import { createLogger, exitOnUnhandledErrors, loadKubeAuth, Manager, type KubeAuth } from './runtime/index.ts';
import { registerControllers } from './controllers/index.ts';
import { SecretAccessModes, type SecretAccess } from './reconcile/connections/index.ts';

const HELP = `vcd-operator: manages VMware Cloud Director IP Spaces, IP claims and edge firewall rules, and trust between vCenters, from Kubernetes.

Options (each also from the environment variable in brackets):
  --kubeconfig FILE          kubeconfig to use [KUBECONFIG]; in-cluster config when unset
  --namespace NS             watch only this namespace [WATCH_NAMESPACE]; all namespaces when unset
  --operator-namespace NS    where ClusterVCDConnection Secrets and the leader lease live [POD_NAMESPACE] (default vcd-operator-system)
  --secret-access MODE       where credentials Secrets are read [SECRET_ACCESS] (default cluster): cluster, every
                             watched namespace; granted, the operator namespace plus namespaces whose owners
                             bound the secret-reader ClusterRole to the operator's ServiceAccount
  --secret-reader-role NAME  that ClusterRole, named in the message of a VCDConnection refused Secret access
                             [SECRET_READER_ROLE] (default vcd-operator-secret-reader)
  --service-account NAME     the operator's ServiceAccount, named in the same message [SERVICE_ACCOUNT]
  --probe-port PORT          /metrics, /healthz and /readyz [PROBE_PORT] (default 8081)
  --leader-elect BOOL        elect a leader with a Lease [LEADER_ELECT] (default true)
  --lease-name NAME          name of the Lease (default vcd-operator)
  --lease-duration SECONDS   how long a lease is valid without renewal (default 15)
  --renew-deadline SECONDS   how long the leader keeps trying to renew before it gives up (default 10)
  --retry-period SECONDS     how often candidates try to acquire or renew (default 2)
  --identity NAME            this replica's name in the Lease [POD_NAME] (default hostname plus a random id)
  --task-timeout SECONDS     deadline of one VCD task [TASK_TIMEOUT_SECONDS] (default 600)
  --vcd-max-in-flight N      requests in flight per VCD connection (default 32)
  --claim-workers N          claim groups (connection, org, IP Space) reconciled at once (default 16;
                             more needs more heap: 64 ran out of a 96 MiB heap at 10,000 claims)
  --vcd-events BOOL          subscribe to VCD's message bus and repair drift as events arrive [VCD_EVENTS] (default true)
  --trust-resync SECONDS     how often a complete VCenterTrust mesh is read again for drift [TRUST_RESYNC_SECONDS] (default 600)
  --firewall-workers N       edge gateways whose firewall is reconciled at once (default 16)
  --drift-check SECONDS      how often Ready objects are checked against VCD [DRIFT_CHECK_SECONDS] (default 600)
  --firewall-placement WHERE where the managed rules sit among an edge's rules: top (before the rules
                             the operator did not write) or bottom (after them) [FIREWALL_PLACEMENT] (default top)
  --idle-memory-release SECONDS
                             after this long with no reconcile, give back the memory a burst of work
                             left (one memory-reducing GC); 0: never [IDLE_MEMORY_RELEASE_SECONDS] (default 30)
  --log-level LEVEL          trace, debug, info, warn, error [LOG_LEVEL] (default info)
  --help                     this text

Exit codes: 0 after SIGTERM or SIGINT, 1 when start-up fails, 2 for bad flags, 70 when a promise
rejected unhandled or an exception escaped (a bug; the log line says where).
`;

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
type Level = (typeof LEVELS)[number];

function main(): void {
  const { values } = parseArgs({
    options: {
      kubeconfig: { type: 'string' },
      namespace: { type: 'string' },
      'operator-namespace': { type: 'string' },
      'secret-access': { type: 'string' },
      'secret-reader-role': { type: 'string' },
      'service-account': { type: 'string' },
      'probe-port': { type: 'string' },
      'leader-elect': { type: 'string' },
      'lease-name': { type: 'string' },
      'lease-duration': { type: 'string' },
      'renew-deadline': { type: 'string' },
      'retry-period': { type: 'string' },
      identity: { type: 'string' },
      'task-timeout': { type: 'string' },
      'vcd-max-in-flight': { type: 'string' },
      'claim-workers': { type: 'string' },
      'vcd-events': { type: 'string' },
      'trust-resync': { type: 'string' },
      'firewall-placement': { type: 'string' },
      'firewall-workers': { type: 'string' },
      'drift-check': { type: 'string' },
      'idle-memory-release': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const env = process.env;
  const kubeconfig = values.kubeconfig ?? env.KUBECONFIG;
  const watchNamespace = values.namespace ?? env.WATCH_NAMESPACE;
  const operatorNamespace = values['operator-namespace'] ?? env.POD_NAMESPACE ?? 'vcd-operator-system';
  const secretAccess = values['secret-access'] ?? env.SECRET_ACCESS ?? 'cluster';
  if (!SecretAccessModes.includes(secretAccess as SecretAccess))
    throw new Error(`--secret-access must be one of ${SecretAccessModes.join(', ')}, got ${secretAccess}`);
  const serviceAccount = values['service-account'] ?? env.SERVICE_ACCOUNT;
  const secretGrant = {
    clusterRole: values['secret-reader-role'] ?? env.SECRET_READER_ROLE ?? 'vcd-operator-secret-reader',
    ...(serviceAccount ? { serviceAccount } : {}),
  };
  const probePort = Number(values['probe-port'] ?? env.PROBE_PORT ?? 8081);
  const leaderElect = (values['leader-elect'] ?? env.LEADER_ELECT ?? 'true') !== 'false';
  const taskTimeoutMs = Number(values['task-timeout'] ?? env.TASK_TIMEOUT_SECONDS ?? 600) * 1000;
  const level = values['log-level'] ?? env.LOG_LEVEL ?? 'info';
  if (!LEVELS.includes(level as Level)) throw new Error(`--log-level must be one of ${LEVELS.join(', ')}, got ${level}`);
  const logger = createLogger({ level: level as Level });
  // A promise that rejects unhandled, or an exception that escapes, is a bug: log it and exit 70.
  exitOnUnhandledErrors({ logger });
  // The heap limit is node's (--max-old-space-size, e.g. in NODE_OPTIONS); logged so a pod's memory limit can be checked against it.
  const heapLimitMb = Math.round(getHeapStatistics().heap_size_limit / 1048576);
  logger.info({ pid: process.pid, node: process.version, heapLimitMb, sinceProcessStartMs: Math.round(performance.now()) }, 'vcd-operator starting');
  if (!Number.isInteger(probePort) || probePort < 0 || probePort > 65535)
    throw new Error(`--probe-port must be a port number, got ${values['probe-port'] ?? env.PROBE_PORT}`);
  if (!Number.isFinite(taskTimeoutMs) || taskTimeoutMs <= 0) throw new Error('--task-timeout must be a positive number of seconds');

  const seconds = (flag: 'lease-duration' | 'renew-deadline' | 'retry-period' | 'trust-resync', fromEnv?: string): number | undefined => {
    const v = values[flag] ?? fromEnv;
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${flag} must be a positive number of seconds, got ${v}`);
    return n * 1000;
  };
  const count = (flag: 'vcd-max-in-flight' | 'claim-workers' | 'firewall-workers'): number | undefined => {
    const v = values[flag];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} must be a whole number of at least 1, got ${v}`);
    return n;
  };
  const maxInFlight = count('vcd-max-in-flight');
  const claimWorkers = count('claim-workers');
  const vcdEvents = (values['vcd-events'] ?? env.VCD_EVENTS ?? 'true') !== 'false';
  const firewallWorkers = count('firewall-workers');
  const driftCheckSeconds = values['drift-check'] ?? env.DRIFT_CHECK_SECONDS;
  const driftCheckMs = driftCheckSeconds === undefined ? undefined : Number(driftCheckSeconds) * 1000;
  if (driftCheckMs !== undefined && (!Number.isFinite(driftCheckMs) || driftCheckMs <= 0))
    throw new Error('--drift-check must be a positive number of seconds');
  const idleReleaseSeconds = Number(values['idle-memory-release'] ?? env.IDLE_MEMORY_RELEASE_SECONDS ?? 30);
  if (!Number.isFinite(idleReleaseSeconds) || idleReleaseSeconds < 0) throw new Error('--idle-memory-release must be 0 or a positive number of seconds');
  const identity = values.identity ?? env.POD_NAME;
  const firewallPlacement = values['firewall-placement'] ?? env.FIREWALL_PLACEMENT ?? 'top';
  if (firewallPlacement !== 'top' && firewallPlacement !== 'bottom') throw new Error(`--firewall-placement must be top or bottom, got ${firewallPlacement}`);
  const placement: 'top' | 'bottom' = firewallPlacement;
  const leaseDurationMs = seconds('lease-duration');
  const renewDeadlineMs = seconds('renew-deadline');
  const retryPeriodMs = seconds('retry-period');
  const trustResyncMs = seconds('trust-resync', env.TRUST_RESYNC_SECONDS);

  loadKubeAuth(kubeconfig)
    .then((kc) => run(kc))
    .catch((err: unknown) => {
      logger.fatal({ err }, 'vcd-operator failed to start');
      process.exit(1);
    });

  async function run(kc: KubeAuth): Promise<void> {
    const manager = new Manager({
      kubeConfig: kc,
      logger,
      ...(watchNamespace ? { namespace: watchNamespace } : {}),
      leaderElection: {
        enabled: leaderElect,
        leaseName: values['lease-name'] ?? 'vcd-operator',
        leaseNamespace: operatorNamespace,
        ...(identity ? { identity } : {}),
        ...(leaseDurationMs ? { leaseDurationMs } : {}),
        ...(renewDeadlineMs ? { renewDeadlineMs } : {}),
        ...(retryPeriodMs ? { retryPeriodMs } : {}),
      },
      probes: { port: probePort },
      releaseMemoryAfterIdleMs: idleReleaseSeconds * 1000,
    });
    // SIGTERM: stop taking work, finish in-flight reconciles, log out of VCD (the connection pool is
    // one of the manager's runnables), release the lease, exit.
    manager.handleSignals();
    await registerControllers(manager, {
      operatorNamespace,
      ...(watchNamespace ? { watchNamespace } : {}),
      secretAccess: secretAccess as SecretAccess,
      secretGrant,
      taskTimeoutMs,
      events: vcdEvents,
      ...(claimWorkers ? { claimWorkers } : {}),
      ...(trustResyncMs ? { trustResyncMs } : {}),
      firewallPlacement: placement,
      ...(firewallWorkers ? { firewallWorkers } : {}),
      ...(driftCheckMs ? { driftCheckMs } : {}),
      ...(maxInFlight ? { clientOptions: { maxInFlight } } : {}),
    });
    await manager.start();
    logger.info(
      { watchNamespace: watchNamespace ?? '(all)', operatorNamespace, secretAccess, leaderElect, probePort: manager.probesPort },
      'vcd-operator started',
    );
  }
}

try {
  main();
} catch (err) {
  // Bad flags or environment: say what is wrong, without a stack trace.
  process.stderr.write(`vcd-operator: ${err instanceof Error ? err.message : String(err)}\nRun with --help for the options.\n`);
  process.exit(2);
}
