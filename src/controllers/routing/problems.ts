// Reasons of the routing kinds' Ready and Synced conditions beyond the shared vocabulary.
import { Reasons } from '../../api/index.ts';

export const RoutingReasons = {
  ...Reasons,
  EdgeGatewayNotFound: 'EdgeGatewayNotFound',
  /** A next hop's scope names a network that is not on the edge gateway. */
  NetworkNotFound: 'NetworkNotFound',
  /** The segment-backed network is not an external network, or not segment-backed. */
  NotASegment: 'NotASegment',
  /** VCD allows one edge gateway per VLAN segment. */
  SegmentInUse: 'SegmentInUse',
  /** EdgeGatewayUplink needs provider rights. */
  ProviderRequired: 'ProviderRequired',
  /** A Tier-0 or VRF named by tier0Advertisement is not in NSX. */
  Tier0NotFound: 'Tier0NotFound',
  /** Another IP Space advertises through the same route map: the shared objects are fine. */
  Advertised: 'Advertised',
} as const;
export type RoutingReason = (typeof RoutingReasons)[keyof typeof RoutingReasons];
