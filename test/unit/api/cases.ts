// One table of specs, run twice: against the operator's validators (unit) and against the real
// kube-apiserver with the generated CRDs (integration, test/integration/api/admission.test.ts).
// A CEL rule and its TypeScript twin that disagree on any row fail one of the two.

export type KindName =
  | 'VCDConnection'
  | 'ClusterVCDConnection'
  | 'IPSpace'
  | 'FloatingIPClaim'
  | 'IPPrefixClaim'
  | 'VCenterTrust'
  | 'EdgeFirewallRule'
  | 'NSXConnection'
  | 'EdgeStaticRoute'
  | 'EdgeGatewayUplink'
  | 'TrafficMeter';

/** Where the two sides word a schema (non-CEL) error differently. */
export interface Messages {
  apiserver: string;
  operator: string;
}

export interface RejectCase {
  name: string;
  kind: KindName;
  spec: Record<string, unknown>;
  /** For update cases: the spec created first; `spec` is then the replacement. */
  from?: Record<string, unknown>;
  /** A CEL rule message (the same on both sides), or per-side texts for schema errors. */
  message: string | Messages;
  /** The field the operator reports, e.g. `spec.address`. */
  field: string;
}

export interface AcceptCase {
  name: string;
  kind: KindName;
  spec: Record<string, unknown>;
  from?: Record<string, unknown>;
}

const tenant = { kind: 'VCDConnection', name: 'acme' };
const provider = { kind: 'ClusterVCDConnection', name: 'provider' };
const UUID = '4b2b4a1e-1c3d-4e5f-8a9b-0c1d2e3f4a5b';
const IP_SPACE_ID = `urn:vcloud:ipSpace:${UUID}`;
const ORG_ID = `urn:vcloud:org:${UUID}`;

const fip = (extra: Record<string, unknown> = {}) => ({ connectionRef: tenant, ipSpace: { name: 'public-ips' }, ...extra });
const ipp = (extra: Record<string, unknown> = {}) => ({ connectionRef: tenant, ipSpace: { name: 'public-ips' }, prefixLength: 28, ...extra });
const space = (extra: Record<string, unknown> = {}) => ({
  connectionRef: provider,
  type: 'Public',
  internalScope: ['203.0.113.0/24', '198.51.100.0/24'],
  ipRanges: [{ start: '203.0.113.10', end: '203.0.113.250' }],
  prefixSequences: [{ startCIDR: '198.51.100.0/28', count: 16 }],
  ...extra,
});
const conn = (extra: Record<string, unknown> = {}) => ({
  url: 'https://vcd.example.com',
  org: 'acme',
  credentialsSecretRef: { name: 'acme-vcd-credentials' },
  ...extra,
});
const efw = (extra: Record<string, unknown> = {}) => ({ connectionRef: tenant, edgeGateway: { name: 'acme-edge' }, action: 'Allow', ...extra });
const GROUP_ID = `urn:vcloud:firewallGroup:${UUID}`;
const ADDRESS_MESSAGE = 'must be an IP address (203.0.113.10), a CIDR (203.0.113.0/24) or a range of one family';
const ADDRESS_MESSAGE_FULL = `${ADDRESS_MESSAGE} with the first address not after the last (203.0.113.10-203.0.113.20) (IPv6 range)`;
const PORT_MESSAGE = 'must be a port (443) or a range (8080-8090) of ports 1 to 65535';
const nsx = (extra: Record<string, unknown> = {}) => ({ url: 'https://nsx.example.com', credentialsSecretRef: { name: 'nsx-credentials' }, ...extra });
const esr = (extra: Record<string, unknown> = {}) => ({
  connectionRef: tenant,
  edgeGateway: { name: 'acme-edge' },
  destination: '0.0.0.0/0',
  nextHops: [{ ipAddress: '172.16.50.1', scope: { externalNetwork: 'seg-transit' } }],
  ...extra,
});
const egu = (extra: Record<string, unknown> = {}) => ({
  connectionRef: provider,
  edgeGateway: { name: 'acme-edge' },
  externalNetwork: { name: 'seg-colo' },
  subnet: { gateway: '172.16.60.1', prefixLength: 24, primaryIP: '172.16.60.10' },
  ...extra,
});
const PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUY29mZmVl\n-----END CERTIFICATE-----\n';

const member = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  url: `https://${name}.example.com`,
  credentialsSecretRef: { name: `${name}-credentials` },
  ...extra,
});
const trust = (extra: Record<string, unknown> = {}) => ({ members: [member('vc-a'), member('vc-b')], ...extra });
const MEMBER_URL_MESSAGE = 'must be an https URL such as https://vc.example.com, without user:password@ (credentials go in the Secret), query or fragment';

const IP_MESSAGE = 'must be an IPv4 or IPv6 address such as 203.0.113.10 or 2001:db8::10';
const CIDR_MESSAGE = 'must be a CIDR such as 203.0.113.0/24 or 2001:db8::/64';
const IP_SPACE_REF = 'set exactly one of name or id of the IP Space';
const LABEL_KEY = "must be a label key: an optional DNS subdomain prefix and '/', then a name of at most 63";
const LABEL_VALUE = { apiserver: 'should match', operator: 'must match pattern "^(([A-Za-z0-9]' };
const USERINFO_MESSAGE = 'must not contain a user name or password (user:password@host); put the credentials in the credentials Secret';

export const rejected: RejectCase[] = [
  // --- VCenterTrust ---
  {
    name: 'two members with one name',
    kind: 'VCenterTrust',
    spec: trust({ members: [member('vc-a'), member('vc-a', { url: 'https://other.example.com' })] }),
    message: 'member names must be unique',
    field: 'spec.members',
  },
  {
    name: 'one vCenter listed twice',
    kind: 'VCenterTrust',
    spec: trust({ members: [member('vc-a'), member('vc-b', { url: 'https://vc-a.example.com' })] }),
    message: 'member URLs must be unique: list each vCenter once',
    field: 'spec.members',
  },
  {
    name: 'member URL with credentials',
    kind: 'VCenterTrust',
    spec: trust({ members: [member('vc-a', { url: 'https://admin:secret@vc-a.example.com' }), member('vc-b')] }),
    message: MEMBER_URL_MESSAGE,
    field: 'spec.members[0].url',
  },
  {
    name: 'member URL over plain http',
    kind: 'VCenterTrust',
    spec: trust({ members: [member('vc-a', { url: 'http://vc-a.example.com' }), member('vc-b')] }),
    message: MEMBER_URL_MESSAGE,
    field: 'spec.members[0].url',
  },
  {
    name: 'extra roots without a PEM certificate',
    kind: 'VCenterTrust',
    spec: trust({ extraRoots: 'MIIB...' }),
    message: 'must hold one or more PEM certificates (-----BEGIN CERTIFICATE----- ...)',
    field: 'spec.extraRoots',
  },
  {
    name: 'member CA bundle without a PEM certificate',
    kind: 'VCenterTrust',
    spec: trust({ members: [member('vc-a', { caBundle: 'not a pem' }), member('vc-b')] }),
    message: 'must hold one or more PEM certificates (-----BEGIN CERTIFICATE----- ...)',
    field: 'spec.members[0].caBundle',
  },
  // --- EdgeFirewallRule ---
  {
    name: 'edge gateway by both name and id',
    kind: 'EdgeFirewallRule',
    spec: efw({ edgeGateway: { name: 'acme-edge', id: `urn:vcloud:gateway:${UUID}` } }),
    message: 'set exactly one of name or id of the edge gateway',
    field: 'spec.edgeGateway',
  },
  {
    name: 'unknown action',
    kind: 'EdgeFirewallRule',
    spec: efw({ action: 'Permit' }),
    message: { apiserver: 'supported values: "Allow", "Drop", "Reject"', operator: 'must be one of Allow, Drop, Reject' },
    field: 'spec.action',
  },
  {
    name: 'source address with an octet out of range',
    kind: 'EdgeFirewallRule',
    spec: efw({ sources: { addresses: ['10.0.0.256'] } }),
    message: ADDRESS_MESSAGE,
    field: 'spec.sources.addresses[0]',
  },
  {
    name: 'destination CIDR of length 33',
    kind: 'EdgeFirewallRule',
    spec: efw({ destinations: { addresses: ['10.0.0.0/33'] } }),
    message: ADDRESS_MESSAGE,
    field: 'spec.destinations.addresses[0]',
  },
  {
    name: 'reversed IPv4 range',
    kind: 'EdgeFirewallRule',
    spec: efw({ sources: { addresses: ['10.0.0.20-10.0.0.10'] } }),
    message: ADDRESS_MESSAGE,
    field: 'spec.sources.addresses[0]',
  },
  {
    name: 'range of two families',
    kind: 'EdgeFirewallRule',
    spec: efw({ sources: { addresses: ['10.0.0.1-2001:db8::1'] } }),
    message: ADDRESS_MESSAGE,
    field: 'spec.sources.addresses[0]',
  },
  {
    name: 'range of three ends',
    kind: 'EdgeFirewallRule',
    spec: efw({ sources: { addresses: ['10.0.0.1-10.0.0.2-10.0.0.3'] } }),
    message: ADDRESS_MESSAGE,
    field: 'spec.sources.addresses[0]',
  },
  {
    name: '129 source addresses',
    kind: 'EdgeFirewallRule',
    spec: efw({ sources: { addresses: Array.from({ length: 129 }, (_, i) => `10.0.${i >> 8}.${i & 255}`) } }),
    message: { apiserver: 'Too many: 129: must have at most 128 items', operator: 'must NOT have more than 128 items' },
    field: 'spec.sources.addresses',
  },
  {
    name: 'addresses with 128 groups',
    kind: 'EdgeFirewallRule',
    spec: efw({ destinations: { addresses: ['10.0.0.1'], groups: Array.from({ length: 128 }, (_, i) => ({ name: `g${i}` })) } }),
    message: 'with addresses, at most 127 groups',
    field: 'spec.destinations.groups',
  },
  {
    name: 'group by both name and id',
    kind: 'EdgeFirewallRule',
    spec: efw({ sources: { groups: [{ name: 'web', id: GROUP_ID }] } }),
    message: 'set exactly one of name or id of the firewall group',
    field: 'spec.sources.groups[0]',
  },
  {
    name: 'port above 65535',
    kind: 'EdgeFirewallRule',
    spec: efw({ services: { ports: [{ protocol: 'TCP', destinationPorts: ['65536'] }] } }),
    message: PORT_MESSAGE,
    field: 'spec.services.ports[0].destinationPorts[0]',
  },
  {
    name: 'port 0',
    kind: 'EdgeFirewallRule',
    spec: efw({ services: { ports: [{ protocol: 'UDP', destinationPorts: ['0'] }] } }),
    message: PORT_MESSAGE,
    field: 'spec.services.ports[0].destinationPorts[0]',
  },
  {
    name: 'reversed port range',
    kind: 'EdgeFirewallRule',
    spec: efw({ services: { ports: [{ protocol: 'TCP', destinationPorts: ['9000-8000'] }] } }),
    message: PORT_MESSAGE,
    field: 'spec.services.ports[0].destinationPorts[0]',
  },
  {
    name: 'port that is not a number',
    kind: 'EdgeFirewallRule',
    spec: efw({ services: { ports: [{ protocol: 'TCP', destinationPorts: ['https'] }] } }),
    message: { apiserver: 'spec.services.ports[0].destinationPorts[0] in body should match', operator: 'must match pattern' },
    field: 'spec.services.ports[0].destinationPorts[0]',
  },
  {
    name: 'ports for ICMP',
    kind: 'EdgeFirewallRule',
    spec: efw({ services: { ports: [{ protocol: 'ICMPv4', destinationPorts: ['80'] }] } }),
    message: 'ICMP has no ports: leave destinationPorts out for ICMPv4 and ICMPv6',
    field: 'spec.services.ports[0].destinationPorts',
  },
  {
    name: 'profile by both name and id',
    kind: 'EdgeFirewallRule',
    spec: efw({ services: { profiles: [{ name: 'HTTPS', id: `urn:vcloud:applicationPortProfile:${UUID}` }] } }),
    message: 'set exactly one of name or id of the application port profile',
    field: 'spec.services.profiles[0]',
  },
  {
    name: 'ports with 128 profiles',
    kind: 'EdgeFirewallRule',
    spec: efw({ services: { ports: [{ protocol: 'TCP', destinationPorts: ['22'] }], profiles: Array.from({ length: 128 }, (_, i) => ({ name: `p${i}` })) } }),
    message: 'with ports, at most 127 profiles',
    field: 'spec.services.profiles',
  },
  {
    name: 'comments over 1024 characters',
    kind: 'EdgeFirewallRule',
    spec: efw({ comments: 'x'.repeat(1025) }),
    message: { apiserver: 'spec.comments: Too long: may not be more than 1024 bytes', operator: 'must NOT have more than 1024 characters' },
    field: 'spec.comments',
  },
  {
    name: 'edge gateway changed',
    kind: 'EdgeFirewallRule',
    from: efw(),
    spec: efw({ edgeGateway: { name: 'other-edge' } }),
    message: 'edgeGateway is immutable; delete the EdgeFirewallRule and create a new one on the other edge gateway',
    field: 'spec.edgeGateway',
  },
  {
    name: 'connection of a rule changed',
    kind: 'EdgeFirewallRule',
    from: efw(),
    spec: efw({ connectionRef: { kind: 'VCDConnection', name: 'globex' } }),
    message: 'connectionRef is immutable; delete the EdgeFirewallRule and create a new one to use another connection',
    field: 'spec.connectionRef',
  },
  {
    name: 'org of a rule changed',
    kind: 'EdgeFirewallRule',
    from: efw({ connectionRef: provider, org: { name: 'acme' } }),
    spec: efw({ connectionRef: provider, org: { name: 'globex' } }),
    message: 'org is immutable; delete the EdgeFirewallRule',
    field: 'spec.org',
  },

  // --- FloatingIPClaim ---
  {
    name: 'IP Space by both name and id',
    kind: 'FloatingIPClaim',
    spec: fip({ ipSpace: { name: 'public-ips', id: IP_SPACE_ID } }),
    message: IP_SPACE_REF,
    field: 'spec.ipSpace',
  },
  { name: 'IP Space by neither name nor id', kind: 'FloatingIPClaim', spec: fip({ ipSpace: {} }), message: IP_SPACE_REF, field: 'spec.ipSpace' },
  { name: 'address with an octet out of range', kind: 'FloatingIPClaim', spec: fip({ address: '203.0.113.300' }), message: IP_MESSAGE, field: 'spec.address' },
  { name: 'address with a leading zero', kind: 'FloatingIPClaim', spec: fip({ address: '203.0.113.010' }), message: IP_MESSAGE, field: 'spec.address' },
  { name: 'IPv4-mapped IPv6 address', kind: 'FloatingIPClaim', spec: fip({ address: '::ffff:203.0.113.10' }), message: IP_MESSAGE, field: 'spec.address' },
  { name: 'address given as a CIDR', kind: 'FloatingIPClaim', spec: fip({ address: '203.0.113.10/32' }), message: IP_MESSAGE, field: 'spec.address' },
  {
    name: 'unknown reclaimPolicy',
    kind: 'FloatingIPClaim',
    spec: fip({ reclaimPolicy: 'Keep' }),
    message: { apiserver: 'Unsupported value: "Keep": supported values: "Delete", "Retain"', operator: 'must be one of Delete, Retain' },
    field: 'spec.reclaimPolicy',
  },
  {
    name: 'unknown connection kind',
    kind: 'FloatingIPClaim',
    spec: fip({ connectionRef: { kind: 'Connection', name: 'acme' } }),
    message: { apiserver: 'supported values: "VCDConnection", "ClusterVCDConnection"', operator: 'must be one of VCDConnection, ClusterVCDConnection' },
    field: 'spec.connectionRef.kind',
  },
  {
    name: 'IP Space id that is not an IP Space URN',
    kind: 'FloatingIPClaim',
    spec: fip({ ipSpace: { id: `urn:vcloud:org:${UUID}` } }),
    message: { apiserver: 'spec.ipSpace.id: Invalid value: "urn:vcloud:org:', operator: 'must match pattern "^urn:vcloud:ipSpace:' },
    field: 'spec.ipSpace.id',
  },
  {
    name: 'missing ipSpace',
    kind: 'FloatingIPClaim',
    spec: { connectionRef: tenant },
    message: { apiserver: 'spec.ipSpace: Required value', operator: 'is required' },
    field: 'spec.ipSpace',
  },
  {
    name: 'address changed',
    kind: 'FloatingIPClaim',
    from: fip({ address: '203.0.113.10' }),
    spec: fip({ address: '203.0.113.11' }),
    message: 'address is immutable; delete the FloatingIPClaim and create a new one for another address',
    field: 'spec.address',
  },
  {
    name: 'address added after creation',
    kind: 'FloatingIPClaim',
    from: fip(),
    spec: fip({ address: '203.0.113.11' }),
    message: 'address is immutable',
    field: 'spec.address',
  },
  {
    name: 'IP Space changed',
    kind: 'FloatingIPClaim',
    from: fip(),
    spec: fip({ ipSpace: { name: 'other-ips' } }),
    message: 'ipSpace is immutable; delete the FloatingIPClaim and create a new one to allocate from another IP Space',
    field: 'spec.ipSpace',
  },
  {
    name: 'connection changed',
    kind: 'FloatingIPClaim',
    from: fip(),
    spec: fip({ connectionRef: provider }),
    message: 'connectionRef is immutable; delete the FloatingIPClaim and create a new one to use another connection',
    field: 'spec.connectionRef',
  },
  {
    name: 'org added after creation',
    kind: 'FloatingIPClaim',
    from: fip({ connectionRef: provider }),
    spec: fip({ connectionRef: provider, org: { name: 'acme' } }),
    message: 'org is immutable; delete the FloatingIPClaim and create a new one to allocate for another org',
    field: 'spec.org',
  },
  {
    name: 'org by both name and id',
    kind: 'FloatingIPClaim',
    spec: fip({ connectionRef: provider, org: { name: 'acme', id: ORG_ID } }),
    message: 'set exactly one of name or id of the organization',
    field: 'spec.org',
  },

  // --- IPPrefixClaim ---
  {
    name: 'neither prefixLength nor cidr',
    kind: 'IPPrefixClaim',
    spec: { connectionRef: tenant, ipSpace: { name: 'public-ips' } },
    message: 'set prefixLength (any free prefix of that length) or cidr (a specific prefix)',
    field: 'spec',
  },
  {
    name: 'prefix length 0',
    kind: 'IPPrefixClaim',
    spec: ipp({ prefixLength: 0 }),
    message: { apiserver: 'spec.prefixLength: Invalid value: 0: spec.prefixLength in body should be greater than or equal to 1', operator: 'must be >= 1' },
    field: 'spec.prefixLength',
  },
  {
    name: 'prefix length 129',
    kind: 'IPPrefixClaim',
    spec: ipp({ prefixLength: 129 }),
    message: { apiserver: 'spec.prefixLength in body should be less than or equal to 128', operator: 'must be <= 128' },
    field: 'spec.prefixLength',
  },
  {
    name: 'IPv4 CIDR longer than /32',
    kind: 'IPPrefixClaim',
    spec: ipp({ prefixLength: undefined, cidr: '198.51.100.0/33' }),
    message: CIDR_MESSAGE,
    field: 'spec.cidr',
  },
  { name: 'malformed CIDR', kind: 'IPPrefixClaim', spec: ipp({ prefixLength: undefined, cidr: '198.51.100/28' }), message: CIDR_MESSAGE, field: 'spec.cidr' },
  {
    name: 'CIDR with host bits set',
    kind: 'IPPrefixClaim',
    spec: ipp({ prefixLength: undefined, cidr: '198.51.100.17/28' }),
    message: 'must be a network address with the host bits zero, e.g. 198.51.100.16/28 rather than 198.51.100.17/28',
    field: 'spec.cidr',
  },
  {
    name: 'CIDR of length 0',
    kind: 'IPPrefixClaim',
    spec: ipp({ prefixLength: undefined, cidr: '0.0.0.0/0' }),
    message: 'prefix length must be at least 1',
    field: 'spec.cidr',
  },
  {
    name: 'prefixLength that contradicts cidr',
    kind: 'IPPrefixClaim',
    spec: ipp({ prefixLength: 27, cidr: '198.51.100.16/28' }),
    message: 'prefixLength must equal the length of cidr; or leave prefixLength out',
    field: 'spec.prefixLength',
  },
  {
    name: 'prefixLength changed',
    kind: 'IPPrefixClaim',
    from: ipp(),
    spec: ipp({ prefixLength: 29 }),
    message: 'prefixLength is immutable; delete the IPPrefixClaim and create a new one for another length',
    field: 'spec.prefixLength',
  },
  {
    name: 'cidr changed',
    kind: 'IPPrefixClaim',
    from: ipp({ prefixLength: undefined, cidr: '198.51.100.16/28' }),
    spec: ipp({ prefixLength: undefined, cidr: '198.51.100.32/28' }),
    message: 'cidr is immutable; delete the IPPrefixClaim and create a new one for another prefix',
    field: 'spec.cidr',
  },
  {
    name: 'IP Space of a prefix claim changed',
    kind: 'IPPrefixClaim',
    from: ipp(),
    spec: ipp({ ipSpace: { id: IP_SPACE_ID } }),
    message: 'ipSpace is immutable; delete the IPPrefixClaim',
    field: 'spec.ipSpace',
  },
  {
    name: 'connection of a prefix claim changed',
    kind: 'IPPrefixClaim',
    from: ipp(),
    spec: ipp({ connectionRef: { kind: 'VCDConnection', name: 'globex' } }),
    message: 'connectionRef is immutable; delete the IPPrefixClaim and create a new one to use another connection',
    field: 'spec.connectionRef',
  },
  {
    name: 'org of a prefix claim removed',
    kind: 'IPPrefixClaim',
    from: ipp({ connectionRef: provider, org: { name: 'acme' } }),
    spec: ipp({ connectionRef: provider }),
    message: 'org is immutable; delete the IPPrefixClaim',
    field: 'spec.org',
  },

  // --- IPSpace ---
  {
    name: 'Private without org',
    kind: 'IPSpace',
    spec: space({ type: 'Private' }),
    message: 'org is required when type is Private: name the organization that owns the IP Space',
    field: 'spec.org',
  },
  {
    name: 'Public with org',
    kind: 'IPSpace',
    spec: space({ org: { name: 'acme' } }),
    message: 'org applies only to type Private; for Public and SharedServices IP Spaces set per-org quotas in orgQuotas instead',
    field: 'spec.org',
  },
  {
    name: 'unknown type',
    kind: 'IPSpace',
    spec: space({ type: 'Shared' }),
    message: { apiserver: 'supported values: "Public", "Private", "SharedServices"', operator: 'must be one of Public, Private, SharedServices' },
    field: 'spec.type',
  },
  {
    name: 'malformed internal scope',
    kind: 'IPSpace',
    spec: space({ internalScope: ['203.0.113.0/33'] }),
    message: CIDR_MESSAGE,
    field: 'spec.internalScope[0]',
  },
  {
    name: 'internal scope of two IP families',
    kind: 'IPSpace',
    spec: space({ internalScope: ['203.0.113.0/24', '2001:db8::/64'], prefixSequences: undefined }),
    message: 'internalScope CIDRs must all be of one IP family: an IP Space is IPv4 or IPv6, never both',
    field: 'spec.internalScope',
  },
  {
    name: 'six internal scopes',
    kind: 'IPSpace',
    spec: space({ internalScope: ['10.0.0.0/24', '10.0.1.0/24', '10.0.2.0/24', '10.0.3.0/24', '10.0.4.0/24', '203.0.113.0/24'], prefixSequences: undefined }),
    message: { apiserver: 'spec.internalScope: Too many: 6: must have at most 5 items', operator: 'must NOT have more than 5 items' },
    field: 'spec.internalScope',
  },
  {
    name: 'external scope of another family',
    kind: 'IPSpace',
    spec: space({ externalScope: '::/0' }),
    message: 'externalScope must be of the same IP family as internalScope',
    field: 'spec.externalScope',
  },
  {
    name: 'range outside the internal scope',
    kind: 'IPSpace',
    spec: space({ ipRanges: [{ start: '192.0.2.10', end: '192.0.2.20' }] }),
    message: 'every IP range must lie inside one internalScope CIDR',
    field: 'spec.ipRanges',
  },
  {
    name: 'range spanning two scopes',
    kind: 'IPSpace',
    spec: space({ internalScope: ['10.0.0.0/24', '10.0.1.0/24'], ipRanges: [{ start: '10.0.0.250', end: '10.0.1.5' }], prefixSequences: undefined }),
    message: 'every IP range must lie inside one internalScope CIDR',
    field: 'spec.ipRanges',
  },
  {
    name: 'range start after end',
    kind: 'IPSpace',
    spec: space({ ipRanges: [{ start: '203.0.113.200', end: '203.0.113.20' }] }),
    message: 'start must not come after end',
    field: 'spec.ipRanges[0]',
  },
  {
    name: 'malformed range start',
    kind: 'IPSpace',
    spec: space({ ipRanges: [{ start: '203.0.113', end: '203.0.113.20' }] }),
    message: IP_MESSAGE,
    field: 'spec.ipRanges[0].start',
  },
  {
    name: 'range ends of two families',
    kind: 'IPSpace',
    spec: space({ ipRanges: [{ start: '203.0.113.10', end: '2001:db8::10' }] }),
    message: 'start and end must be of the same IP family',
    field: 'spec.ipRanges[0]',
  },
  {
    name: 'prefix sequence outside the internal scope',
    kind: 'IPSpace',
    spec: space({ prefixSequences: [{ startCIDR: '192.0.2.0/28', count: 1 }] }),
    message: 'every prefix sequence must start inside an internalScope CIDR',
    field: 'spec.prefixSequences',
  },
  {
    name: 'prefix sequence start with host bits',
    kind: 'IPSpace',
    spec: space({ prefixSequences: [{ startCIDR: '198.51.100.1/28', count: 1 }] }),
    message: 'must be a network address with the host bits zero',
    field: 'spec.prefixSequences[0].startCIDR',
  },
  {
    name: 'quota below -1',
    kind: 'IPSpace',
    spec: space({ defaultQuotas: { floatingIPs: -2 } }),
    message: { apiserver: 'spec.defaultQuotas.floatingIPs in body should be greater than or equal to -1', operator: 'must be >= -1' },
    field: 'spec.defaultQuotas.floatingIPs',
  },
  {
    name: 'default prefix quota for a length without sequences',
    kind: 'IPSpace',
    spec: space({ defaultQuotas: { prefixes: [{ prefixLength: 29, quota: 1 }] } }),
    message: 'each defaultQuotas.prefixes entry must name the prefix length of a prefixSequences entry',
    field: 'spec.defaultQuotas.prefixes',
  },
  {
    name: 'orgQuotas on a Private IP Space',
    kind: 'IPSpace',
    spec: space({ type: 'Private', org: { name: 'acme' }, orgQuotas: [{ org: { name: 'acme' }, floatingIPs: 3 }] }),
    message: 'orgQuotas apply only to Public and SharedServices IP Spaces',
    field: 'spec.orgQuotas',
  },
  {
    name: 'one org twice in orgQuotas',
    kind: 'IPSpace',
    spec: space({
      orgQuotas: [
        { org: { name: 'acme' }, floatingIPs: 3 },
        { org: { name: 'acme' }, floatingIPs: 4 },
      ],
    }),
    message: 'orgQuotas must name each organization once',
    field: 'spec.orgQuotas',
  },
  {
    name: 'two uplinks with one name',
    kind: 'IPSpace',
    spec: space({
      uplinks: [
        { name: 'up', providerGateway: { name: 'pg-public' } },
        { name: 'up', providerGateway: { name: 'pg-other' } },
      ],
    }),
    message: { apiserver: 'spec.uplinks[1]: Duplicate value: {"name":"up"}', operator: 'duplicate entry for name ["up"]' },
    field: 'spec.uplinks[1]',
  },
  {
    name: 'uplink gateway by both name and id',
    kind: 'IPSpace',
    spec: space({ uplinks: [{ name: 'up', providerGateway: { name: 'pg-public', id: `urn:vcloud:network:${UUID}` } }] }),
    message: 'set exactly one of name or id of the provider gateway',
    field: 'spec.uplinks[0].providerGateway',
  },
  {
    name: 'type Public changed to Private',
    kind: 'IPSpace',
    from: space(),
    spec: space({ type: 'Private', org: { name: 'acme' } }),
    message: 'type is immutable, except that SharedServices may change to Public',
    field: 'spec.type',
  },
  {
    name: 'id added after creation',
    kind: 'IPSpace',
    from: space(),
    spec: space({ id: IP_SPACE_ID }),
    message: 'id is immutable: it can only be set when the IPSpace is created, to adopt an existing IP Space',
    field: 'spec.id',
  },
  {
    name: 'connection of an IP Space changed',
    kind: 'IPSpace',
    from: space(),
    spec: space({ connectionRef: { kind: 'ClusterVCDConnection', name: 'other' } }),
    message: 'connectionRef is immutable; create a new IPSpace to manage it through another connection',
    field: 'spec.connectionRef',
  },
  {
    name: 'org of a Private IP Space changed',
    kind: 'IPSpace',
    from: space({ type: 'Private', org: { name: 'acme' } }),
    spec: space({ type: 'Private', org: { name: 'globex' } }),
    message: 'org is immutable',
    field: 'spec.org',
  },

  // --- connections ---
  {
    name: 'plain http URL',
    kind: 'VCDConnection',
    spec: conn({ url: 'http://vcd.example.com' }),
    message: 'must be an https URL such as https://vcd.example.com (no query or fragment)',
    field: 'spec.url',
  },
  {
    name: 'user name and password in the URL',
    kind: 'VCDConnection',
    spec: conn({ url: 'https://admin:s3cret-pw@vcd.example.com' }),
    message: USERINFO_MESSAGE,
    field: 'spec.url',
  },
  {
    name: 'user name alone in the URL',
    kind: 'VCDConnection',
    spec: conn({ url: 'https://admin@vcd.example.com:8443/' }),
    message: USERINFO_MESSAGE,
    field: 'spec.url',
  },
  {
    name: 'caBundle that is not PEM',
    kind: 'VCDConnection',
    spec: conn({ caBundle: 'not a certificate' }),
    message: 'must hold one or more PEM certificates',
    field: 'spec.caBundle',
  },
  {
    name: 'caBundle together with insecureSkipTLSVerify',
    kind: 'VCDConnection',
    spec: conn({ caBundle: PEM, insecureSkipTLSVerify: true }),
    message: 'set caBundle or insecureSkipTLSVerify, not both',
    field: 'spec',
  },
  {
    name: 'API version pin that is not a version',
    kind: 'VCDConnection',
    spec: conn({ apiVersion: 'v37' }),
    message: { apiserver: 'spec.apiVersion: Invalid value: "v37"', operator: 'must match pattern' },
    field: 'spec.apiVersion',
  },
  {
    name: 'connection without a Secret',
    kind: 'VCDConnection',
    spec: conn({ credentialsSecretRef: undefined }),
    message: { apiserver: 'spec.credentialsSecretRef: Required value', operator: 'is required' },
    field: 'spec.credentialsSecretRef',
  },
  {
    name: 'cluster connection with a plain http URL',
    kind: 'ClusterVCDConnection',
    spec: conn({ org: 'System', url: 'http://vcd.example.com' }),
    message: 'must be an https URL',
    field: 'spec.url',
  },
  {
    name: 'cluster connection with a password in the URL',
    kind: 'ClusterVCDConnection',
    spec: conn({ org: 'System', url: 'https://administrator%40system:pa%3Ass@vcd.example.com/' }),
    message: USERINFO_MESSAGE,
    field: 'spec.url',
  },
  {
    name: 'allowedNamespaces In without values',
    kind: 'ClusterVCDConnection',
    spec: conn({ org: 'System', allowedNamespaces: { matchExpressions: [{ key: 'team', operator: 'In' }] } }),
    message: 'values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist',
    field: 'spec.allowedNamespaces.matchExpressions[0]',
  },
  {
    name: 'allowedNamespaces Exists with values',
    kind: 'ClusterVCDConnection',
    spec: conn({ org: 'System', allowedNamespaces: { matchExpressions: [{ key: 'team', operator: 'Exists', values: ['a'] }] } }),
    message: 'values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist',
    field: 'spec.allowedNamespaces.matchExpressions[0]',
  },
  {
    name: 'tenant binding without orgs',
    kind: 'ClusterVCDConnection',
    spec: conn({ org: 'System', tenants: [{ namespaceSelector: { matchLabels: { team: 'a' } }, orgs: [] }] }),
    message: {
      apiserver: 'spec.tenants[0].orgs: Invalid value: 0: spec.tenants[0].orgs in body should have at least 1 items',
      operator: 'must NOT have fewer than 1 items',
    },
    field: 'spec.tenants[0].orgs',
  },
  {
    name: 'tenant binding without a namespace selector',
    kind: 'ClusterVCDConnection',
    spec: conn({ org: 'System', tenants: [{ orgs: ['acme'] }] }),
    message: { apiserver: 'spec.tenants[0].namespaceSelector: Required value', operator: 'is required' },
    field: 'spec.tenants[0].namespaceSelector',
  },
  {
    name: 'tenant binding with an empty org name',
    kind: 'ClusterVCDConnection',
    spec: conn({ org: 'System', tenants: [{ namespaceSelector: {}, orgs: ['acme', ''] }] }),
    message: { apiserver: 'spec.tenants[0].orgs[1] in body should be at least 1 chars long', operator: 'must NOT have fewer than 1 characters' },
    field: 'spec.tenants[0].orgs[1]',
  },
  {
    name: 'tenant binding selector In without values',
    kind: 'ClusterVCDConnection',
    spec: conn({ org: 'System', tenants: [{ namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'In' }] }, orgs: ['acme'] }] }),
    message: 'values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist',
    field: 'spec.tenants[0].namespaceSelector.matchExpressions[0]',
  },
  {
    name: 'tenant binding selector with a key that is not a label key',
    kind: 'ClusterVCDConnection',
    spec: conn({ org: 'System', tenants: [{ namespaceSelector: { matchExpressions: [{ key: 'team name', operator: 'DoesNotExist' }] }, orgs: ['acme'] }] }),
    message: LABEL_KEY,
    field: 'spec.tenants[0].namespaceSelector.matchExpressions[0].key',
  },
  {
    name: 'allowedNamespaces expression key that is not a label key',
    kind: 'ClusterVCDConnection',
    spec: conn({ org: 'System', allowedNamespaces: { matchExpressions: [{ key: 'not a valid key!', operator: 'Exists' }] } }),
    message: LABEL_KEY,
    field: 'spec.allowedNamespaces.matchExpressions[0].key',
  },
  {
    name: 'allowedNamespaces expression key with a name over 63 characters',
    kind: 'ClusterVCDConnection',
    spec: conn({ org: 'System', allowedNamespaces: { matchExpressions: [{ key: `example.com/${'n'.repeat(64)}`, operator: 'Exists' }] } }),
    message: LABEL_KEY,
    field: 'spec.allowedNamespaces.matchExpressions[0].key',
  },
  {
    name: 'allowedNamespaces expression key with an upper-case prefix',
    kind: 'ClusterVCDConnection',
    spec: conn({ org: 'System', allowedNamespaces: { matchExpressions: [{ key: 'Example.com/team', operator: 'Exists' }] } }),
    message: LABEL_KEY,
    field: 'spec.allowedNamespaces.matchExpressions[0].key',
  },
  {
    name: 'allowedNamespaces expression key with a prefix over 253 characters',
    kind: 'ClusterVCDConnection',
    spec: conn({
      org: 'System',
      allowedNamespaces: {
        matchExpressions: [{ key: `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.example.com/team`, operator: 'Exists' }],
      },
    }),
    message: LABEL_KEY,
    field: 'spec.allowedNamespaces.matchExpressions[0].key',
  },
  {
    name: 'allowedNamespaces expression value that is not a label value',
    kind: 'ClusterVCDConnection',
    spec: conn({ org: 'System', allowedNamespaces: { matchExpressions: [{ key: 'team', operator: 'In', values: ['a', '-a'] }] } }),
    message: LABEL_VALUE,
    field: 'spec.allowedNamespaces.matchExpressions[0].values[1]',
  },
  {
    name: 'allowedNamespaces matchLabels key that is not a label key',
    kind: 'ClusterVCDConnection',
    spec: conn({ org: 'System', allowedNamespaces: { matchLabels: { 'not a valid key!': 'a' } } }),
    message: `every key ${LABEL_KEY}`,
    field: 'spec.allowedNamespaces.matchLabels',
  },
  {
    name: 'allowedNamespaces matchLabels value that is not a label value',
    kind: 'ClusterVCDConnection',
    spec: conn({ org: 'System', allowedNamespaces: { matchLabels: { team: 'a b' } } }),
    message: LABEL_VALUE,
    field: 'spec.allowedNamespaces.matchLabels.team',
  },
  {
    name: 'NSX connection with credentials in the URL',
    kind: 'NSXConnection',
    spec: nsx({ url: 'https://admin:secret@nsx.example.com' }),
    message: 'must be an https URL such as https://nsx.example.com, without user:password@',
    field: 'spec.url',
  },
  {
    name: 'NSX connection with both a CA bundle and insecureSkipTLSVerify',
    kind: 'NSXConnection',
    spec: nsx({ caBundle: PEM, insecureSkipTLSVerify: true }),
    message: 'set caBundle or insecureSkipTLSVerify, not both',
    field: 'spec',
  },
  {
    name: 'static route next hop with both scopes',
    kind: 'EdgeStaticRoute',
    spec: esr({ nextHops: [{ ipAddress: '172.16.50.1', scope: { externalNetwork: 'seg-transit', network: 'acme-web' } }] }),
    message: 'set exactly one of network or externalNetwork',
    field: 'spec.nextHops[0].scope',
  },
  {
    name: 'static route with an IPv4 next hop for an IPv6 destination',
    kind: 'EdgeStaticRoute',
    spec: esr({ destination: '::/0' }),
    message: 'every next hop must be of the IP family of destination',
    field: 'spec.nextHops',
  },
  {
    name: 'static route with six next hops',
    kind: 'EdgeStaticRoute',
    spec: esr({ nextHops: Array.from({ length: 6 }, (_, i) => ({ ipAddress: `10.0.0.${i + 1}` })) }),
    message: { apiserver: 'spec.nextHops: Too many: 6: must have at most 5 items', operator: 'must NOT have more than 5 items' },
    field: 'spec.nextHops',
  },
  {
    name: 'static route destination with host bits',
    kind: 'EdgeStaticRoute',
    spec: esr({ destination: '10.0.0.1/8' }),
    message: 'must be a network address with the host bits zero',
    field: 'spec.destination',
  },
  {
    name: 'static route edge by name and id',
    kind: 'EdgeStaticRoute',
    spec: esr({ edgeGateway: { name: 'acme-edge', id: `urn:vcloud:gateway:${UUID}` } }),
    message: 'set exactly one of name or id of the edge gateway',
    field: 'spec.edgeGateway',
  },
  {
    name: 'static route moved to another edge',
    kind: 'EdgeStaticRoute',
    from: esr(),
    spec: esr({ edgeGateway: { name: 'other-edge' } }),
    message: 'edgeGateway is immutable; delete the EdgeStaticRoute and create a new one for another edge',
    field: 'spec.edgeGateway',
  },
  {
    name: 'static route connection changed',
    kind: 'EdgeStaticRoute',
    from: esr(),
    spec: esr({ connectionRef: provider }),
    message: 'connectionRef is immutable; delete the EdgeStaticRoute and create a new one to use another connection',
    field: 'spec.connectionRef',
  },
  {
    name: 'static route org added',
    kind: 'EdgeStaticRoute',
    from: esr({ connectionRef: provider }),
    spec: esr({ connectionRef: provider, org: { name: 'acme' } }),
    message: 'org is immutable; delete the EdgeStaticRoute and create a new one for another org',
    field: 'spec.org',
  },
  {
    name: 'Tier-0 advertisement naming both a provider gateway and a Tier-0',
    kind: 'IPSpace',
    spec: space({ tier0Advertisement: { nsxConnectionRef: { name: 'nsx' }, providerGateway: { name: 'pg-public' }, tier0: 'pg-public-t0' } }),
    message: 'set exactly one of providerGateway or tier0',
    field: 'spec.tier0Advertisement',
  },
  {
    name: 'uplink moved to another network',
    kind: 'EdgeGatewayUplink',
    from: egu(),
    spec: egu({ externalNetwork: { name: 'seg-transit' } }),
    message: 'externalNetwork is immutable; delete the EdgeGatewayUplink and create a new one',
    field: 'spec.externalNetwork',
  },
  {
    name: 'uplink moved to another edge',
    kind: 'EdgeGatewayUplink',
    from: egu(),
    spec: egu({ edgeGateway: { name: 'globex-edge' } }),
    message: 'edgeGateway is immutable; delete the EdgeGatewayUplink and create a new one',
    field: 'spec.edgeGateway',
  },
  {
    name: 'uplink connection changed',
    kind: 'EdgeGatewayUplink',
    from: egu(),
    spec: egu({ connectionRef: { kind: 'ClusterVCDConnection', name: 'other' } }),
    message: 'connectionRef is immutable; delete the EdgeGatewayUplink and create a new one',
    field: 'spec.connectionRef',
  },
  {
    name: 'uplink org set later',
    kind: 'EdgeGatewayUplink',
    from: egu(),
    spec: egu({ org: { name: 'acme' } }),
    message: 'org is immutable; delete the EdgeGatewayUplink and create a new one',
    field: 'spec.org',
  },
  {
    name: 'uplink external network by name and id',
    kind: 'EdgeGatewayUplink',
    spec: egu({ externalNetwork: { name: 'seg-colo', id: `urn:vcloud:network:${UUID}` } }),
    message: 'set exactly one of name or id of the external network',
    field: 'spec.externalNetwork',
  },
];

export const accepted: AcceptCase[] = [
  {
    name: 'traffic meter of every edge, default points',
    kind: 'TrafficMeter',
    spec: { nsxConnectionRef: { name: 'nsx' }, vcdConnectionRef: { name: 'provider' } },
  },
  {
    name: 'traffic meter of two orgs at every point, every 30 s',
    kind: 'TrafficMeter',
    spec: {
      nsxConnectionRef: { name: 'nsx' },
      vcdConnectionRef: { name: 'provider' },
      orgs: ['acme', 'globex'],
      meterPoints: ['Tier0Uplink', 'Tier0Downlink', 'Tier1ServiceInterface'],
      intervalSeconds: 30,
    },
  },
  { name: 'two-vCenter mesh', kind: 'VCenterTrust', spec: trust() },
  {
    name: 'mesh with CA bundles, extra roots and pruning',
    kind: 'VCenterTrust',
    spec: trust({
      members: [member('vc-a', { caBundle: PEM }), member('vc-b', { url: 'https://vc-b.example.com:8443/' }), member('vc-c')],
      extraRoots: PEM,
      prune: true,
    }),
  },
  { name: 'minimal firewall rule (any to any)', kind: 'EdgeFirewallRule', spec: efw() },
  {
    name: 'firewall rule with every field',
    kind: 'EdgeFirewallRule',
    spec: efw({
      connectionRef: provider,
      org: { name: 'acme' },
      action: 'Reject',
      direction: 'In',
      ipProtocol: 'IPv4',
      sources: {
        addresses: ['203.0.113.10', '198.51.100.0/24', '10.0.0.10-10.0.0.20', '2001:db8::1-2001:db8::9'],
        groups: [{ name: 'web' }, { id: GROUP_ID }],
      },
      destinations: { addresses: Array.from({ length: 128 }, (_, i) => `10.1.0.${i}`), groups: Array.from({ length: 127 }, (_, i) => ({ name: `g${i}` })) },
      services: { ports: [{ protocol: 'TCP', destinationPorts: ['443', '8080-8090', '1-65535'] }, { protocol: 'ICMPv4' }], profiles: [{ name: 'HTTPS' }] },
      appliedTo: 'seg-transit',
      logging: true,
      enabled: false,
      comments: 'x'.repeat(1024),
      priority: 10,
      reclaimPolicy: 'Retain',
    }),
  },
  {
    name: 'firewall rule priority and action changed',
    kind: 'EdgeFirewallRule',
    from: efw(),
    spec: efw({ action: 'Drop', priority: 5, appliedTo: 'acme-web' }),
  },
  {
    name: 'segment uplink with extra addresses',
    kind: 'EdgeGatewayUplink',
    spec: egu({ subnet: { gateway: '172.16.60.1', prefixLength: 24, extraAddresses: 4 }, connected: false }),
  },
  {
    name: 'IP Space advertised from a Tier-0 by name',
    kind: 'IPSpace',
    spec: space({ tier0Advertisement: { nsxConnectionRef: { name: 'nsx' }, tier0: 'pg-public-t0' } }),
  },
  { name: 'default route through a segment', kind: 'EdgeStaticRoute', spec: esr() },
  {
    name: 'IPv6 default route, no scope, admin distance 10',
    kind: 'EdgeStaticRoute',
    spec: esr({ destination: '::/0', nextHops: [{ ipAddress: '2001:db8::1', adminDistance: 10 }] }),
  },
  { name: 'NSX connection with a CA bundle', kind: 'NSXConnection', spec: nsx({ caBundle: PEM }) },
  { name: 'minimal floating IP claim', kind: 'FloatingIPClaim', spec: fip() },
  {
    name: 'specific IPv4 address, IP Space by id, Retain',
    kind: 'FloatingIPClaim',
    spec: fip({ ipSpace: { id: IP_SPACE_ID }, address: '203.0.113.10', reclaimPolicy: 'Retain' }),
  },
  { name: 'specific IPv6 address', kind: 'FloatingIPClaim', spec: fip({ address: '2001:db8::10' }) },
  { name: 'provider claiming for an org by id', kind: 'FloatingIPClaim', spec: fip({ connectionRef: provider, org: { id: ORG_ID } }) },
  { name: 'reclaimPolicy changed (it is mutable)', kind: 'FloatingIPClaim', from: fip(), spec: fip({ reclaimPolicy: 'Retain' }) },
  {
    name: 'unchanged update of a claim with address and org',
    kind: 'FloatingIPClaim',
    from: fip({ connectionRef: provider, address: '203.0.113.10', org: { name: 'acme' } }),
    spec: fip({ connectionRef: provider, address: '203.0.113.10', org: { name: 'acme' } }),
  },
  { name: 'prefix by length', kind: 'IPPrefixClaim', spec: ipp() },
  { name: 'prefix by CIDR', kind: 'IPPrefixClaim', spec: ipp({ prefixLength: undefined, cidr: '198.51.100.16/28' }) },
  { name: 'prefix by CIDR with the matching length', kind: 'IPPrefixClaim', spec: ipp({ cidr: '198.51.100.16/28' }) },
  { name: 'IPv6 prefix', kind: 'IPPrefixClaim', spec: ipp({ prefixLength: undefined, cidr: '2001:db8:0:10::/64' }) },
  {
    name: 'Public IP Space with everything',
    kind: 'IPSpace',
    spec: space({
      name: 'public-ips-2',
      description: 'internet addresses',
      externalScope: '0.0.0.0/0',
      routeAdvertisementEnabled: true,
      defaultQuotas: { floatingIPs: 2, prefixes: [{ prefixLength: 28, quota: 1 }] },
      gatewayServiceDefaults: { firewallRule: true, noSnatRule: false, snatRule: true },
      uplinks: [{ name: 'pg-public-uplink', providerGateway: { name: 'pg-public' }, description: 'to the internet' }],
      orgQuotas: [
        { org: { name: 'acme' }, floatingIPs: 10, prefixes: [{ prefixLength: 28, quota: 2 }] },
        { org: { id: ORG_ID }, floatingIPs: -1 },
      ],
      deletionPolicy: 'Orphan',
    }),
  },
  {
    name: 'Private IP Space',
    kind: 'IPSpace',
    spec: space({
      type: 'Private',
      org: { name: 'acme' },
      internalScope: ['10.20.0.0/16'],
      ipRanges: [{ start: '10.20.0.10', end: '10.20.0.250' }],
      prefixSequences: [{ startCIDR: '10.20.8.0/24', count: 4 }],
    }),
  },
  {
    name: 'Private IPv6 IP Space',
    kind: 'IPSpace',
    spec: space({
      type: 'Private',
      org: { name: 'acme' },
      internalScope: ['2001:db8::/48'],
      ipRanges: [{ start: '2001:db8::10', end: '2001:db8::ff' }],
      prefixSequences: [{ startCIDR: '2001:db8:0:100::/64', count: 16 }],
    }),
  },
  { name: 'single-address range', kind: 'IPSpace', spec: space({ ipRanges: [{ start: '203.0.113.10', end: '203.0.113.10' }] }) },
  { name: 'adopting by id', kind: 'IPSpace', spec: space({ id: IP_SPACE_ID }) },
  { name: 'SharedServices changed to Public', kind: 'IPSpace', from: space({ type: 'SharedServices' }), spec: space() },
  {
    name: 'ranges, name and quotas changed',
    kind: 'IPSpace',
    from: space(),
    spec: space({ name: 'renamed', ipRanges: [{ start: '203.0.113.20', end: '203.0.113.30' }], defaultQuotas: { floatingIPs: 5 } }),
  },
  { name: 'minimal connection', kind: 'VCDConnection', spec: conn() },
  {
    name: 'connection with CA bundle and API version pin',
    kind: 'VCDConnection',
    spec: conn({ url: 'https://127.0.0.1:8443/', caBundle: PEM, apiVersion: '37.2' }),
  },
  {
    name: 'cluster connection with qualified keys, 63-character names and an empty value',
    kind: 'ClusterVCDConnection',
    spec: conn({
      org: 'System',
      allowedNamespaces: {
        matchLabels: { 'vcd-operator.io/tenant': '', [`example.com/${'n'.repeat(63)}`]: 'v'.repeat(63) },
        matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'a.b_c-d'] }],
      },
    }),
  },
  { name: 'connection URL with an @ in its path', kind: 'VCDConnection', spec: conn({ url: 'https://vcd.example.com/tenant/@acme' }) },
  { name: 'cluster connection allowed everywhere', kind: 'ClusterVCDConnection', spec: conn({ org: 'System', allowedNamespaces: {} }) },
  {
    name: 'cluster connection with expressions',
    kind: 'ClusterVCDConnection',
    spec: conn({
      org: 'System',
      allowedNamespaces: {
        matchLabels: { tier: 'tenant' },
        matchExpressions: [
          { key: 'team', operator: 'In', values: ['a', 'b'] },
          { key: 'frozen', operator: 'DoesNotExist' },
        ],
      },
    }),
  },
  {
    name: 'cluster connection binding namespaces to orgs',
    kind: 'ClusterVCDConnection',
    spec: conn({
      org: 'System',
      allowedNamespaces: { matchExpressions: [{ key: 'vcd-operator.io/tenant', operator: 'Exists' }] },
      tenants: [
        { namespaceSelector: { matchLabels: { 'vcd-operator.io/tenant': 'acme' } }, orgs: ['acme'] },
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'platform' } }, orgs: ['System', 'acme', 'globex'] },
      ],
    }),
  },
  {
    name: 'cluster connection binding no namespace to any org',
    kind: 'ClusterVCDConnection',
    spec: conn({ org: 'System', allowedNamespaces: {}, tenants: [] }),
  },
];

/**
 * Specs the apiserver admits (CEL cannot or, within its cost budget, does not check them) that
 * the operator refuses as InvalidSpec before writing anything to VCD.
 */
export const operatorOnly: RejectCase[] = [
  {
    name: 'reversed IPv6 range',
    kind: 'EdgeFirewallRule',
    spec: efw({ sources: { addresses: ['2001:db8::9-2001:db8::1'] } }),
    message: ADDRESS_MESSAGE_FULL,
    field: 'spec.sources.addresses[0]',
  },
  {
    name: 'uplink primary IP outside its subnet',
    kind: 'EdgeGatewayUplink',
    spec: egu({ subnet: { gateway: '172.16.60.1', prefixLength: 24, primaryIP: '172.16.61.10' } }),
    message: 'primaryIP must lie in the subnet given by gateway and prefixLength',
    field: 'spec.subnet',
  },
  {
    name: 'IPv6 range start after end',
    kind: 'IPSpace',
    spec: space({
      type: 'Private',
      org: { name: 'acme' },
      internalScope: ['2001:db8::/48'],
      ipRanges: [{ start: '2001:db8::ff', end: '2001:db8::10' }],
      prefixSequences: undefined,
    }),
    message: 'start must not come after end',
    field: 'spec.ipRanges[0]',
  },
  {
    name: 'prefix sequence running past its scope',
    kind: 'IPSpace',
    spec: space({ prefixSequences: [{ startCIDR: '198.51.100.240/28', count: 2 }] }),
    message: 'every prefix sequence must fit inside one internalScope CIDR: lower count or widen the scope',
    field: 'spec.prefixSequences',
  },
  {
    name: 'overlapping ranges',
    kind: 'IPSpace',
    spec: space({
      ipRanges: [
        { start: '203.0.113.10', end: '203.0.113.50' },
        { start: '203.0.113.50', end: '203.0.113.60' },
      ],
    }),
    message: 'IP ranges must not overlap each other',
    field: 'spec.ipRanges',
  },
  {
    name: 'prefix sequence overlapping a range',
    kind: 'IPSpace',
    spec: space({ prefixSequences: [{ startCIDR: '203.0.113.0/28', count: 1 }] }),
    message: 'prefix sequences must not overlap each other or the IP ranges',
    field: 'spec.prefixSequences',
  },
  {
    name: 'org prefix quota for a length without sequences',
    kind: 'IPSpace',
    spec: space({ orgQuotas: [{ org: { name: 'acme' }, prefixes: [{ prefixLength: 24, quota: 1 }] }] }),
    message: 'each orgQuotas[].prefixes entry must name the prefix length of a prefixSequences entry',
    field: 'spec.orgQuotas',
  },
];

/** The spec without the keys a case set to undefined (so `fip({ address: undefined })` drops it). */
export function clean(spec: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(spec)) as Record<string, unknown>;
}

export function operatorMessage(m: string | Messages): string {
  return typeof m === 'string' ? m : m.operator;
}

export function apiserverMessage(m: string | Messages): string {
  return typeof m === 'string' ? m : m.apiserver;
}
