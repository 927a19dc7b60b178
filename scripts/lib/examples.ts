// The manifests in examples/, bound to a running simulator: its URL and CA in every connection,
// in every Secret the API token of the org its connection logs in to, and the NSX user in the
// NSXConnection's Secret. The demo and the
// examples test both apply exactly this.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { kinds } from '../../src/api/index.ts';
import { NamespaceResource, SecretResource } from '../../src/controllers/connections/controller.ts';
import type { KubeClient, KubeObject, ResourceType } from '../../src/runtime/index.ts';
import { descriptorOf } from '../../src/api/kind.ts';
import type { RunningSim } from '../../src/sim/index.ts';

export const PLACEHOLDER_TOKEN = 'REPLACE_WITH_API_TOKEN';
export const PLACEHOLDER_PASSWORD = 'REPLACE_WITH_PASSWORD';
export const PLACEHOLDER_NSX = { username: 'REPLACE_WITH_NSX_USERNAME', password: 'REPLACE_WITH_NSX_PASSWORD' };

interface TrustMember {
  name: string;
  url: string;
  credentialsSecretRef: { name: string };
  caBundle?: string;
}

interface Doc extends KubeObject {
  spec?: Record<string, unknown> & { credentialsSecretRef?: { name: string }; org?: string; url?: string; members?: TrustMember[] };
  stringData?: Record<string, string>;
}

export function loadExamples(dir: string): Doc[] {
  const docs: Doc[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()) {
    for (const d of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      const obj = d.toJS() as Doc | null;
      if (obj?.kind) docs.push(obj);
    }
  }
  return docs;
}

export function bindToSimulator(docs: Doc[], sim: RunningSim): Doc[] {
  const out = structuredClone(docs);
  const connections = out.filter((d) => d.kind === 'VCDConnection' || d.kind === 'ClusterVCDConnection');
  for (const c of connections) {
    c.spec = { ...c.spec, url: sim.vcd.url, caBundle: sim.caPem };
  }
  for (const n of out.filter((d) => d.kind === 'NSXConnection')) n.spec = { ...n.spec, url: sim.nsx.url, caBundle: sim.caPem };
  for (const s of out.filter((d) => d.kind === 'Secret' && d.stringData?.['username'] === PLACEHOLDER_NSX.username)) {
    s.stringData = { ...s.stringData, username: sim.nsx.username, password: sim.nsx.password };
  }
  for (const s of out.filter((d) => d.kind === 'Secret' && d.stringData?.['apiToken'] === PLACEHOLDER_TOKEN)) {
    const user = connections.find((c) => c.spec?.credentialsSecretRef?.name === s.metadata?.name);
    const org = user?.spec?.org;
    const token = org === 'System' ? sim.credentials.provider.apiToken : sim.credentials.tenants.find((t) => t.org === org)?.apiToken;
    if (!token) throw new Error(`no simulator credentials for Secret ${s.metadata?.name ?? ''} (org ${org ?? 'unknown'})`);
    s.stringData = { ...s.stringData, apiToken: token };
  }
  // VCenterTrust members are the simulator's vCenters of the same name: their URL and VMCA root,
  // and in each member's Secret that vCenter's login.
  const members = out.filter((d) => d.kind === 'VCenterTrust').flatMap((t) => t.spec?.members ?? []);
  for (const m of members) {
    const vc = sim.vcenters.find((v) => v.name === m.name);
    if (!vc) throw new Error(`the simulator has no vCenter named ${m.name}`);
    m.url = vc.url;
    m.caBundle = vc.caPem;
  }
  for (const s of out.filter((d) => d.kind === 'Secret' && d.stringData?.['password'] === PLACEHOLDER_PASSWORD)) {
    const m = members.find((x) => x.credentialsSecretRef.name === s.metadata?.name);
    const vc = sim.vcenters.find((v) => v.name === m?.name);
    if (!vc) throw new Error(`no simulator vCenter for Secret ${s.metadata?.name ?? ''}`);
    s.stringData = { ...s.stringData, username: vc.username, password: vc.password };
  }
  return out;
}

const RESOURCES: Record<string, ResourceType> = {
  Namespace: NamespaceResource,
  Secret: SecretResource,
  ...Object.fromEntries(kinds.map((k) => [k.kind, descriptorOf(k)])),
};

export function resourceOf(obj: KubeObject): ResourceType {
  const r = RESOURCES[obj.kind ?? ''];
  if (!r) throw new Error(`no resource known for kind ${obj.kind ?? '?'}`);
  return r;
}

/** Creates each object, or leaves it when it exists already (a demo run twice on one cluster). */
export async function createAll(kube: KubeClient, docs: KubeObject[]): Promise<void> {
  for (const d of docs) {
    try {
      await kube.create(resourceOf(d), d);
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err;
    }
  }
}
