// Writes the Argo CD health checks in Argo CD's resource_customizations layout under
// deploy/argocd/: per kind health.lua (one shared body, scripts/argocd-health.lua), health_test.yaml
// and testdata/, plus argocd-cm.yaml, the snippet users merge into their argocd-cm ConfigMap.
// Deterministic (test/unit/deploy/argocd-health.test.ts runs the checks and fails on drift).
// Run: npm run gen:argocd
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { GROUP, VERSION } from '../src/api/common.ts';
import { kinds } from '../src/api/index.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ARGOCD_DIR = join(root, 'deploy', 'argocd');
const HEALTH_LUA = readFileSync(join(root, 'scripts', 'argocd-health.lua'), 'utf8');

interface KindCases {
  namespaced: boolean;
  /** Ready=True reason and message. */
  ready: [string, string];
  /** Ready=False reasons the operator resolves by itself: Progressing. */
  progressing: string[];
  /** Ready=False reasons that need a change by someone: Degraded. */
  degraded: string[];
}

const MESSAGES: Record<string, string> = {
  Creating: 'Creating the IP Space in VCD.',
  Pending: 'Waiting for the allocate task to finish.',
  Deleting: 'Releasing the allocation in VCD.',
  ConnectionNotReady: 'Connection acme is not Ready yet; waiting for it.',
  Unreachable: 'VCD did not answer (connect ETIMEDOUT); retrying with backoff.',
  ReconcileError: 'The last reconcile failed; retrying with backoff.',
  Refused: 'Cannot create IP Space public: VCD answered: the range overlaps another IP Space (request 4f2a).',
  EdgeBusy: 'Another operation holds the edge gateway; retrying.',
  InvalidSpec: 'spec.ipSpace must name exactly one of name or id. Fix the spec; nothing is sent to VCD until then.',
  CredentialsInvalid: 'VCD refused the API token in Secret acme-vcd-credentials. Update the Secret.',
  SecretNotFound: 'Secret acme-vcd-credentials does not exist in this namespace. Create it.',
  SecretAccessNotGranted:
    'The operator may not read Secrets in namespace team-a. Grant it once: kubectl -n team-a create rolebinding vcd-operator-secret-reader ...',
  UnsupportedAPIVersion: 'VCD offers API versions up to 36.3; this needs 37.1 or newer.',
  ConnectionNotFound: 'VCDConnection acme does not exist in this namespace. Create it or fix spec.connectionRef.',
  ConnectionNotAllowed: 'ClusterVCDConnection provider does not allow namespace team-b (allowedNamespaces).',
  OrgNotFound: 'Organization acme is not visible through the connection.',
  OrgNotAllowed: 'ClusterVCDConnection provider does not bind namespace team-a to org globex (spec.tenants).',
  QuotaExceeded: 'The IP Space quota of org acme is used up. Raise the quota or release addresses.',
  IPSpaceNotFound: 'IP Space public-ips is not visible through the connection.',
  AddressUnavailable: 'Address 203.0.113.7 is already allocated to someone else. Choose another or leave it empty.',
  DeleteBlocked: 'VCD refuses to delete: the IP Space still has allocations. Release them first.',
  EdgeGatewayNotFound: 'Edge gateway edge-1 is not visible through the connection.',
  InterfaceNotFound: 'appliedTo names no service interface of edge gateway edge-1.',
  ReferenceNotFound: 'Firewall group web-servers does not exist on edge gateway edge-1.',
  PairsMissing: 'vc-b does not trust vc-c yet; adding its root.',
  CABundleMismatch: 'The TLS certificate of vc-b does not verify against its caBundle. Fix caBundle.',
  NotAuthorized: 'administrator@vsphere.local on vc-b may log in but not change trusted roots. Grant the privilege.',
  RootNotFound: 'No trusted root of vc-c issued its TLS certificate. Add it under extraRoots.',
  FirewallRefused: 'VCD refused the rule list: destination port 70000 is out of range.',
  NetworkNotFound: 'nextHops[0].scope.externalNetwork: seg-colo is not attached to edge gateway edge-1. Attach it (EdgeGatewayUplink) or fix the name.',
  NotASegment: 'External network pg-public is not backed by an NSX segment; only segment-backed networks attach as service interfaces.',
  SegmentInUse: 'seg-colo is a VLAN-backed segment already connected to edge gateway edge-2; VCD connects a VLAN segment to one edge gateway only.',
  AlreadyAttached: 'seg-colo is already attached to edge gateway edge-1, and not by this object.',
  ProviderRequired: 'Attaching a segment-backed network to an edge gateway needs provider rights.',
};

const connection = (): KindCases => ({
  namespaced: true,
  ready: ['LoggedIn', 'Logged in to https://vcd.example.com as org acme, API 37.2.'],
  progressing: ['Unreachable', 'ReconcileError'],
  degraded: ['InvalidSpec', 'Refused', 'CredentialsInvalid', 'SecretNotFound', 'UnsupportedAPIVersion'],
});
const usesConnection = ['ConnectionNotFound', 'ConnectionNotAllowed', 'OrgNotAllowed', 'UnsupportedAPIVersion'];
const claim = (what: string): KindCases => ({
  namespaced: true,
  ready: ['Allocated', `Allocated ${what} from IP Space public-ips.`],
  progressing: ['Pending', 'Deleting', 'ConnectionNotReady', 'Unreachable', 'ReconcileError'],
  degraded: ['InvalidSpec', 'Refused', ...usesConnection, 'OrgNotFound', 'IPSpaceNotFound', 'QuotaExceeded', 'AddressUnavailable', 'DeleteBlocked'],
});

/** Every kind with a health check; kinds in src/api must all be here (the test checks). */
export const CASES: Record<string, KindCases> = {
  // Only a VCDConnection's Secret lives in a namespace the operator may be refused (granted Secret access).
  VCDConnection: { ...connection(), progressing: [...connection().progressing, 'Pending'], degraded: [...connection().degraded, 'SecretAccessNotGranted'] },
  ClusterVCDConnection: { ...connection(), namespaced: false },
  IPSpace: {
    namespaced: true,
    ready: ['Available', 'IP Space acme-private exists in VCD and matches the spec.'],
    progressing: ['Creating', 'Deleting', 'ConnectionNotReady', 'Unreachable', 'ReconcileError'],
    degraded: ['InvalidSpec', 'Refused', ...usesConnection, 'OrgNotFound', 'DeleteBlocked'],
  },
  FloatingIPClaim: claim('203.0.113.10'),
  IPPrefixClaim: claim('198.51.100.16/28'),
  EdgeFirewallRule: {
    namespaced: true,
    ready: ['Available', 'The rule is on edge gateway edge-1 at its place.'],
    progressing: ['Deleting', 'EdgeBusy', 'ConnectionNotReady', 'Unreachable', 'ReconcileError'],
    degraded: ['InvalidSpec', 'Refused', ...usesConnection, 'EdgeGatewayNotFound', 'InterfaceNotFound', 'ReferenceNotFound', 'FirewallRefused'],
  },
  NSXConnection: {
    namespaced: false,
    ready: ['LoggedIn', 'Logged in to NSX Manager https://nsx.example.com.'],
    progressing: ['Unreachable', 'ReconcileError'],
    degraded: ['InvalidSpec', 'CredentialsInvalid', 'SecretNotFound'],
  },
  EdgeStaticRoute: {
    namespaced: true,
    ready: ['Available', 'Static route 0.0.0.0/0 (written as 0.0.0.0/1 and 128.0.0.0/1) is on edge gateway edge-1 as specified.'],
    progressing: ['Creating', 'Deleting', 'ConnectionNotReady', 'Unreachable', 'ReconcileError'],
    degraded: ['InvalidSpec', 'Refused', ...usesConnection, 'EdgeGatewayNotFound', 'NetworkNotFound', 'NotASegment', 'DeleteBlocked'],
  },
  EdgeGatewayUplink: {
    namespaced: true,
    ready: ['Available', 'seg-colo is attached to edge gateway edge-1 with address 172.16.60.10.'],
    progressing: ['Creating', 'Deleting', 'ConnectionNotReady', 'Unreachable', 'ReconcileError'],
    degraded: [
      'InvalidSpec',
      'Refused',
      ...usesConnection,
      'ProviderRequired',
      'EdgeGatewayNotFound',
      'NetworkNotFound',
      'NotASegment',
      'SegmentInUse',
      'AlreadyAttached',
      'DeleteBlocked',
    ],
  },
  TrafficMeter: {
    namespaced: false,
    ready: ['Metering', 'Metering 2 edge gateway(s); counters are on /metrics as vcd_operator_traffic_*.'],
    progressing: ['Pending', 'ConnectionNotReady'],
    degraded: ['InvalidSpec'],
  },
  VCenterTrust: {
    namespaced: false,
    ready: ['MeshComplete', 'All 3 vCenters trust each other (6 pairs).'],
    progressing: ['PairsMissing', 'Unreachable', 'ReconcileError'],
    degraded: ['InvalidSpec', 'Refused', 'CredentialsInvalid', 'SecretNotFound', 'CABundleMismatch', 'NotAuthorized', 'RootNotFound'],
  },
};

interface Case {
  file: string;
  status: 'Healthy' | 'Progressing' | 'Degraded';
  message: string;
  obj: Record<string, unknown>;
}

const T = '2026-01-01T00:00:00Z';
const cond = (type: string, status: string, reason: string, message: string, observedGeneration: number) => ({
  type,
  status,
  observedGeneration,
  lastTransitionTime: T,
  reason,
  message,
});

function casesFor(kind: string, k: KindCases): Case[] {
  const obj = (generation: number, status?: Record<string, unknown>) => ({
    apiVersion: `${GROUP}/${VERSION}`,
    kind,
    metadata: { name: 'example', ...(k.namespaced ? { namespace: 'team-a' } : {}), generation },
    spec: {},
    ...(status ? { status } : {}),
  });
  const [readyReason, readyMessage] = k.ready;
  const synced = cond('Synced', 'True', 'ReconcileSuccess', 'The last reconcile succeeded.', 1);
  const out: Case[] = [
    {
      file: 'healthy.yaml',
      status: 'Healthy',
      message: readyMessage,
      obj: obj(1, { conditions: [cond('Ready', 'True', readyReason, readyMessage, 1), synced] }),
    },
    {
      file: 'healthy-sync-failing.yaml',
      status: 'Healthy',
      message: `${readyMessage} The last reconcile failed (Unreachable): ${MESSAGES.Unreachable}`,
      obj: obj(1, { conditions: [cond('Ready', 'True', readyReason, readyMessage, 1), cond('Synced', 'False', 'Unreachable', MESSAGES.Unreachable ?? '', 1)] }),
    },
    { file: 'progressing-no-status.yaml', status: 'Progressing', message: 'Waiting for the operator to report status', obj: obj(1) },
    { file: 'progressing-no-ready.yaml', status: 'Progressing', message: 'Waiting for the Ready condition', obj: obj(1, { conditions: [synced] }) },
    {
      file: 'progressing-generation-behind.yaml',
      status: 'Progressing',
      message: 'Waiting for the operator to act on generation 3',
      obj: obj(3, {
        conditions: [cond('Ready', 'True', readyReason, readyMessage, 2), cond('Synced', 'True', 'ReconcileSuccess', 'The last reconcile succeeded.', 2)],
      }),
    },
  ];
  const notReady = (reason: string) =>
    obj(1, {
      conditions: [
        cond('Ready', 'False', reason, MESSAGES[reason] ?? '', 1),
        cond('Synced', reason === 'InvalidSpec' ? 'True' : 'False', reason, MESSAGES[reason] ?? '', 1),
      ],
    });
  for (const reason of k.progressing) {
    out.push({ file: `progressing-${reason}.yaml`, status: 'Progressing', message: MESSAGES[reason] ?? '', obj: notReady(reason) });
  }
  for (const reason of k.degraded) {
    out.push({ file: `degraded-${reason}.yaml`, status: 'Degraded', message: `${reason}: ${MESSAGES[reason] ?? ''}`, obj: notReady(reason) });
  }
  return out;
}

/** Path (relative to deploy/argocd) → content of every generated file. */
export function renderArgoCD(): Map<string, string> {
  const files = new Map<string, string>();
  const names = [...new Set([...kinds.map((k) => k.kind), ...Object.keys(CASES)])].sort();
  const cm: Record<string, string> = {};
  for (const kind of names) {
    const k = CASES[kind];
    if (!k) throw new Error(`scripts/gen-argocd.ts has no health test cases for kind ${kind}: add it to CASES`);
    const dir = `resource_customizations/${GROUP}/${kind}`;
    files.set(`${dir}/health.lua`, HEALTH_LUA);
    const cases = casesFor(kind, k);
    const tests = cases.map((c) => ({ healthStatus: { status: c.status, message: c.message }, inputPath: `testdata/${c.file}` }));
    files.set(`${dir}/health_test.yaml`, stringify({ tests }, { lineWidth: 0 }));
    for (const c of cases) files.set(`${dir}/testdata/${c.file}`, stringify(c.obj, { lineWidth: 0 }));
    cm[`resource.customizations.health.${GROUP}_${kind}`] = HEALTH_LUA;
  }
  const header = [
    '# Health checks for vcd-operator kinds: merge data into the argocd-cm ConfigMap of your Argo CD',
    '# (e.g. as a kustomize patch, or configs.cm in the argo-cd Helm chart). Generated by',
    '# scripts/gen-argocd.ts from scripts/argocd-health.lua.',
    '',
  ].join('\n');
  files.set(
    'argocd-cm.yaml',
    header +
      stringify(
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'argocd-cm', namespace: 'argocd', labels: { 'app.kubernetes.io/part-of': 'argocd' } },
          data: cm,
        },
        { lineWidth: 0 },
      ),
  );
  return files;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = renderArgoCD();
  rmSync(join(ARGOCD_DIR, 'resource_customizations'), { recursive: true, force: true });
  for (const [rel, text] of files) {
    mkdirSync(dirname(join(ARGOCD_DIR, rel)), { recursive: true });
    writeFileSync(join(ARGOCD_DIR, rel), text);
  }
  console.log(`wrote ${files.size} files to ${ARGOCD_DIR}`);
}
