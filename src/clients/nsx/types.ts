// NSX Policy API shapes the client reads and writes (field names as in the Policy API).

export interface PolicyResource {
  id?: string;
  display_name?: string;
  description?: string;
  path?: string;
  resource_type?: string;
  _revision?: number;
  [field: string]: unknown;
}

export interface PrefixEntry {
  network: string;
  action: 'PERMIT' | 'DENY';
  ge?: number;
  le?: number;
}

export interface PrefixList extends PolicyResource {
  prefixes: PrefixEntry[];
}

export interface RouteMapEntry {
  action: 'PERMIT' | 'DENY';
  prefix_list_matches?: string[];
  community_list_matches?: { criteria: string; match_operator: string }[];
  set?: Record<string, unknown>;
}

export interface RouteMap extends PolicyResource {
  entries: RouteMapEntry[];
}

export interface RedistributionRule {
  name?: string;
  route_redistribution_types: string[];
  route_map_path?: string;
  destinations?: ('BGP' | 'OSPF')[];
}

export interface LocaleServices extends PolicyResource {
  route_redistribution_config?: {
    bgp_enabled?: boolean;
    ospf_enabled?: boolean;
    redistribution_rules?: RedistributionRule[];
  };
}

export interface InterfaceCounters {
  total_bytes?: number;
  total_packets?: number;
  dropped_packets?: number;
  [counter: string]: number | undefined;
}

export interface InterfaceStatistics {
  logical_router_port_id?: string;
  per_node_statistics?: { transport_node_id?: string; last_update_timestamp?: number; rx?: InterfaceCounters; tx?: InterfaceCounters }[];
}

export interface InterfaceStatisticsSummary {
  logical_router_port_id?: string;
  interface_policy_path?: string;
  last_update_timestamp?: number;
  rx?: InterfaceCounters;
  tx?: InterfaceCounters;
}

export interface ListResult<T> {
  results?: T[];
  result_count?: number;
  cursor?: string;
}
