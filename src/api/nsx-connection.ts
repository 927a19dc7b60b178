// NSXConnection: an NSX Manager endpoint with credentials from a Secret in the operator's
// namespace. Cluster-scoped and provider-only: the operator uses it for Tier-0 routing objects and
// traffic counters; tenant namespaces never name it.
import Type from 'typebox';
import { Bool, Conditions, Obj, ObservedGeneration, Str } from './common.ts';
import { defineKind, objectSchema, readyColumn, tailColumns } from './kind.ts';
import { cel, withRules } from './rules.ts';

/** Keys read from the credentials Secret. */
export const NsxCredentialKeys = { username: 'username', password: 'password' } as const;

// No userinfo: credentials belong in the Secret, never in a URL that status, events and logs show.
const NSX_URL = '^https://[^/?#@ ]+(/[^?# ]*)?$';
const NSX_URL_RE = new RegExp(NSX_URL);

export const NSXConnectionSpec = withRules(
  Obj(
    {
      url: withRules(Str('Base URL of the NSX Manager, e.g. https://nsx.example.com; /policy/api/v1 is added by the operator.', { maxLength: 2048 }), [
        cel(
          `self.matches('${NSX_URL}')`,
          'must be an https URL such as https://nsx.example.com, without user:password@, query or fragment (credentials go in the Secret)',
          (s) => NSX_URL_RE.test(s),
        ),
      ]),
      credentialsSecretRef: Obj(
        {
          name: Str(
            "Name of the Secret in the operator's namespace (vcd-operator-system by default). It holds username and password of an NSX user. Changes take effect without a restart.",
            {
              minLength: 1,
              maxLength: 253,
            },
          ),
        },
        "The Secret with the credentials, in the operator's namespace.",
      ),
      caBundle: Type.Optional(
        withRules(Str('PEM certificates that sign the NSX Manager certificate, when the system trust store does not.', { maxLength: 65536 }), [
          cel("self.contains('-----BEGIN CERTIFICATE-----')", 'must hold one or more PEM certificates (-----BEGIN CERTIFICATE----- ...)', (s) =>
            s.includes('-----BEGIN CERTIFICATE-----'),
          ),
        ]),
      ),
      insecureSkipTLSVerify: Type.Optional(
        Bool('Skip verification of the NSX Manager certificate. Only for throwaway test setups: anyone on the path can read the credentials.'),
      ),
    },
    'Where the NSX Manager is and how to log in.',
  ),
  [
    cel(
      '!(has(self.caBundle) && has(self.insecureSkipTLSVerify) && self.insecureSkipTLSVerify)',
      'set caBundle or insecureSkipTLSVerify, not both',
      (s) => !(s.caBundle !== undefined && s.insecureSkipTLSVerify === true),
    ),
  ],
);
export type NSXConnectionSpec = Type.Static<typeof NSXConnectionSpec>;

export const NSXConnectionStatus = Obj(
  {
    observedGeneration: Type.Optional(ObservedGeneration),
    conditions: Type.Optional(Conditions),
  },
  'What the operator observed: whether the login works.',
);
export type NSXConnectionStatus = Type.Static<typeof NSXConnectionStatus>;

export const NSXConnectionSchema = objectSchema(
  'NSXConnection',
  "An NSX Manager endpoint and credentials (from a Secret in the operator's namespace) that provider-side features use: Tier-0 advertisement of IP Space prefixes, traffic counters. Ready once a login succeeds.",
  NSXConnectionSpec,
  NSXConnectionStatus,
);
export type NSXConnection = Type.Static<typeof NSXConnectionSchema>;

export const NSXConnectionKind = defineKind({
  kind: 'NSXConnection',
  plural: 'nsxconnections',
  namespaced: false,
  shortNames: ['nsxconn'],
  schema: NSXConnectionSchema,
  printerColumns: [readyColumn(), { name: 'URL', type: 'string', jsonPath: '.spec.url', description: 'The NSX Manager endpoint.' }, ...tailColumns()],
});
