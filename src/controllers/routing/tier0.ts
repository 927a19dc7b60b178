// Finding the Tier-0 (or VRF) an IP Space is advertised from, and its locale service: by NSX id
// or display name, or through the VCD provider gateway it backs. A VRF is a Tier-0 with
// vrf_config and its own locale services, prefix lists and route maps; those are the ones used.
import type { NsxClient, PolicyResource } from '../../clients/nsx/index.ts';
import type { VcdClient } from '../../clients/vcd/index.ts';
import { Problem } from '../../reconcile/index.ts';
import { RoutingReasons } from './problems.ts';

export interface Tier0Target {
  id: string;
  name: string;
  vrf: boolean;
  localeServiceId: string;
}

export async function tier0ByName(nsx: NsxClient, ref: string): Promise<Tier0Target> {
  const direct = await nsx.find<PolicyResource>(`/infra/tier-0s/${encodeURIComponent(ref)}`);
  const t0 = direct ?? (await nsx.list<PolicyResource>('/infra/tier-0s')).find((t) => t.display_name === ref);
  if (!t0?.id)
    throw new Problem(RoutingReasons.Tier0NotFound, `NSX has no Tier-0 gateway or VRF with id or display name ${ref}. Check tier0Advertisement.tier0.`);
  return withLocaleService(nsx, t0);
}

/** The Tier-0/VRF backing a VCD provider gateway (its NSXT_TIER0 or NSXT_VRF_TIER0 backing). */
export async function tier0OfProviderGateway(nsx: NsxClient, vcd: VcdClient, ref: { id?: string; name?: string }): Promise<Tier0Target> {
  const what = ref.id ?? ref.name ?? '';
  const id = ref.id ?? (await vcd.externalNetworks.findByName(ref.name ?? ''))?.id;
  const net = id ? await vcd.externalNetworks.get(id) : undefined;
  if (!net)
    throw new Problem(
      RoutingReasons.Tier0NotFound,
      `VCD has no provider gateway ${what} visible through this IPSpace's connection. Check tier0Advertisement.providerGateway.`,
    );
  const backing = (net.networkBackings?.values ?? []).find((b) => b.backingId);
  if (!backing?.backingId) throw new Problem(RoutingReasons.Tier0NotFound, `Provider gateway ${what} names no NSX backing in VCD.`);
  const t0 = await nsx.find<PolicyResource>(`/infra/tier-0s/${encodeURIComponent(backing.backingId)}`);
  if (!t0?.id)
    throw new Problem(
      RoutingReasons.Tier0NotFound,
      `Provider gateway ${what} is backed by Tier-0 ${backing.backingId}, which this NSXConnection's NSX Manager does not have. Check tier0Advertisement.nsxConnectionRef.`,
    );
  return withLocaleService(nsx, t0);
}

async function withLocaleService(nsx: NsxClient, t0: PolicyResource): Promise<Tier0Target> {
  const id = t0.id ?? '';
  const services = await nsx.list<PolicyResource>(`/infra/tier-0s/${encodeURIComponent(id)}/locale-services`);
  const ls = services.find((s) => s.id === 'default') ?? services[0];
  if (!ls?.id) throw new Problem(RoutingReasons.Tier0NotFound, `Tier-0 ${id} has no locale service to hold a redistribution rule.`);
  return { id, name: t0.display_name ?? id, vrf: t0['vrf_config'] !== undefined && t0['vrf_config'] !== null, localeServiceId: ls.id };
}
