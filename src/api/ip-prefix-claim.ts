// IPPrefixClaim: one IP prefix from an IP Space's prefix sequences (any free prefix of a length,
// or a specific CIDR), with the same marking and release lifecycle as a FloatingIPClaim.
import Type from 'typebox';
import { CIDRString, Int, Obj, Str } from './common.ts';
import { claimColumns, claimProperties, claimStatusProperties, immutableOptional, orgImmutable } from './claim.ts';
import { parseCIDR } from './ip.ts';
import { defineKind, objectSchema } from './kind.ts';
import { cel, withRules } from './rules.ts';

const spec = Obj(
  {
    ...claimProperties('IPPrefixClaim'),
    prefixLength: Type.Optional(
      Int('Length of the prefix to allocate, e.g. 28; the IP Space needs a prefix sequence of that length. At most 32 for IPv4, 128 for IPv6.', {
        minimum: 1,
        maximum: 128,
      }),
    ),
    cidr: Type.Optional(
      withRules(
        CIDRString('A specific prefix to allocate, e.g. 198.51.100.16/28, from one of the prefix sequences; needs VCD 10.4.2 (API 37.2).', {
          networkAddress: true,
        }),
        [cel('!isCIDR(self) || cidr(self).prefixLength() >= 1', 'prefix length must be at least 1', (s) => (parseCIDR(s)?.prefixLength ?? 1) >= 1)],
      ),
    ),
  },
  'The prefix wanted: a prefixLength (any free prefix of that length) or a specific cidr.',
);
type Spec = Type.Static<typeof spec>;

export const IPPrefixClaimSpec = withRules(spec, [
  cel(
    'has(self.prefixLength) || has(self.cidr)',
    'set prefixLength (any free prefix of that length) or cidr (a specific prefix)',
    (s) => s.prefixLength !== undefined || s.cidr !== undefined,
    {
      reason: 'FieldValueRequired',
    },
  ),
  cel(
    '!has(self.prefixLength) || !has(self.cidr) || !isCIDR(self.cidr) || cidr(self.cidr).prefixLength() == self.prefixLength',
    'prefixLength must equal the length of cidr; or leave prefixLength out',
    (s) => {
      const c = s.cidr === undefined ? undefined : parseCIDR(s.cidr);
      return s.prefixLength === undefined || !c || c.prefixLength === s.prefixLength;
    },
    { fieldPath: '.prefixLength' },
  ),
  immutableOptional<Spec>('prefixLength', 'prefixLength is immutable; delete the IPPrefixClaim and create a new one for another length'),
  immutableOptional<Spec>('cidr', 'cidr is immutable; delete the IPPrefixClaim and create a new one for another prefix'),
  orgImmutable<Spec>('IPPrefixClaim'),
]);
export type IPPrefixClaimSpec = Type.Static<typeof IPPrefixClaimSpec>;

export const IPPrefixClaimStatus = Obj(
  {
    ...claimStatusProperties(),
    prefix: Type.Optional(Str('The allocated prefix in CIDR notation.', { maxLength: 49 })),
  },
  'The allocation as it exists in VCD.',
);
export type IPPrefixClaimStatus = Type.Static<typeof IPPrefixClaimStatus>;

export const IPPrefixClaimSchema = objectSchema(
  'IPPrefixClaim',
  'An IP prefix allocated from a VCD IP Space for an organization. Ready (reason Allocated) once status.prefix holds it; deleting the claim releases the prefix unless reclaimPolicy is Retain.',
  IPPrefixClaimSpec,
  IPPrefixClaimStatus,
);
export type IPPrefixClaim = Type.Static<typeof IPPrefixClaimSchema>;

export const IPPrefixClaimKind = defineKind({
  kind: 'IPPrefixClaim',
  plural: 'ipprefixclaims',
  namespaced: true,
  shortNames: ['ipp'],
  schema: IPPrefixClaimSchema,
  printerColumns: claimColumns({ name: 'Prefix', type: 'string', jsonPath: '.status.prefix', description: 'The allocated prefix.' }),
});
