// The simulator of the VCD, NSX and vCenter APIs: tests, the demo and the benchmarks start it
// in-process; `npm run sim` starts it for people trying the operator without a cloud.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdmin, adminRoutes, type SimAdmin, type SimStateDump } from './admin.ts';
import { SimCore, type SimClock } from './core/core.ts';
import type { SimKnobs } from './core/knobs.ts';
import { serveRoutes, type ServedRoutes } from './core/server.ts';
import { loadFixture, DEFAULT_FIXTURE_PATH } from './fixtures/fixture.ts';
import { createNsxService, DEFAULT_EDGE_NODE_PATH } from './nsx/index.ts';
import { createCA } from './pki.ts';
import { createVcdService, type VcdBackingHooks } from './vcd/index.ts';
import { createMessageBus } from './vcd/message-bus.ts';
import { createVCenterService } from './vcenter/index.ts';

export type { SimAdmin, SimStateDump, SimKnobs };
export type { AuditEntry, FaultRule, FaultKind } from './core/types.ts';
export type { RouteCounter } from './core/core.ts';
export { DEFAULT_FIXTURE_PATH };
export { edgesFixture, scaleFixture } from './fixtures/scale.ts';

export interface StartSimulatorOptions {
  /** A fixture path or YAML text; the default fixture when absent. */
  fixture?: string;
  knobs?: Partial<SimKnobs>;
  /** Fixed ports (0 or absent: free ports). */
  ports?: { vcd?: number; nsx?: number; vcenters?: Record<string, number> };
  host?: string;
  /** Where to write the CA file; a fresh temp directory (removed on stop) when absent. */
  caFile?: string;
  /** The admin bearer token; random when absent. */
  adminToken?: string;
  clock?: SimClock;
}

export interface RunningSim {
  /** https://127.0.0.1:<port> serving /api/... and /cloudapi/... (and /admin/...). */
  vcd: { url: string };
  nsx: { url: string; username: string; password: string };
  /**
   * Each vCenter's HTTPS certificate is signed by its own VMCA; `caPem` is the bundle of its VMCA
   * roots (read it again after a renewal: it then holds the old and the new root).
   */
  vcenters: Array<{ name: string; url: string; username: string; password: string; readonly caPem: string }>;
  /** The trust anchor for the VCD and NSX listeners. */
  caPem: string;
  caFile: string;
  adminToken: string;
  credentials: {
    provider: { org: 'System'; username: string; password: string; apiToken: string };
    tenants: Array<{ org: string; username: string; password: string; apiToken: string }>;
  };
  admin: SimAdmin;
  stop(): Promise<void>;
}

export async function startSimulator(opts: StartSimulatorOptions = {}): Promise<RunningSim> {
  const fixture = loadFixture(opts.fixture ?? DEFAULT_FIXTURE_PATH);
  const core = new SimCore({ ...(opts.knobs ? { knobs: opts.knobs } : {}), ...(opts.clock ? { clock: opts.clock } : {}) });
  const clockOpt = opts.clock ? { clock: opts.clock } : {};
  const host = opts.host ?? '127.0.0.1';

  const nsx = createNsxService({ username: fixture.nsx.username, password: fixture.nsx.password, ...clockOpt });
  // Provider gateways and edges created in the VCD part exist in NSX as their tier-0 / tier-1.
  const hooks: VcdBackingHooks = {
    providerGatewayCreated: (net) => {
      nsx.ensureTier0(net.backingId, net.name);
      // Its uplink to the physical network, on the first edge node (what the Tier-0 uplink meter reads).
      const subnet = net.subnets[0];
      nsx.addTier0Interface(net.backingId, 'uplink-1', {
        segmentPath: `/infra/segments/${net.backingId}-uplink`,
        // A transit address when the provider gateway's own subnets are not modelled.
        subnets: [subnet ? { ip_addresses: [subnet.gateway], prefix_len: subnet.prefixLength } : { ip_addresses: ['100.64.255.1'], prefix_len: 30 }],
        type: 'EXTERNAL',
        edgePath: DEFAULT_EDGE_NODE_PATH,
        displayName: `${net.name} uplink`,
      });
    },
    edgeSaved: (edge, networks) => {
      const tier0 = networks.find((n) => n.kind === 'TIER0');
      const t0Path = tier0 ? nsx.ensureTier0(tier0.backingId, tier0.name) : undefined;
      nsx.ensureTier1(edge.backingId, edge.name, t0Path);
      for (const net of networks) {
        if (net.kind !== 'SEGMENT') continue;
        const uplink = edge.uplinks.find((u) => u.networkId === net.id);
        const subnets = (uplink?.subnets ?? []).map((s) => ({ ip_addresses: [s.primaryIp ?? s.gateway], prefix_len: s.prefixLength }));
        nsx.addTier1Interface(edge.backingId, net.backingId, { segmentPath: `/infra/segments/${net.backingId}`, subnets, displayName: net.name });
      }
    },
    edgeDeleted: (edge) => nsx.removeTier1(edge.backingId),
  };
  const vcdService = createVcdService({ core, fixture, hooks });

  const vcenters = await Promise.all(
    fixture.vcenters.map((v) => createVCenterService({ name: v.name, username: v.username, password: v.password, ...clockOpt })),
  );
  const ca = await createCA('vcd-operator simulator CA');
  const tls = await ca.issueServer({ commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const adminToken = opts.adminToken ?? randomBytes(24).toString('base64url');
  const bus = await createMessageBus(vcdService.auth);
  vcdService.attachBus(bus);
  const admin = createAdmin({ core, vcd: vcdService, nsx, vcenters, bus });

  const servers: ServedRoutes[] = [];
  let tmpDir: string | undefined;
  try {
    servers.push(
      await serveRoutes({
        service: 'vcd',
        instance: 'vcd',
        routes: vcdService.routes,
        internalRoutes: adminRoutes(admin, adminToken),
        tls,
        core,
        host,
        notFound: vcdService.notFound,
        faultBody: vcdService.faultBody,
        onWrite: (req, route) => vcdService.onWrite(req, route),
        onUpgrade: (req, socket, head) => bus.upgrade(req, socket, head),
        ...(opts.ports?.vcd !== undefined ? { port: opts.ports.vcd } : {}),
      }),
    );
    servers.push(
      await serveRoutes({
        service: 'nsx',
        instance: 'nsx',
        routes: nsx.routes,
        tls,
        core,
        host,
        notFound: nsx.notFound,
        faultBody: nsx.faultBody,
        ...(opts.ports?.nsx !== undefined ? { port: opts.ports.nsx } : {}),
      }),
    );
    for (const v of vcenters) {
      const port = opts.ports?.vcenters?.[v.name];
      const served = await serveRoutes({
        service: 'vcenter',
        instance: v.name,
        routes: v.routes,
        tls: v.tls,
        core,
        host,
        notFound: v.notFound,
        faultBody: v.faultBody,
        ...(port !== undefined ? { port } : {}),
      });
      v.onTlsChange = (t) => served.setTls(t);
      servers.push(served);
    }
    let caFile = opts.caFile;
    if (!caFile) {
      tmpDir = await mkdtemp(join(tmpdir(), 'vcd-sim-'));
      caFile = join(tmpDir, 'ca.pem');
    }
    await writeFile(caFile, ca.certPem);

    const [vcdServer, nsxServer, ...vcServers] = servers as [ServedRoutes, ServedRoutes, ...ServedRoutes[]];
    let stopped = false;
    return {
      vcd: { url: vcdServer.url },
      nsx: { url: nsxServer.url, username: fixture.nsx.username, password: fixture.nsx.password },
      vcenters: fixture.vcenters.map((v, i) => ({
        name: v.name,
        url: (vcServers[i] as ServedRoutes).url,
        username: v.username,
        password: v.password,
        get caPem() {
          return (vcenters[i] as (typeof vcenters)[number]).vmcaRoots.map((p) => (p.endsWith('\n') ? p : `${p}\n`)).join('');
        },
      })),
      caPem: ca.certPem,
      caFile,
      adminToken,
      credentials: {
        provider: { org: 'System', username: fixture.provider.username, password: fixture.provider.password, apiToken: fixture.provider.apiToken },
        tenants: fixture.orgs.flatMap((o) => o.users.map((u) => ({ org: o.name, username: u.username, password: u.password, apiToken: u.apiToken }))),
      },
      admin,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await bus.close();
        await Promise.all(servers.map((s) => s.close()));
        if (tmpDir) await rm(tmpDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await bus.close();
    await Promise.all(servers.map((s) => s.close()));
    if (tmpDir) await rm(tmpDir, { recursive: true, force: true });
    throw err;
  }
}
