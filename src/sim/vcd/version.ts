// API versions: what the simulated VCD accepts, and the response fields each version adds. A
// response only carries fields that exist in the version the client asked for.

export const SUPPORTED_VERSIONS = ['37.0', '37.1', '37.2', '38.0', '38.1', '39.0'] as const;

/** Comparable number for "37.2" style versions. */
export function versionNumber(v: string): number {
  const [major = '0', minor = '0'] = v.split('.');
  return Number(major) * 100 + Number(minor);
}

export function atLeast(requested: string, added: string): boolean {
  return versionNumber(requested) >= versionNumber(added);
}

/** Reads `version=X` from an Accept header such as `application/json;version=37.2`. */
export function requestedVersion(accept: string | undefined): string | undefined {
  const m = /(?:^|[;,\s])version\s*=\s*"?(\d+\.\d+)/i.exec(accept ?? '');
  return m?.[1];
}

/**
 * Fields added after 37.0 on the definitions this simulator serves, as the spec's
 * x-vcloud-property-annotations say (a contract test keeps this table equal to the spec).
 */
export const FIELD_ADDED_IN: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  Session: { site: '37.1' },
  EdgeGateway: { nonDistributedRoutingEnabled: '36.2' },
  EdgeGatewayUplink: { usingIpSpace: '37.1', backingType: '37.1' },
  FirewallRule: { appliedTo: '37.1' },
  EdgeFirewallRule: { appliedTo: '37.1' },
  ExternalNetwork: { usingIpSpace: '37.1' },
  ExternalNetworkBacking: { isNsxTVlanSegment: '37.1' },
  IpSpaceIpAllocationRequest: { value: '37.2' },
  RouterConnection: { connectionTypeValue: '36.2' },
  VdcNetwork: { segmentProfileTemplateRef: '36.2' },
};

/**
 * Fields added after the 37.2 spec that the simulator serves, from govcd's version elevation
 * (vcd-api.md §1.3): absent from the spec, so the contract tests check them separately.
 */
export const FIELD_ADDED_AFTER_SPEC: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  IpSpace: { defaultGatewayServiceConfig: '38.0' },
  IpSpaceUplink: { interfaces: '38.0' },
};

/** Removes from `obj` the fields of `definition` that the requested version does not have. */
export function gate<T extends object>(definition: string, obj: T, version: string): T {
  const added = { ...FIELD_ADDED_IN[definition], ...FIELD_ADDED_AFTER_SPEC[definition] };
  const out = { ...obj } as Record<string, unknown>;
  for (const [field, since] of Object.entries(added)) if (!atLeast(version, since)) delete out[field];
  return out as T;
}
