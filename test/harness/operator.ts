// The operator in-process against the shared control plane and a simulator, and the few user
// actions tests repeat (a Secret plus a connection, waiting for a condition).
import { randomBytes } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  ClusterVCDConnectionResource,
  EdgeFirewallRuleResource,
  FloatingIPClaimResource,
  IPPrefixClaimResource,
  NSXConnectionResource,
  VCDConnectionResource,
  type EdgeFirewallRule,
  type FloatingIPClaim,
  type IPPrefixClaim,
} from '../../src/api/index.ts';
import { registerControllers, type Operator, type OperatorOptions } from '../../src/controllers/index.ts';
import { SecretResource } from '../../src/controllers/connections/controller.ts';
import { CREATE_PENDING_ANNOTATION } from '../../src/reconcile/pending.ts';
import { createLogger, KubeClient, KubeHttp, Manager, type KubeObject, type ResourceType } from '../../src/runtime/index.ts';
import type { RunningSim } from '../../src/sim/index.ts';
import { controlPlane } from './shared.ts';

export interface TestOperator {
  manager: Manager;
  operator: Operator;
  stop(): Promise<void>;
}

export async function startTestOperator(
  opts: Omit<OperatorOptions, 'operatorNamespace'> & { operatorNamespace: string; kubeConfig?: KubeConfig },
): Promise<TestOperator> {
  const manager = new Manager({
    kubeConfig: opts.kubeConfig ?? controlPlane().kubeConfig(),
    logger: createLogger({ level: (process.env.TEST_LOG_LEVEL as 'info' | undefined) ?? 'silent' }),
    gracefulShutdownTimeoutMs: 5000,
  });
  const operator = await registerControllers(manager, { pendingWindowMs: 10_000, driftCheckMs: 60_000, ...opts });
  await manager.start();
  return {
    manager,
    operator,
    stop: async () => {
      await manager.stop();
      await operator.close();
    },
  };
}

/** A KubeClient for the test's own (user) actions. */
export function userClient(): KubeClient {
  return new KubeClient(new KubeHttp(controlPlane().kubeConfig()));
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

/** A Secret with the credentials and a VCDConnection to the simulator for a tenant org. */
export async function createTenantConnection(
  kube: KubeClient,
  sim: RunningSim,
  namespace: string,
  opts: { org?: string; name?: string; apiToken?: string } = {},
): Promise<string> {
  const org = opts.org ?? 'acme';
  const tenant = sim.credentials.tenants.find((t) => t.org === org);
  if (!tenant) throw new Error(`the simulator has no tenant ${org}`);
  const name = opts.name ?? `${org}-conn`;
  await kube.create(SecretResource, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `${name}-creds`, namespace },
    stringData: { apiToken: opts.apiToken ?? tenant.apiToken },
  } as KubeObject);
  await kube.create(VCDConnectionResource, {
    apiVersion: 'vcd-operator.io/v1alpha1',
    kind: 'VCDConnection',
    metadata: { name, namespace },
    spec: { url: sim.vcd.url, org, credentialsSecretRef: { name: `${name}-creds` }, caBundle: sim.caPem },
  } as KubeObject);
  return name;
}

/** A provider ClusterVCDConnection whose Secret is in the operator namespace. */
export async function createProviderConnection(
  kube: KubeClient,
  sim: RunningSim,
  operatorNamespace: string,
  opts: { name?: string; allowedNamespaces?: object; tenants?: object[] } = {},
): Promise<string> {
  const name = opts.name ?? uniqueName('provider');
  await kube.create(SecretResource, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `${name}-creds`, namespace: operatorNamespace },
    stringData: { apiToken: sim.credentials.provider.apiToken },
  } as KubeObject);
  await kube.create(ClusterVCDConnectionResource, {
    apiVersion: 'vcd-operator.io/v1alpha1',
    kind: 'ClusterVCDConnection',
    metadata: { name },
    spec: {
      url: sim.vcd.url,
      org: 'System',
      credentialsSecretRef: { name: `${name}-creds` },
      caBundle: sim.caPem,
      ...(opts.allowedNamespaces ? { allowedNamespaces: opts.allowedNamespaces } : {}),
      ...(opts.tenants ? { tenants: opts.tenants } : {}),
    },
  } as KubeObject);
  return name;
}

/** An NSXConnection to the simulator's NSX Manager, its Secret in the operator namespace. */
export async function createNsxConnection(
  kube: KubeClient,
  sim: RunningSim,
  operatorNamespace: string,
  opts: { name?: string; password?: string } = {},
): Promise<string> {
  const name = opts.name ?? uniqueName('nsx');
  await kube.create(SecretResource, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `${name}-creds`, namespace: operatorNamespace },
    stringData: { username: sim.nsx.username, password: opts.password ?? sim.nsx.password },
  } as KubeObject);
  await kube.create(NSXConnectionResource, {
    apiVersion: 'vcd-operator.io/v1alpha1',
    kind: 'NSXConnection',
    metadata: { name },
    spec: { url: sim.nsx.url, credentialsSecretRef: { name: `${name}-creds` }, caBundle: sim.caPem },
  } as KubeObject);
  return name;
}

export function floatingIPClaim(namespace: string, name: string, spec: Partial<FloatingIPClaim['spec']> & { connection?: string }): KubeObject {
  const { connection, ...rest } = spec;
  return {
    apiVersion: 'vcd-operator.io/v1alpha1',
    kind: 'FloatingIPClaim',
    metadata: { name, namespace },
    spec: { connectionRef: { kind: 'VCDConnection', name: connection ?? 'acme-conn' }, ipSpace: { name: 'public-ips' }, ...rest },
  } as KubeObject;
}

export function ipPrefixClaim(namespace: string, name: string, spec: Partial<IPPrefixClaim['spec']> & { connection?: string }): KubeObject {
  const { connection, ...rest } = spec;
  return {
    apiVersion: 'vcd-operator.io/v1alpha1',
    kind: 'IPPrefixClaim',
    metadata: { name, namespace },
    spec: { connectionRef: { kind: 'VCDConnection', name: connection ?? 'acme-conn' }, ipSpace: { name: 'public-ips' }, ...rest },
  } as KubeObject;
}

export function edgeFirewallRule(namespace: string, name: string, spec: Partial<EdgeFirewallRule['spec']> & { connection?: string }): KubeObject {
  const { connection, ...rest } = spec;
  return {
    apiVersion: 'vcd-operator.io/v1alpha1',
    kind: 'EdgeFirewallRule',
    metadata: { name, namespace },
    spec: { connectionRef: { kind: 'VCDConnection', name: connection ?? 'acme-conn' }, edgeGateway: { name: 'acme-edge' }, action: 'Allow', ...rest },
  } as KubeObject;
}

export const resources = {
  fip: FloatingIPClaimResource,
  ipp: IPPrefixClaimResource,
  efw: EdgeFirewallRuleResource,
  conn: VCDConnectionResource,
  cconn: ClusterVCDConnectionResource,
  nsx: NSXConnectionResource,
};

interface WithConditions extends KubeObject {
  status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> } & Record<string, unknown>;
}

export function readyOf(obj: WithConditions | undefined): { status: string; reason: string; message: string } | undefined {
  return obj?.status?.conditions?.find((c) => c.type === 'Ready');
}

/** Polls until `predicate` holds for the object (or its absence, with `undefined`); returns it. */
export async function waitFor<T extends KubeObject>(
  kube: KubeClient,
  r: ResourceType,
  namespace: string | undefined,
  name: string,
  predicate: (obj: T | undefined) => boolean,
  timeoutMs = 20_000,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await kube.get<T>(r, name, namespace);
    } catch (err) {
      if ((err as { code?: number; status?: number }).code !== 404 && (err as { status?: number }).status !== 404) throw err;
      last = undefined;
    }
    if (predicate(last)) return last;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${r.kind} ${namespace ?? ''}/${name}; last seen: ${JSON.stringify((last as WithConditions | undefined)?.status ?? last ?? 'absent')}`,
      );
    }
    await new Promise((res) => setTimeout(res, 100));
  }
}

export const isReady = (obj: WithConditions | undefined): boolean => readyOf(obj)?.status === 'True';
/**
 * Ready, and the create-pending guard gone: for a claim, its allocation is also marked in VCD (a
 * claim is reported Ready while VCD's marking task still runs).
 */
export const isSettled = (obj: (WithConditions & { metadata?: { annotations?: Record<string, string> } }) | undefined): boolean =>
  isReady(obj) && obj?.metadata?.annotations?.[CREATE_PENDING_ANNOTATION] === undefined;
export const hasReason =
  (reason: string) =>
  (obj: WithConditions | undefined): boolean =>
    readyOf(obj)?.reason === reason;
