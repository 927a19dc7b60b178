// EdgeGatewayUplink: a segment-backed external network (an imported NSX segment, VLAN or overlay)
// attached to an NSX-T edge gateway as a service interface (VCD 10.4.1, API 37.1): co-location,
// MPLS direct connect, transit between edges. Provider rights; detached on delete.
import Type from 'typebox';
import { Bool, CloudRef, Conditions, ConnectionRef, DeletionPolicy, Int, IPString, Obj, ObservedGeneration, Str } from './common.ts';
import { immutableOptional } from './claim.ts';
import { cidrContainsIP, parseIP } from './ip.ts';
import { defineKind, objectSchema, readyColumn, tailColumns } from './kind.ts';
import { cel, semantic, withRules } from './rules.ts';

const immutable = (field: string) => `${field} is immutable; delete the EdgeGatewayUplink and create a new one`;

const Subnet = withRules(
  Obj(
    {
      gateway: IPString("The subnet's gateway address as the external network defines it, e.g. 172.16.60.1."),
      prefixLength: Int('Prefix length of the subnet, e.g. 24.', { minimum: 1, maximum: 128 }),
      primaryIP: Type.Optional(IPString("The edge gateway's address on the segment; VCD picks one from the network's static pool when unset.")),
      extraAddresses: Type.Optional(
        Int('How many more addresses of the static pool the edge gateway gets besides the primary one (for NAT or services on this interface). Default 0.', {
          minimum: 0,
          maximum: 1024,
          default: 0,
        }),
      ),
    },
    'The subnet of the external network the edge gateway joins, and the addresses it takes from it.',
  ),
  [
    // Containment needs the subnet as a CIDR built from two fields; CEL's cost estimate refuses
    // that string building, so the operator checks it (the condition says InvalidSpec).
    semantic('primaryIP must lie in the subnet given by gateway and prefixLength', (s) => {
      const g = parseIP(s.gateway);
      const p = s.primaryIP === undefined ? undefined : parseIP(s.primaryIP);
      if (!g || !p || (g.family === 4 && s.prefixLength > 32)) return true;
      return cidrContainsIP({ ip: g, prefixLength: s.prefixLength }, p);
    }),
  ],
);

const spec = Obj(
  {
    connectionRef: withRules(ConnectionRef(), [cel('self == oldSelf', immutable('connectionRef'), (s, o) => s.kind === o.kind && s.name === o.name)]),
    org: Type.Optional(
      CloudRef(
        { what: 'organization', urnType: 'org', example: 'acme' },
        'The organization that owns the edge gateway; narrows the lookup of the edge by name.',
      ),
    ),
    edgeGateway: withRules(CloudRef({ what: 'edge gateway', urnType: 'gateway', example: 'acme-edge' }, 'The NSX-T edge gateway to attach the network to.'), [
      cel('self == oldSelf', immutable('edgeGateway'), (s, o) => s.name === o.name && s.id === o.id),
    ]),
    externalNetwork: withRules(
      CloudRef(
        { what: 'external network', urnType: 'network', example: 'seg-colo' },
        'The segment-backed external network (an imported NSX segment) to attach.',
      ),
      [cel('self == oldSelf', immutable('externalNetwork'), (s, o) => s.name === o.name && s.id === o.id)],
    ),
    subnet: Subnet,
    connected: Type.Optional(Bool('Whether the interface is connected. Default true.')),
    deletionPolicy: Type.Optional(DeletionPolicy),
  },
  'Which network to attach to which edge gateway, on which subnet and addresses.',
);
type Spec = Type.Static<typeof spec>;

export const EdgeGatewayUplinkSpec = withRules(spec, [immutableOptional<Spec>('org', immutable('org'))]);
export type EdgeGatewayUplinkSpec = Type.Static<typeof EdgeGatewayUplinkSpec>;

export const EdgeGatewayUplinkStatus = Obj(
  {
    observedGeneration: Type.Optional(ObservedGeneration),
    conditions: Type.Optional(Conditions),
    id: Type.Optional(Str('Id of the attached external network (urn:vcloud:network:<uuid>): the uplink on the edge gateway.', { maxLength: 128 })),
    edgeGatewayId: Type.Optional(Str('Id of the edge gateway.', { maxLength: 128 })),
    primaryIP: Type.Optional(Str("The edge gateway's address on the segment, as VCD reports it.", { maxLength: 45 })),
  },
  'The uplink as it exists in VCD.',
);
export type EdgeGatewayUplinkStatus = Type.Static<typeof EdgeGatewayUplinkStatus>;

export const EdgeGatewayUplinkSchema = objectSchema(
  'EdgeGatewayUplink',
  'A segment-backed external network attached to an NSX-T edge gateway as a service interface (VCD 10.4.1 or later, provider rights). Ready once attached as specified; detached on delete.',
  EdgeGatewayUplinkSpec,
  EdgeGatewayUplinkStatus,
);
export type EdgeGatewayUplink = Type.Static<typeof EdgeGatewayUplinkSchema>;

export const EdgeGatewayUplinkKind = defineKind({
  kind: 'EdgeGatewayUplink',
  plural: 'edgegatewayuplinks',
  namespaced: true,
  shortNames: ['egu'],
  schema: EdgeGatewayUplinkSchema,
  printerColumns: [
    readyColumn(),
    { name: 'Edge', type: 'string', jsonPath: '.spec.edgeGateway.name', description: 'The edge gateway.' },
    { name: 'Network', type: 'string', jsonPath: '.spec.externalNetwork.name', description: 'The attached external network.' },
    { name: 'IP', type: 'string', jsonPath: '.status.primaryIP', description: "The edge gateway's address on the segment." },
    ...tailColumns(),
  ],
});
