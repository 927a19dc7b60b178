// EdgeStaticRoute: one static route on an NSX-T edge gateway (VCD 10.4+, API 37.0). A default
// route (0.0.0.0/0 or ::/0) through a segment-backed external network is written as two /1 routes,
// because the Tier-1 behind the edge keeps its own default route towards the Tier-0 and a more
// specific route is the only way past it.
import Type from 'typebox';
import { CIDRString, CloudRef, Conditions, ConnectionRef, DeletionPolicy, Int, IPString, List, Obj, ObservedGeneration, Str } from './common.ts';
import { immutableOptional } from './claim.ts';
import { parseCIDR, parseIP } from './ip.ts';
import { defineKind, objectSchema, readyColumn, tailColumns } from './kind.ts';
import { cel, withRules } from './rules.ts';

const NetworkName = (what: string) => Str(`Name of the ${what} in VCD.`, { minLength: 1, maxLength: 128 });

const Scope = withRules(
  Obj(
    {
      network: Type.Optional(NetworkName('org VDC network connected to the edge gateway')),
      externalNetwork: Type.Optional(NetworkName('segment-backed external network attached to the edge gateway as a service interface')),
    },
    'Where the next hop is reachable: an org VDC network of the edge gateway, or a segment-backed external network attached to it (see EdgeGatewayUplink). Exactly one.',
  ),
  [
    cel(
      'has(self.network) != has(self.externalNetwork)',
      'set exactly one of network or externalNetwork',
      (s) => (s.network === undefined) !== (s.externalNetwork === undefined),
    ),
  ],
);

const NextHop = Obj(
  {
    ipAddress: IPString('Address of the next hop, of the same IP family as destination.'),
    adminDistance: Type.Optional(Int('Administrative distance, 1 (preferred) to 255. Default 1.', { minimum: 1, maximum: 255, default: 1 })),
    scope: Type.Optional(Scope),
  },
  'One next hop of the route.',
);

const spec = Obj(
  {
    connectionRef: withRules(ConnectionRef(), [
      cel(
        'self == oldSelf',
        'connectionRef is immutable; delete the EdgeStaticRoute and create a new one to use another connection',
        (s, o) => s.kind === o.kind && s.name === o.name,
      ),
    ]),
    org: Type.Optional(
      CloudRef(
        { what: 'organization', urnType: 'org', example: 'acme' },
        'The organization that owns the edge gateway, when the connection is a provider (System) connection. Leave unset with a tenant connection.',
      ),
    ),
    edgeGateway: withRules(CloudRef({ what: 'edge gateway', urnType: 'gateway', example: 'acme-edge' }, 'The NSX-T edge gateway the route is written on.'), [
      cel(
        'self == oldSelf',
        'edgeGateway is immutable; delete the EdgeStaticRoute and create a new one for another edge',
        (s, o) => s.name === o.name && s.id === o.id,
      ),
    ]),
    name: Type.Optional(
      Str('Name of the route in VCD; metadata.name when unset. A split default route gets the half it stands for appended.', { minLength: 1, maxLength: 128 }),
    ),
    description: Type.Optional(Str('Description of the route in VCD; the operator adds its ownership marker on a line of its own.', { maxLength: 1024 })),
    destination: CIDRString('The destination network, e.g. 10.20.0.0/16, 0.0.0.0/0 or 2001:db8::/32.', { networkAddress: true }),
    nextHops: List(NextHop, 'Next hops, 1 to 5, as VCD allows.', { minItems: 1, maxItems: 5 }),
    deletionPolicy: Type.Optional(DeletionPolicy),
  },
  'The route: where to (destination) and through which next hops, on which edge gateway.',
);
type Spec = Type.Static<typeof spec>;

function sameFamily(s: Spec): boolean {
  const dest = parseCIDR(s.destination);
  if (!dest) return true;
  return s.nextHops.every((h) => {
    const ip = parseIP(h.ipAddress);
    return !ip || ip.family === dest.ip.family;
  });
}

export const EdgeStaticRouteSpec = withRules(spec, [
  cel(
    '!isCIDR(self.destination) || self.nextHops.all(h, !isIP(h.ipAddress) || ip(h.ipAddress).family() == cidr(self.destination).ip().family())',
    'every next hop must be of the IP family of destination (IPv4 next hops for an IPv4 destination)',
    sameFamily,
    { fieldPath: '.nextHops' },
  ),
  immutableOptional<Spec>('org', 'org is immutable; delete the EdgeStaticRoute and create a new one for another org'),
]);
export type EdgeStaticRouteSpec = Type.Static<typeof EdgeStaticRouteSpec>;

export const EdgeStaticRouteStatus = Obj(
  {
    observedGeneration: Type.Optional(ObservedGeneration),
    conditions: Type.Optional(Conditions),
    id: Type.Optional(Str('The VCD route ids, comma-separated (the operator reads routeIds).', { maxLength: 512 })),
    routeIds: Type.Optional(
      List(
        Str('Id of a static route in VCD.', { maxLength: 128 }),
        'Ids of the static routes written for this object in VCD: one, or two for a split default route.',
        { maxItems: 2 },
      ),
    ),
    writtenAs: Type.Optional(
      List(
        Str('A destination CIDR as written to VCD.', { maxLength: 49 }),
        'The destinations as written to VCD, e.g. [0.0.0.0/1, 128.0.0.0/1] for a default route through a segment.',
        { maxItems: 2 },
      ),
    ),
    edgeGatewayId: Type.Optional(Str('Id of the edge gateway the routes are on.', { maxLength: 128 })),
  },
  'The routes as they exist in VCD.',
);
export type EdgeStaticRouteStatus = Type.Static<typeof EdgeStaticRouteStatus>;

export const EdgeStaticRouteSchema = objectSchema(
  'EdgeStaticRoute',
  'A static route on an NSX-T edge gateway (VCD 10.4 or later). Ready once the route is in VCD as specified; a default route through a segment-backed external network is written as two /1 routes.',
  EdgeStaticRouteSpec,
  EdgeStaticRouteStatus,
);
export type EdgeStaticRoute = Type.Static<typeof EdgeStaticRouteSchema>;

export const EdgeStaticRouteKind = defineKind({
  kind: 'EdgeStaticRoute',
  plural: 'edgestaticroutes',
  namespaced: true,
  shortNames: ['esr'],
  schema: EdgeStaticRouteSchema,
  printerColumns: [
    readyColumn(),
    { name: 'Destination', type: 'string', jsonPath: '.spec.destination', description: 'The destination network.' },
    { name: 'Edge', type: 'string', jsonPath: '.spec.edgeGateway.name', description: 'The edge gateway.' },
    { name: 'Routes', type: 'string', jsonPath: '.status.id', description: 'Ids of the routes in VCD.', priority: 1 },
    ...tailColumns(),
  ],
});
