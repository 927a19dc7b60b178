// FloatingIPClaim: one floating IP from an IP Space, allocated for an org (any free address, or a
// specific one), marked USED_MANUAL with the claim's identity, and released on delete unless
// reclaimPolicy is Retain.
import Type from 'typebox';
import { IPString, Obj, Str } from './common.ts';
import { claimColumns, claimProperties, claimStatusProperties, immutableOptional, orgImmutable } from './claim.ts';
import { defineKind, objectSchema } from './kind.ts';
import { withRules } from './rules.ts';

const spec = Obj(
  {
    ...claimProperties('FloatingIPClaim'),
    address: Type.Optional(
      IPString('A specific address to allocate, inside one of the IP Space ranges; needs VCD 10.4.2 (API 37.2). When unset, any free address is allocated.'),
    ),
  },
  'The floating IP wanted.',
);
type Spec = Type.Static<typeof spec>;

export const FloatingIPClaimSpec = withRules(spec, [
  immutableOptional<Spec>('address', 'address is immutable; delete the FloatingIPClaim and create a new one for another address'),
  orgImmutable<Spec>('FloatingIPClaim'),
]);
export type FloatingIPClaimSpec = Type.Static<typeof FloatingIPClaimSpec>;

export const FloatingIPClaimStatus = Obj(
  {
    ...claimStatusProperties(),
    address: Type.Optional(Str('The allocated floating IP.', { maxLength: 45 })),
  },
  'The allocation as it exists in VCD.',
);
export type FloatingIPClaimStatus = Type.Static<typeof FloatingIPClaimStatus>;

export const FloatingIPClaimSchema = objectSchema(
  'FloatingIPClaim',
  'A floating IP allocated from a VCD IP Space for an organization. Ready (reason Allocated) once status.address holds it; deleting the claim releases the address unless reclaimPolicy is Retain.',
  FloatingIPClaimSpec,
  FloatingIPClaimStatus,
);
export type FloatingIPClaim = Type.Static<typeof FloatingIPClaimSchema>;

export const FloatingIPClaimKind = defineKind({
  kind: 'FloatingIPClaim',
  plural: 'floatingipclaims',
  namespaced: true,
  shortNames: ['fip'],
  schema: FloatingIPClaimSchema,
  printerColumns: claimColumns({ name: 'Address', type: 'string', jsonPath: '.status.address', description: 'The allocated floating IP.' }),
});
