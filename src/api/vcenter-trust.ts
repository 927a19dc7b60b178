// VCenterTrust: a set of vCenter Servers that must trust each other's certificates (their VMCA
// roots, plus optional extra roots), kept as a full mesh through VMCA renewals and membership
// changes. Cluster-scoped: it is provider infrastructure, and its credentials Secrets are read only
// in the operator's namespace.
import Type from 'typebox';
import { Bool, Conditions, Int, List, Obj, ObservedGeneration, Str } from './common.ts';
import { defineKind, objectSchema, readyColumn, tailColumns } from './kind.ts';
import { cel, withRules } from './rules.ts';

/** Keys read from a member's credentials Secret. */
export const VCenterCredentialKeys = { username: 'username', password: 'password' } as const;

// https, a host, no userinfo (credentials belong in the Secret), no query or fragment.
const MEMBER_URL = '^https://[^/?#@ ]+(/[^?# ]*)?$';
const MEMBER_URL_RE = new RegExp(MEMBER_URL);
const PEM_BEGIN = '-----BEGIN CERTIFICATE-----';
const MAX_MEMBERS = 32;

const PemBundle = (description: string, maxLength: number) =>
  withRules(Str(description, { maxLength }), [
    cel(`self.contains('${PEM_BEGIN}')`, `must hold one or more PEM certificates (${PEM_BEGIN} ...)`, (s) => s.includes(PEM_BEGIN)),
  ]);

export const VCenterTrustMember = Obj(
  {
    name: Str('A short name for this vCenter, used in status, conditions and events (e.g. vc-east).', {
      minLength: 1,
      maxLength: 63,
      pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
    }),
    url: withRules(Str('Base URL of the vCenter Server, e.g. https://vc-east.example.com; /api or /rest is added by the operator.', { maxLength: 2048 }), [
      cel(
        `self.matches('${MEMBER_URL}')`,
        'must be an https URL such as https://vc.example.com, without user:password@ (credentials go in the Secret), query or fragment',
        (s) => MEMBER_URL_RE.test(s),
      ),
    ]),
    credentialsSecretRef: Obj(
      {
        name: Str(
          "Name of the Secret in the operator's namespace (vcd-operator-system by default) with keys username and password of a vCenter account that may manage certificates. Changes take effect without a restart.",
          { minLength: 1, maxLength: 253 },
        ),
      },
      "The Secret with this vCenter's credentials, in the operator's namespace.",
    ),
    caBundle: Type.Optional(
      PemBundle("PEM certificates that sign this vCenter's TLS certificate (usually its VMCA root), when the system trust store does not.", 32768),
    ),
  },
  'One vCenter Server of the mesh.',
);
export type VCenterTrustMember = Type.Static<typeof VCenterTrustMember>;

export const VCenterTrustSpec = withRules(
  Obj(
    {
      members: List(
        VCenterTrustMember,
        "The vCenter Servers that must trust each other. Each one gets every other member's VMCA root(s) added to its trusted root chains.",
        {
          minItems: 1,
          maxItems: MAX_MEMBERS,
        },
      ),
      extraRoots: Type.Optional(
        PemBundle(
          'PEM CA certificates every member must trust as well (an enterprise CA, say). Each must be a CA certificate; a malformed or non-CA one stops all writes until it is fixed.',
          262144,
        ),
      ),
      prune: Type.Optional(
        Bool(
          'Remove roots this operator added that are no longer wanted (a member removed, a retired VMCA root, an extra root taken out). Roots the operator did not add are never touched. Default false.',
          { default: false },
        ),
      ),
    },
    'Which vCenter Servers trust each other, and what else they all trust.',
  ),
  [
    cel(
      'self.members.all(m, self.members.exists_one(n, n.name == m.name))',
      'member names must be unique',
      (s) => new Set(s.members.map((m) => m.name)).size === s.members.length,
      {
        fieldPath: '.members',
      },
    ),
    cel(
      'self.members.all(m, self.members.exists_one(n, n.url == m.url))',
      'member URLs must be unique: list each vCenter once',
      (s) => new Set(s.members.map((m) => m.url)).size === s.members.length,
      {
        fieldPath: '.members',
      },
    ),
  ],
);
export type VCenterTrustSpec = Type.Static<typeof VCenterTrustSpec>;

const Fingerprint = Str('SHA-256 fingerprint of the certificate (upper-case hex with colons).', { maxLength: 95 });

export const VCenterTrustMemberStatus = Obj(
  {
    name: Str('The member, as spec.members names it.', { maxLength: 63 }),
    apiFamily: Type.Optional(Str('The vCenter API family in use: api (7.0 U2+) or rest (older).', { maxLength: 8 })),
    ownRoots: Type.Optional(
      List(
        Obj(
          {
            sha256: Fingerprint,
            subject: Str('Subject of the root certificate.', { maxLength: 1024 }),
            notAfter: Type.Optional(Str('When the root expires (RFC 3339).', { maxLength: 64 })),
            serving: Type.Optional(Bool('Whether the TLS certificate this vCenter serves now chains to this root.')),
          },
          "One of this vCenter's own VMCA roots.",
        ),
        "This vCenter's own VMCA root(s): the issuer of its TLS certificate, and a renewed root beside it during a rotation.",
        { maxItems: 8 },
      ),
    ),
    trusts: Type.Optional(List(Str('A member name.', { maxLength: 63 }), 'The members whose roots this vCenter trusts.', { maxItems: MAX_MEMBERS })),
    missing: Type.Optional(
      List(Str('A member name.', { maxLength: 63 }), 'The members whose roots this vCenter does not trust yet.', { maxItems: MAX_MEMBERS }),
    ),
    problem: Type.Optional(Str('Why this vCenter could not be read or written, when it could not.', { maxLength: 4096 })),
  },
  'What the operator last saw on one member.',
);

export const VCenterTrustStatus = Obj(
  {
    observedGeneration: Type.Optional(ObservedGeneration),
    conditions: Type.Optional(Conditions),
    pairs: Type.Optional(Str('Ordered pairs (A trusts B) that hold, out of all, e.g. 6/6.', { maxLength: 16 })),
    trustedPairs: Type.Optional(Int('Ordered pairs of members where the first trusts the second.', { minimum: 0 })),
    totalPairs: Type.Optional(Int('All ordered pairs of distinct members: n × (n − 1).', { minimum: 0 })),
    members: Type.Optional(
      List(VCenterTrustMemberStatus, 'Per member: its own roots, which peers it trusts and which are missing.', { maxItems: MAX_MEMBERS }),
    ),
  },
  'What the operator observed across the mesh.',
);
export type VCenterTrustStatus = Type.Static<typeof VCenterTrustStatus>;
export type VCenterTrustMemberStatus = Type.Static<typeof VCenterTrustMemberStatus>;

export const VCenterTrustSchema = objectSchema(
  'VCenterTrust',
  "A set of vCenter Servers kept trusting each other's certificates (VMCA roots, plus extra roots), so cross-vCenter moves and clones do not fail with SSLVerifyFault. Ready when every member trusts every other.",
  VCenterTrustSpec,
  VCenterTrustStatus,
);
export type VCenterTrust = Type.Static<typeof VCenterTrustSchema>;

export const VCenterTrustKind = defineKind({
  kind: 'VCenterTrust',
  plural: 'vcentertrusts',
  namespaced: false,
  shortNames: ['vctrust'],
  schema: VCenterTrustSchema,
  printerColumns: [
    readyColumn(),
    { name: 'Pairs', type: 'string', jsonPath: '.status.pairs', description: 'Ordered pairs of members that trust each other, out of all.' },
    ...tailColumns(),
  ],
});
