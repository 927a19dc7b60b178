// EdgeFirewallRule: one rule in an NSX-T edge gateway's firewall. VCD keeps an edge's rules as one
// ordered list written whole; the operator merges every EdgeFirewallRule that targets an edge
// (from any namespace) into one block of that list and leaves the rules it did not write alone.
// Inline addresses and ports become operator-owned IP sets and port profiles.
import Type from 'typebox';
import { Bool, CloudRef, Conditions, ConnectionRef, Int, List, Obj, ObservedGeneration, Str, StrEnum } from './common.ts';
import { immutableOptional } from './claim.ts';
import { compareIP, isCIDR, isIP, parseIP } from './ip.ts';
import { defineKind, objectSchema, readyColumn, tailColumns } from './kind.ts';
import { cel, semantic, withRules } from './rules.ts';

/** VCD's limit on firewall group and port profile references per rule field. */
export const MAX_REFS = 128;

export const FirewallActions = ['Allow', 'Drop', 'Reject'] as const;
export const FirewallDirections = ['In', 'Out', 'InOut'] as const;
export const FirewallIPProtocols = ['IPv4', 'IPv6', 'IPv4IPv6'] as const;
export const PortProtocols = ['TCP', 'UDP', 'ICMPv4', 'ICMPv6'] as const;

// --- addresses ------------------------------------------------------------------------------------

// IPv4 as an integer in CEL, for range order (the CEL IP library has no ordering).
const v4 = (x: string) => [0, 1, 2, 3].map((i) => `int(${x}.split('.')[${i}]) * ${256 ** (3 - i)}`).join(' + ');
const lo = "self.split('-')[0]";
const hi = "self.split('-')[1]";

/** An address, a CIDR or a range `first-last` of one family, first not after last. */
export function isFirewallAddress(s: string): boolean {
  if (isIP(s) || isCIDR(s)) return true;
  const parts = s.split('-');
  if (parts.length !== 2) return false;
  const [a, b] = [parseIP(parts[0] ?? ''), parseIP(parts[1] ?? '')];
  return !!a && !!b && a.family === b.family && compareIP(a, b) <= 0;
}

const ADDRESS_MESSAGE =
  'must be an IP address (203.0.113.10), a CIDR (203.0.113.0/24) or a range of one family with the first address not after the last (203.0.113.10-203.0.113.20)';

// CEL orders IPv4 ranges only; the operator's twin also catches a reversed IPv6 range (InvalidSpec).
const Address = withRules(Str('An IP address, CIDR or range (first-last), IPv4 or IPv6.', { maxLength: 91 }), [
  cel(
    `isIP(self) || isCIDR(self) || (self.split('-').size() == 2 && isIP(${lo}) && isIP(${hi}) && ip(${lo}).family() == ip(${hi}).family() && (ip(${lo}).family() == 6 || ${v4(lo)} <= ${v4(hi)}))`,
    ADDRESS_MESSAGE,
    (s) => {
      if (isIP(s) || isCIDR(s)) return true;
      const parts = s.split('-');
      const [a, b] = [parseIP(parts[0] ?? ''), parseIP(parts[1] ?? '')];
      return parts.length === 2 && !!a && !!b && a.family === b.family && (a.family === 6 || compareIP(a, b) <= 0);
    },
  ),
  semantic(`${ADDRESS_MESSAGE} (IPv6 range)`, (s) => {
    const parts = s.split('-');
    const [a, b] = [parseIP(parts[0] ?? ''), parseIP(parts[1] ?? '')];
    return parts.length !== 2 || !a || !b || a.family !== 6 || b.family !== 6 || compareIP(a, b) <= 0;
  }),
]);

function GroupRef() {
  return CloudRef(
    { what: 'firewall group', urnType: 'firewallGroup', example: 'web-servers' },
    'An existing firewall group (IP set, static group or dynamic group) usable on the edge gateway, by name or id.',
  );
}

function Endpoint(which: 'sources' | 'destinations') {
  const what = which === 'sources' ? 'source' : 'destination';
  return withRules(
    Obj(
      {
        addresses: Type.Optional(
          List(Address, `Inline ${what} addresses, CIDRs and ranges. The operator keeps them in an IP set it owns on the edge gateway.`, {
            maxItems: MAX_REFS,
          }),
        ),
        groups: Type.Optional(List(GroupRef(), `Existing firewall groups as ${what}s.`, { maxItems: MAX_REFS })),
      },
      `Where traffic comes ${which === 'sources' ? 'from' : 'to'}: inline addresses and existing firewall groups together. Leave out (or empty) for any.`,
    ),
    [
      cel(
        '!has(self.addresses) || size(self.addresses) == 0 || !has(self.groups) || size(self.groups) < 128',
        `with addresses, at most 127 groups: the addresses take one of the 128 group slots VCD allows per rule`,
        (s) => !s.addresses?.length || (s.groups?.length ?? 0) < MAX_REFS,
        { fieldPath: '.groups' },
      ),
    ],
  );
}

// --- ports ----------------------------------------------------------------------------------------

const PORT_MESSAGE = 'must be a port (443) or a range (8080-8090) of ports 1 to 65535, the first not after the last';

export function isPortOrRange(s: string): boolean {
  const m = /^([0-9]{1,5})(?:-([0-9]{1,5}))?$/.exec(s);
  if (!m) return false;
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  return a >= 1 && b <= 65535 && a <= b;
}

const Port = withRules(Str('A destination port or range, e.g. 443 or 8080-8090.', { maxLength: 11, pattern: '^[0-9]{1,5}(-[0-9]{1,5})?$' }), [
  cel(
    "self.split('-').all(p, int(p) >= 1 && int(p) <= 65535) && int(self.split('-')[0]) <= int(self.split('-')[self.split('-').size() - 1])",
    PORT_MESSAGE,
    (s) => !/^[0-9]{1,5}(-[0-9]{1,5})?$/.test(s) || isPortOrRange(s),
  ),
]);

const PortSpec = withRules(
  Obj(
    {
      protocol: StrEnum(PortProtocols, 'TCP, UDP, ICMPv4 or ICMPv6.'),
      destinationPorts: Type.Optional(List(Port, 'Destination ports and ranges (TCP and UDP only); empty means every port.', { maxItems: 64 })),
    },
    'A protocol with its destination ports.',
  ),
  [
    cel(
      "!self.protocol.startsWith('ICMP') || !has(self.destinationPorts) || size(self.destinationPorts) == 0",
      'ICMP has no ports: leave destinationPorts out for ICMPv4 and ICMPv6',
      (s) => !s.protocol.startsWith('ICMP') || !s.destinationPorts?.length,
      { fieldPath: '.destinationPorts' },
    ),
  ],
);

const Services = withRules(
  Obj(
    {
      ports: Type.Optional(List(PortSpec, 'Inline protocols and ports. The operator keeps them in an application port profile it owns.', { maxItems: 32 })),
      profiles: Type.Optional(
        List(
          CloudRef(
            { what: 'application port profile', urnType: 'applicationPortProfile', example: 'HTTPS' },
            'An existing application port profile (system, provider or tenant), by name or id.',
          ),
          'Existing application port profiles.',
          { maxItems: MAX_REFS },
        ),
      ),
    },
    'What traffic the rule matches: inline ports and existing application port profiles together. Leave out (or empty) for any.',
  ),
  [
    cel(
      '!has(self.ports) || size(self.ports) == 0 || !has(self.profiles) || size(self.profiles) < 128',
      'with ports, at most 127 profiles: the ports take one of the 128 profile slots VCD allows per rule',
      (s) => !s.ports?.length || (s.profiles?.length ?? 0) < MAX_REFS,
      { fieldPath: '.profiles' },
    ),
  ],
);

// --- spec -----------------------------------------------------------------------------------------

const spec = Obj(
  {
    connectionRef: withRules(ConnectionRef(), [
      cel(
        'self == oldSelf',
        'connectionRef is immutable; delete the EdgeFirewallRule and create a new one to use another connection',
        (s, o) => s.kind === o.kind && s.name === o.name,
      ),
    ]),
    org: Type.Optional(
      CloudRef(
        { what: 'organization', urnType: 'org', example: 'acme' },
        'The organization that owns the edge gateway, when the connection is a provider (System) connection; the namespace must be bound to it. Leave unset with a tenant connection.',
      ),
    ),
    edgeGateway: withRules(
      CloudRef({ what: 'edge gateway', urnType: 'gateway', example: 'acme-edge' }, 'The NSX-T edge gateway whose firewall holds the rule, by name or id.'),
      [
        cel(
          'self == oldSelf',
          'edgeGateway is immutable; delete the EdgeFirewallRule and create a new one on the other edge gateway',
          (s, o) => s.name === o.name && s.id === o.id,
        ),
      ],
    ),
    action: StrEnum(FirewallActions, 'Allow, Drop (silently) or Reject (with a reset or ICMP unreachable) matching traffic.'),
    direction: Type.Optional(StrEnum(FirewallDirections, 'In, Out or InOut (both).', { default: 'InOut' })),
    ipProtocol: Type.Optional(StrEnum(FirewallIPProtocols, 'IPv4, IPv6 or IPv4IPv6 (both).', { default: 'IPv4IPv6' })),
    sources: Type.Optional(Endpoint('sources')),
    destinations: Type.Optional(Endpoint('destinations')),
    services: Type.Optional(Services),
    appliedTo: Type.Optional(
      Str(
        'Name of one service interface of the edge gateway (a segment-backed external network or a non-distributed org VDC network) to limit the rule to; needs VCD 10.4.1 (API 37.1). Unset: every interface.',
        { minLength: 1, maxLength: 128 },
      ),
    ),
    logging: Type.Optional(Bool('Log traffic matching the rule.', { default: false })),
    enabled: Type.Optional(Bool('Whether the rule is active; a disabled rule keeps its place and id.', { default: true })),
    comments: Type.Optional(Str('Free text kept with the rule in VCD (its comments field).', { maxLength: 1024 })),
    priority: Type.Optional(
      Int('Orders the managed rules of one edge gateway: lower first; equal priorities are ordered by namespace/name.', {
        minimum: 0,
        maximum: 1000000,
        default: 1000,
      }),
    ),
    reclaimPolicy: Type.Optional(
      StrEnum(
        ['Delete', 'Retain'] as const,
        'What happens to the rule in VCD when this object is deleted: Delete removes it (and the IP sets and port profiles only it used); Retain leaves it in place without the ownership marker, as a rule the operator no longer manages.',
        { default: 'Delete' },
      ),
    ),
  },
  'One firewall rule on an edge gateway.',
);
type Spec = Type.Static<typeof spec>;

export const EdgeFirewallRuleSpec = withRules(spec, [
  immutableOptional<Spec>('org', 'org is immutable; delete the EdgeFirewallRule and create a new one for another org'),
]);
export type EdgeFirewallRuleSpec = Type.Static<typeof EdgeFirewallRuleSpec>;

export const EdgeFirewallRuleStatus = Obj(
  {
    observedGeneration: Type.Optional(ObservedGeneration),
    conditions: Type.Optional(Conditions),
    ruleId: Type.Optional(Str('Id of the rule in VCD; it stays the same for the life of the rule.', { maxLength: 128 })),
    edgeGatewayId: Type.Optional(Str('Id of the edge gateway (urn:vcloud:gateway:<uuid>).', { maxLength: 128 })),
    edgeGateway: Type.Optional(Str('Name of the edge gateway.', { maxLength: 128 })),
    position: Type.Optional(Int("1-based position of the rule among the edge gateway's user-defined rules.", { minimum: 1, maximum: 100000 })),
  },
  'The rule as it exists in VCD.',
);
export type EdgeFirewallRuleStatus = Type.Static<typeof EdgeFirewallRuleStatus>;

export const EdgeFirewallRuleSchema = objectSchema(
  'EdgeFirewallRule',
  "One rule in an NSX-T edge gateway's firewall. Rules from every namespace that target one edge gateway form one block, ordered by priority then namespace/name; rules the operator did not write keep their order and content. Ready (reason Available) once the rule is in place; status.ruleId names it in VCD.",
  EdgeFirewallRuleSpec,
  EdgeFirewallRuleStatus,
);
export type EdgeFirewallRule = Type.Static<typeof EdgeFirewallRuleSchema>;

export const EdgeFirewallRuleKind = defineKind({
  kind: 'EdgeFirewallRule',
  plural: 'edgefirewallrules',
  namespaced: true,
  shortNames: ['efw'],
  schema: EdgeFirewallRuleSchema,
  printerColumns: [
    readyColumn(),
    { name: 'Edge', type: 'string', jsonPath: '.status.edgeGateway', description: 'The edge gateway that holds the rule.' },
    { name: 'Action', type: 'string', jsonPath: '.spec.action', description: 'Allow, Drop or Reject.' },
    { name: 'Rule ID', type: 'string', jsonPath: '.status.ruleId', description: 'Id of the rule in VCD.' },
    { name: 'Position', type: 'integer', jsonPath: '.status.position', description: "Position among the edge gateway's user-defined rules." },
    ...tailColumns(),
  ],
});
