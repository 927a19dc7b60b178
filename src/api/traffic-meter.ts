// TrafficMeter: which tenant edges to meter in NSX, at which points, how often. Cluster-scoped and
// provider-only: it names an NSXConnection and a ClusterVCDConnection (System org) that maps edge
// gateways to their orgs and Tier-1s. The counters are exported on the operator's /metrics.
import Type from 'typebox';
import { Conditions, Int, List, Obj, ObservedGeneration, Str, StrEnum } from './common.ts';
import { defineKind, objectSchema, readyColumn, tailColumns } from './kind.ts';

export const MeterPoints = ['Tier0Uplink', 'Tier0Downlink', 'Tier1ServiceInterface'] as const;
export type MeterPoint = (typeof MeterPoints)[number];

const Name = (d: string) => Str(d, { minLength: 1, maxLength: 253 });

export const TrafficMeterSpec = Obj(
  {
    nsxConnectionRef: Obj({ name: Name('Name of the NSXConnection.') }, 'The NSX Manager whose interface statistics are read.'),
    vcdConnectionRef: Obj(
      { name: Name('Name of the ClusterVCDConnection (a System org connection).') },
      'The VCD that says which edge gateways exist, whose org each is, and which Tier-1 backs it.',
    ),
    orgs: Type.Optional(List(Name('An organization name.'), 'Meter only the edges of these orgs; all orgs when absent.', { maxItems: 1000 })),
    edgeGateways: Type.Optional(
      List(Name('An edge gateway name or id (urn:vcloud:gateway:...).'), 'Meter only these edge gateways; all (of the orgs) when absent.', { maxItems: 5000 }),
    ),
    meterPoints: Type.Optional(
      List(
        StrEnum(
          MeterPoints,
          "Tier0Uplink: the external interfaces of the Tier-0/VRF (only when it serves this edge alone); Tier0Downlink: the shared Tier-0's link to the edge's Tier-1; Tier1ServiceInterface: service interfaces of the edge's Tier-1 (segment-backed external networks).",
        ),
        'Where to meter; Tier0Downlink when absent.',
        { maxItems: 3 },
      ),
    ),
    intervalSeconds: Type.Optional(
      Int('How often every interface is read (at most one NSX request per interface per interval, spread over it). Default 60.', { minimum: 2, maximum: 3600 }),
    ),
  },
  'What to meter.',
);
export type TrafficMeterSpec = Type.Static<typeof TrafficMeterSpec>;

const EdgeTotals = Obj(
  {
    org: Str('Organization of the edge.', { maxLength: 253 }),
    edgeGateway: Str('Name of the edge gateway.', { maxLength: 253 }),
    interfaces: Int('Interfaces metered on this edge.', { minimum: 0 }),
    rxBytes: Int('Bytes received over all its meter points since the operator started metering it.', { minimum: 0, format: 'int64' }),
    txBytes: Int('Bytes sent over all its meter points since the operator started metering it.', { minimum: 0, format: 'int64' }),
    droppedPackets: Int('Packets dropped, both directions.', { minimum: 0, format: 'int64' }),
  },
  'Totals of one edge gateway.',
);

export const TrafficMeterStatus = Obj(
  {
    observedGeneration: Type.Optional(ObservedGeneration),
    conditions: Type.Optional(Conditions),
    lastPollTime: Type.Optional(Str('When the last interval of reads ended (RFC 3339).', { maxLength: 64 })),
    edges: Type.Optional(List(EdgeTotals, 'Totals per metered edge gateway.', { maxItems: 5000 })),
    unreadable: Type.Optional(
      List(
        Str('A meter point that could not be read: edge, point and why.', { maxLength: 1024 }),
        'Meter points the last interval could not read; the others are still exported.',
        { maxItems: 100 },
      ),
    ),
  },
  'What the operator observed.',
);
export type TrafficMeterStatus = Type.Static<typeof TrafficMeterStatus>;

export const TrafficMeterSchema = objectSchema(
  'TrafficMeter',
  "Tenant traffic metering: reads NSX interface statistics of tenant edges (Tier-0 uplink, Tier-0 downlink to the Tier-1, Tier-1 service interfaces) and exports them on the operator's /metrics as vcd_operator_traffic_* counters labelled by org and edge gateway.",
  TrafficMeterSpec,
  TrafficMeterStatus,
);
export type TrafficMeter = Type.Static<typeof TrafficMeterSchema>;

export const TrafficMeterKind = defineKind({
  kind: 'TrafficMeter',
  plural: 'trafficmeters',
  namespaced: false,
  shortNames: ['tmeter'],
  schema: TrafficMeterSchema,
  printerColumns: [
    readyColumn(),
    { name: 'Edges', type: 'integer', jsonPath: '.status.edges[*].interfaces', description: 'Interfaces metered per edge.', priority: 1 },
    { name: 'Last Poll', type: 'date', jsonPath: '.status.lastPollTime', description: 'When the last interval of reads ended.' },
    ...tailColumns(),
  ],
});
