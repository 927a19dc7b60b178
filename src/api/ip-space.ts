// IPSpace: a VCD IP Space (VCD 10.4.1+, API 37.1) with its ranges, prefix sequences, quotas,
// uplinks to provider gateways and per-org custom quotas. Created by the operator, or adopted
// explicitly through spec.id; never found by name guess.
import Type from 'typebox';
import {
  Bool,
  CIDRString,
  CloudRef,
  Conditions,
  ConnectionRef,
  DeletionPolicy,
  Int,
  IPString,
  List,
  Obj,
  ObservedGeneration,
  Quota,
  Str,
  StrEnum,
  urnPattern,
} from './common.ts';
import { bitLength, cidrContainsCIDR, cidrContainsIP, cidrRange, compareIP, isCIDR, parseCIDR, parseIP, type CIDRBlock, type IPAddress } from './ip.ts';
import { defineKind, objectSchema, readyColumn, tailColumns } from './kind.ts';
import { cel, semantic, withRules } from './rules.ts';

export const IPSpaceTypes = ['Public', 'Private', 'SharedServices'] as const;
export type IPSpaceType = (typeof IPSpaceTypes)[number];

/** The VCD spelling of each type. */
export const VCD_IP_SPACE_TYPE: Record<IPSpaceType, 'PUBLIC' | 'PRIVATE' | 'SHARED_SERVICES'> = {
  Public: 'PUBLIC',
  Private: 'PRIVATE',
  SharedServices: 'SHARED_SERVICES',
};

// IPv4 as an integer in CEL, for range order (the CEL IP library has no ordering).
const v4 = (x: string) => [0, 1, 2, 3].map((i) => `int(${x}.split('.')[${i}]) * ${256 ** (3 - i)}`).join(' + ');

const IPRange = withRules(
  Obj(
    {
      start: IPString('First address of the range, e.g. 203.0.113.10.'),
      end: IPString('Last address of the range (inclusive), e.g. 203.0.113.250.'),
    },
    'A range of floating IPs, both ends inclusive.',
  ),
  [
    cel('!isIP(self.start) || !isIP(self.end) || ip(self.start).family() == ip(self.end).family()', 'start and end must be of the same IP family', (s) => {
      const [a, b] = [parseIP(s.start), parseIP(s.end)];
      return !a || !b || a.family === b.family;
    }),
    // CEL compares IPv4 only; the operator's twin also catches a reversed IPv6 range (InvalidSpec).
    cel(
      `!isIP(self.start) || !isIP(self.end) || ip(self.start).family() != 4 || ip(self.end).family() != 4 || ${v4('self.start')} <= ${v4('self.end')}`,
      'start must not come after end',
      (s) => {
        const [a, b] = [parseIP(s.start), parseIP(s.end)];
        return !a || !b || a.family !== b.family || compareIP(a, b) <= 0;
      },
    ),
  ],
);

const PrefixSequence = Obj(
  {
    startCIDR: CIDRString('First prefix of the sequence as a network address; its length is the length of every prefix in it, e.g. 198.51.100.0/28.', {
      networkAddress: true,
    }),
    count: Int('How many consecutive prefixes of that length the sequence holds.', { minimum: 1, maximum: 65536 }),
  },
  'Consecutive prefixes of one length, handed out whole by IPPrefixClaims. Sequences of the same length form one pool.',
);

const PrefixQuota = Obj(
  {
    prefixLength: Int('The prefix length the quota applies to.', { minimum: 1, maximum: 128 }),
    quota: Quota('How many prefixes of that length each org may hold.'),
  },
  'A quota for prefixes of one length.',
);

const PrefixQuotas = List(PrefixQuota, 'Quotas per prefix length.', {
  maxItems: 16,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['prefixLength'],
});

const Quotas = Obj(
  {
    floatingIPs: Type.Optional(Quota('How many floating IPs each org may hold.')),
    prefixes: Type.Optional(PrefixQuotas),
  },
  'Quotas. Unset values take the VCD defaults: 1 floating IP and 0 prefixes for Public and SharedServices, unlimited for Private.',
);

const OrgRef = (description: string) => CloudRef({ what: 'organization', urnType: 'org', example: 'acme' }, description);

const Uplink = Obj(
  {
    name: Str('Name of the uplink, unique on its provider gateway; tenants see it.', { minLength: 1, maxLength: 128 }),
    providerGateway: CloudRef(
      { what: 'provider gateway', urnType: 'network', example: 'pg-public' },
      'The provider gateway (a Tier-0-backed external network with IP Spaces enabled) to connect the IP Space to.',
    ),
    description: Type.Optional(Str('Description of the uplink in VCD.', { maxLength: 1024 })),
  },
  'A connection of this IP Space to a provider gateway, so edge gateways behind it can use its addresses.',
);

const OrgQuota = Obj(
  {
    org: OrgRef('The organization the quotas apply to. VCD assigns it once the org has an edge gateway on a provider gateway this IP Space is uplinked to.'),
    floatingIPs: Type.Optional(Quota('How many floating IPs this org may hold; unset means the default.')),
    prefixes: Type.Optional(PrefixQuotas),
  },
  'Custom quotas for one organization, overriding defaultQuotas.',
);

const GatewayServiceDefaults = Obj(
  {
    firewallRule: Type.Optional(Bool('Create a default firewall rule on edge gateways that use this IP Space.')),
    noSnatRule: Type.Optional(Bool('Create a default NO SNAT rule on edge gateways that use this IP Space.')),
    snatRule: Type.Optional(Bool('Create a default SNAT rule on edge gateways that use this IP Space.')),
  },
  'Services VCD configures by default on edge gateways connected to this IP Space. Needs VCD 10.5 (API 38.0) or later.',
);

const Tier0Advertisement = withRules(
  Obj(
    {
      nsxConnectionRef: Obj(
        { name: Str('Name of the NSXConnection.', { minLength: 1, maxLength: 253 }) },
        'The NSXConnection (cluster-scoped) to the NSX Manager behind the provider gateway.',
      ),
      providerGateway: Type.Optional(
        CloudRef(
          { what: 'provider gateway', urnType: 'network', example: 'pg-public' },
          "The VCD provider gateway whose Tier-0 (or VRF) advertises the IP Space, looked up through this IPSpace's connection.",
        ),
      ),
      tier0: Type.Optional(
        Str('The Tier-0 gateway or VRF in NSX, by id or display name, when it is not looked up through a provider gateway.', { minLength: 1, maxLength: 255 }),
      ),
    },
    "Advertise this IP Space's internal scope onward from the provider gateway's Tier-0 or VRF (VCD advertises it from the edge, not from the Tier-0). The operator keeps one prefix list per IP Space, one route map and one redistribution rule on that Tier-0/VRF, next to what others put there.",
  ),
  [
    cel(
      'has(self.providerGateway) != has(self.tier0)',
      'set exactly one of providerGateway or tier0',
      (s) => (s.providerGateway === undefined) !== (s.tier0 === undefined),
    ),
  ],
);

const idOf = (s: { id?: string }) => s.id ?? '';

const spec = Obj(
  {
    connectionRef: withRules(ConnectionRef(), [
      cel(
        'self == oldSelf',
        'connectionRef is immutable; create a new IPSpace to manage it through another connection',
        (s, o) => s.kind === o.kind && s.name === o.name,
      ),
    ]),
    id: Type.Optional(
      Str(
        'Adopt the existing IP Space with this id (urn:vcloud:ipSpace:<uuid>) instead of creating one; the spec then becomes its desired state. Only at creation.',
        {
          maxLength: 128,
          pattern: urnPattern('ipSpace'),
        },
      ),
    ),
    name: Type.Optional(Str('Name of the IP Space in VCD; defaults to metadata.name. Unique per type and org.', { minLength: 1, maxLength: 128 })),
    description: Type.Optional(Str('Description of the IP Space in VCD.', { maxLength: 1024 })),
    type: withRules(
      StrEnum(
        IPSpaceTypes,
        'Public: shared by many orgs under quotas (provider only). Private: owned by one org, unlimited. SharedServices: provider-managed addresses for services, hidden from tenants. Only SharedServices may later change to Public.',
      ),
      [
        cel(
          "self == oldSelf || (oldSelf == 'SharedServices' && self == 'Public')",
          'type is immutable, except that SharedServices may change to Public',
          (s, o) => s === o || (o === 'SharedServices' && s === 'Public'),
        ),
      ],
    ),
    org: Type.Optional(
      withRules(OrgRef('The organization that owns a Private IP Space. Required for type Private, not allowed otherwise.'), [
        cel('self == oldSelf', 'org is immutable', (s, o) => s.name === o.name && s.id === o.id),
      ]),
    ),
    internalScope: List(
      CIDRString('A CIDR, e.g. 203.0.113.0/24.'),
      'The CIDRs (at most 5, one IP family) that hold every range and prefix of this IP Space: the addresses used inside the data center.',
      { minItems: 1, maxItems: 5 },
    ),
    externalScope: Type.Optional(
      CIDRString('The CIDR of the addresses outside the data center these reach, e.g. 0.0.0.0/0 for the internet; used for NAT and BGP.'),
    ),
    ipRanges: Type.Optional(List(IPRange, 'Ranges of floating IPs, all inside internalScope and not overlapping.', { minItems: 1, maxItems: 32 })),
    prefixSequences: Type.Optional(List(PrefixSequence, 'Prefix sequences for IPPrefixClaims, all inside internalScope.', { maxItems: 32 })),
    routeAdvertisementEnabled: Type.Optional(
      Bool(
        'Advertise routed networks that use this IP Space from their edge gateway to the provider gateway (Private IP Spaces only where the org owns the provider gateway).',
      ),
    ),
    defaultQuotas: Type.Optional(Quotas),
    gatewayServiceDefaults: Type.Optional(GatewayServiceDefaults),
    uplinks: Type.Optional(
      List(Uplink, 'Uplinks to provider gateways, one per gateway; edge gateways on those provider gateways can then use this IP Space.', {
        maxItems: 8,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      }),
    ),
    tier0Advertisement: Type.Optional(Tier0Advertisement),
    orgQuotas: Type.Optional(List(OrgQuota, 'Custom quotas per organization (Public and SharedServices only), one entry per org.', { maxItems: 32 })),
    deletionPolicy: Type.Optional(DeletionPolicy),
  },
  'The desired IP Space.',
);

type Spec = Type.Static<typeof spec>;

function scopes(s: Spec): CIDRBlock[] {
  return s.internalScope.map(parseCIDR).filter((c): c is CIDRBlock => c !== undefined);
}

// Containment is only judged against a fully valid scope list; a malformed scope is reported on
// its own and must not make every range look misplaced too.
const ALL_SCOPES_VALID = 'self.internalScope.all(s, isCIDR(s))';
const allScopesValid = (s: Spec): boolean => s.internalScope.every(isCIDR);

function startsInScope(s: Spec, p: { startCIDR: string }): boolean {
  const c = parseCIDR(p.startCIDR);
  return !c || scopes(s).some((sc) => cidrContainsCIDR(sc, c));
}

export const IPSpaceSpec = withRules(spec, [
  cel(
    "self.type != 'Private' || has(self.org)",
    'org is required when type is Private: name the organization that owns the IP Space',
    (s) => s.type !== 'Private' || s.org !== undefined,
    {
      fieldPath: '.org',
      reason: 'FieldValueRequired',
    },
  ),
  cel(
    "self.type == 'Private' || !has(self.org)",
    'org applies only to type Private; for Public and SharedServices IP Spaces set per-org quotas in orgQuotas instead',
    (s) => s.type === 'Private' || s.org === undefined,
    { fieldPath: '.org', reason: 'FieldValueForbidden' },
  ),
  cel(
    "self.type != 'Private' || !has(self.orgQuotas)",
    'orgQuotas apply only to Public and SharedServices IP Spaces; a Private IP Space belongs to one org without quotas',
    (s) => s.type !== 'Private' || s.orgQuotas === undefined,
    { fieldPath: '.orgQuotas', reason: 'FieldValueForbidden' },
  ),
  cel(
    '(has(self.id) ? self.id : "") == (has(oldSelf.id) ? oldSelf.id : "")',
    'id is immutable: it can only be set when the IPSpace is created, to adopt an existing IP Space',
    (s, o) => idOf(s) === idOf(o),
    { fieldPath: '.id' },
  ),
  cel(
    'self.internalScope.all(s, !isCIDR(s) || !isCIDR(self.internalScope[0]) || cidr(s).ip().family() == cidr(self.internalScope[0]).ip().family())',
    'internalScope CIDRs must all be of one IP family: an IP Space is IPv4 or IPv6, never both',
    (s) => new Set(scopes(s).map((c) => c.ip.family)).size <= 1,
    { fieldPath: '.internalScope' },
  ),
  cel(
    '!has(self.externalScope) || !isCIDR(self.externalScope) || self.internalScope.all(s, !isCIDR(s) || cidr(s).ip().family() == cidr(self.externalScope).ip().family())',
    'externalScope must be of the same IP family as internalScope',
    (s) => {
      const ext = s.externalScope === undefined ? undefined : parseCIDR(s.externalScope);
      return !ext || scopes(s).every((c) => c.ip.family === ext.ip.family);
    },
    { fieldPath: '.externalScope' },
  ),
  cel(
    `!has(self.ipRanges) || !${ALL_SCOPES_VALID} || self.ipRanges.all(r, !isIP(r.start) || !isIP(r.end) || ip(r.start).family() != ip(r.end).family() || self.internalScope.exists(s, cidr(s).containsIP(r.start) && cidr(s).containsIP(r.end)))`,
    'every IP range must lie inside one internalScope CIDR',
    (s) =>
      !allScopesValid(s) ||
      (s.ipRanges ?? []).every((r) => {
        const [a, b] = [parseIP(r.start), parseIP(r.end)];
        return !a || !b || a.family !== b.family || scopes(s).some((c) => cidrContainsIP(c, a) && cidrContainsIP(c, b));
      }),
    { fieldPath: '.ipRanges' },
  ),
  cel(
    `!has(self.prefixSequences) || !${ALL_SCOPES_VALID} || self.prefixSequences.all(p, !isCIDR(p.startCIDR) || self.internalScope.exists(s, cidr(s).containsCIDR(p.startCIDR)))`,
    'every prefix sequence must start inside an internalScope CIDR',
    (s) => !allScopesValid(s) || (s.prefixSequences ?? []).every((p) => startsInScope(s, p)),
    { fieldPath: '.prefixSequences' },
  ),
  cel(
    '!has(self.defaultQuotas) || !has(self.defaultQuotas.prefixes) || self.defaultQuotas.prefixes.all(q, has(self.prefixSequences) && self.prefixSequences.exists(p, isCIDR(p.startCIDR) && cidr(p.startCIDR).prefixLength() == q.prefixLength))',
    'each defaultQuotas.prefixes entry must name the prefix length of a prefixSequences entry',
    (s) => (s.defaultQuotas?.prefixes ?? []).every((q) => (s.prefixSequences ?? []).some((p) => parseCIDR(p.startCIDR)?.prefixLength === q.prefixLength)),
    { fieldPath: '.defaultQuotas.prefixes' },
  ),
  cel(
    '!has(self.orgQuotas) || self.orgQuotas.all(a, self.orgQuotas.exists_one(b, b.org == a.org))',
    'orgQuotas must name each organization once',
    (s) => {
      const keys = (s.orgQuotas ?? []).map((q) => `${q.org.name ?? ''}\u0000${q.org.id ?? ''}`);
      return new Set(keys).size === keys.length;
    },
    { fieldPath: '.orgQuotas' },
  ),
  // Beyond CEL's reach or cost budget; reported as InvalidSpec by the operator.
  semantic(
    'every prefix sequence must fit inside one internalScope CIDR: lower count or widen the scope',
    (s) =>
      (s.prefixSequences ?? []).every((p) => {
        const [first, last] = sequenceSpan(p);
        // A sequence that does not even start inside a scope is reported by the rule above.
        return !first || !last || !startsInScope(s, p) || scopes(s).some((sc) => cidrContainsIP(sc, first) && cidrContainsIP(sc, last));
      }),
    { fieldPath: '.prefixSequences' },
  ),
  semantic('IP ranges must not overlap each other', (s) => !overlapping((s.ipRanges ?? []).map((r) => [parseIP(r.start), parseIP(r.end)])), {
    fieldPath: '.ipRanges',
  }),
  semantic(
    'prefix sequences must not overlap each other or the IP ranges',
    (s) => {
      const sequences = (s.prefixSequences ?? []).map(sequenceSpan);
      const ranges = (s.ipRanges ?? []).map((r) => [parseIP(r.start), parseIP(r.end)] as const);
      return !overlapping(sequences) && !sequences.some((q) => ranges.some((r) => overlapping([q, r])));
    },
    { fieldPath: '.prefixSequences' },
  ),
  semantic(
    'each orgQuotas[].prefixes entry must name the prefix length of a prefixSequences entry',
    (s) =>
      (s.orgQuotas ?? []).every((o) =>
        (o.prefixes ?? []).every((q) => (s.prefixSequences ?? []).some((p) => parseCIDR(p.startCIDR)?.prefixLength === q.prefixLength)),
      ),
    { fieldPath: '.orgQuotas' },
  ),
]);
export type IPSpaceSpec = Type.Static<typeof IPSpaceSpec>;

type Span = readonly [IPAddress | undefined, IPAddress | undefined];

/** First and last address a prefix sequence covers. */
function sequenceSpan(p: { startCIDR: string; count: number }): Span {
  const c = parseCIDR(p.startCIDR);
  if (!c) return [undefined, undefined];
  const { first } = cidrRange(c);
  const size = 1n << BigInt(bitLength(c.ip.family) - c.prefixLength);
  return [first, { family: first.family, value: first.value + size * BigInt(p.count) - 1n }];
}

function overlapping(spans: Span[]): boolean {
  const valid = spans
    .filter((s): s is readonly [NonNullable<Span[0]>, NonNullable<Span[1]>] => !!s[0] && !!s[1] && s[0].family === s[1].family)
    .toSorted((a, b) => compareIP(a[0], b[0]));
  for (let i = 1; i < valid.length; i++) {
    const [prev, cur] = [valid[i - 1], valid[i]];
    if (prev && cur && prev[0].family === cur[0].family && compareIP(cur[0], prev[1]) <= 0) return true;
  }
  return false;
}

const Count = (what: string) => Str(`${what}, as a decimal string (IPv6 counts exceed 64 bits).`, { maxLength: 40, pattern: '^-?[0-9]+$' });

const Utilization = Obj(
  {
    total: Type.Optional(Count('How many there are; for an org that does not own the IP Space, its quota (-1: unlimited)')),
    allocated: Type.Optional(Count('How many are allocated to orgs')),
    used: Type.Optional(Count('How many of the allocated ones are in use')),
  },
  'Utilization of one kind of address.',
);

export const IPSpaceStatus = Obj(
  {
    observedGeneration: Type.Optional(ObservedGeneration),
    conditions: Type.Optional(Conditions),
    id: Type.Optional(Str('Id of the IP Space in VCD (urn:vcloud:ipSpace:<uuid>); find it in the VCD UI under this id.', { maxLength: 128 })),
    realizationStatus: Type.Optional(Str('Realization state VCD reports: PENDING, CONFIGURING, REALIZED, REALIZATION_FAILED or UNKNOWN.', { maxLength: 32 })),
    utilization: Type.Optional(
      Obj({ floatingIPs: Type.Optional(Utilization), prefixes: Type.Optional(Utilization) }, 'How much of the IP Space is allocated and used.'),
    ),
    uplinks: Type.Optional(
      List(
        Obj(
          {
            name: Str('Name of the uplink.', { maxLength: 128 }),
            id: Str('Id of the uplink in VCD (urn:vcloud:ipSpaceUplink:<uuid>).', { maxLength: 128 }),
          },
          'An uplink the operator manages.',
        ),
        'The uplinks as they exist in VCD.',
        { maxItems: 8, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
      ),
    ),
    tier0Advertisement: Type.Optional(
      Obj(
        {
          conditions: Type.Optional(Conditions),
          key: Type.Optional(Str('Where the advertisement was written, as the operator keys it; kept until it is removed from there.', { maxLength: 1024 })),
          tier0Path: Type.Optional(Str('Policy path of the Tier-0 or VRF in NSX.', { maxLength: 512 })),
          prefixListPath: Type.Optional(Str('Policy path of the prefix list that holds this IP Space.', { maxLength: 512 })),
        },
        'The Tier-0 advertisement as it exists in NSX; its Advertised condition says whether it is in place (kept apart from the IP Space conditions, which another controller writes).',
      ),
    ),
  },
  'What the operator observed in VCD.',
);
export type IPSpaceStatus = Type.Static<typeof IPSpaceStatus>;

export const IPSpaceSchema = objectSchema(
  'IPSpace',
  'A VCD IP Space: the addresses (floating IP ranges and prefix sequences) that orgs allocate from, with quotas and uplinks to provider gateways. Deleting it deletes the IP Space in VCD unless deletionPolicy is Orphan; VCD refuses while allocations remain.',
  IPSpaceSpec,
  IPSpaceStatus,
);
export type IPSpace = Type.Static<typeof IPSpaceSchema>;

export const IPSpaceKind = defineKind({
  kind: 'IPSpace',
  plural: 'ipspaces',
  namespaced: true,
  shortNames: ['ips'],
  schema: IPSpaceSchema,
  printerColumns: [
    readyColumn(),
    { name: 'Type', type: 'string', jsonPath: '.spec.type', description: 'Public, Private or SharedServices.' },
    { name: 'Allocated', type: 'string', jsonPath: '.status.utilization.floatingIPs.allocated', description: 'Floating IPs allocated.' },
    { name: 'Total', type: 'string', jsonPath: '.status.utilization.floatingIPs.total', description: 'Floating IPs in the ranges.' },
    { name: 'ID', type: 'string', jsonPath: '.status.id', description: 'Id of the IP Space in VCD.', priority: 1 },
    ...tailColumns(),
  ],
});
