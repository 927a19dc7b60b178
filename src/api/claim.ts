// What FloatingIPClaim and IPPrefixClaim share: where to allocate from (connection, IP Space,
// org), what happens on delete, the immutability of all of it, and the status that names the
// allocation in VCD.
import { isDeepStrictEqual } from 'node:util';
import Type from 'typebox';
import { CloudRef, Conditions, ConnectionRef, ObservedGeneration, ReclaimPolicy, Str } from './common.ts';
import { readyColumn, tailColumns, type PrinterColumn } from './kind.ts';
import { cel, withRules } from './rules.ts';

/** Spec fields every claim has; fresh schemas per call, so each kind owns its rules. */
export function claimProperties(what: string) {
  return {
    connectionRef: withRules(ConnectionRef(), [
      cel(
        'self == oldSelf',
        `connectionRef is immutable; delete the ${what} and create a new one to use another connection`,
        (s, o) => s.kind === o.kind && s.name === o.name,
      ),
    ]),
    ipSpace: withRules(
      CloudRef(
        { what: 'IP Space', urnType: 'ipSpace', example: 'public-ips' },
        'The VCD IP Space to allocate from, by its name in VCD or its id. A Private and a Public IP Space may share a name; use the id then.',
      ),
      [
        cel(
          'self == oldSelf',
          `ipSpace is immutable; delete the ${what} and create a new one to allocate from another IP Space`,
          (s, o) => s.name === o.name && s.id === o.id,
        ),
      ],
    ),
    org: Type.Optional(
      CloudRef(
        { what: 'organization', urnType: 'org', example: 'acme' },
        'The organization that receives the allocation, when the connection is a provider (System) connection. Leave unset with a tenant connection: its own org receives it.',
      ),
    ),
    reclaimPolicy: Type.Optional(ReclaimPolicy),
  };
}

interface WithOrg {
  org?: { name?: string; id?: string };
}

/** Transition rules for optional fields: setting, changing or removing them after creation is refused. */
export function immutableOptional<S>(field: keyof S & string, message: string) {
  return cel<S>(
    `has(self.${field}) == has(oldSelf.${field}) && (!has(self.${field}) || self.${field} == oldSelf.${field})`,
    message,
    (s, o) => isDeepStrictEqual(s[field], o[field]),
    { fieldPath: `.${field}` },
  );
}

export function orgImmutable<S extends WithOrg>(what: string) {
  return immutableOptional<S>('org', `org is immutable; delete the ${what} and create a new one to allocate for another org`);
}

/** Status fields every claim has; `value` is `address` or `prefix`. */
export function claimStatusProperties() {
  return {
    observedGeneration: Type.Optional(ObservedGeneration),
    conditions: Type.Optional(Conditions),
    allocationId: Type.Optional(Str('Id of the allocation in VCD (urn:vcloud:ipSpaceIpAllocation:<uuid>).', { maxLength: 128 })),
    ipSpaceId: Type.Optional(Str('Id of the IP Space the allocation is in.', { maxLength: 128 })),
    ipSpaceName: Type.Optional(Str('Name of the IP Space the allocation is in.', { maxLength: 128 })),
    org: Type.Optional(Str('Name of the organization that holds the allocation.', { maxLength: 128 })),
  };
}

export function claimColumns(value: PrinterColumn): PrinterColumn[] {
  return [
    readyColumn(),
    value,
    { name: 'IP Space', type: 'string', jsonPath: '.status.ipSpaceName', description: 'The IP Space the allocation is in.' },
    { name: 'Org', type: 'string', jsonPath: '.status.org', description: 'The organization that holds the allocation.', priority: 1 },
    { name: 'Allocation', type: 'string', jsonPath: '.status.allocationId', description: 'Id of the allocation in VCD.', priority: 1 },
    ...tailColumns(),
  ];
}
