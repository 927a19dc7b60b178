// VCDConnection: a VCD endpoint, an org and credentials from a Secret in the same namespace.
// The connection spec is shared with ClusterVCDConnection, which differs only in scope, in where
// its Secret lives and in who may use it.
import Type, { type TObject } from 'typebox';
import { Bool, Conditions, Obj, ObservedGeneration, Str } from './common.ts';
import { defineKind, objectSchema, readyColumn, tailColumns, type PrinterColumn } from './kind.ts';
import { cel, withRules } from './rules.ts';

/** Keys read from the credentials Secret: `apiToken`, or `username` and `password`. */
export const CredentialKeys = { apiToken: 'apiToken', username: 'username', password: 'password' } as const;

const HTTPS_URL = '^https://[^/?# ]+(/[^?# ]*)?$';
const HTTPS_URL_RE = new RegExp(HTTPS_URL);
// user:password@ (or user@) before the host: credentials belong in the Secret, and a URL is shown
// in printer columns, conditions and logs.
const URL_USERINFO = '^[^:/?#]+://[^/?#]*@';
const URL_USERINFO_RE = new RegExp(URL_USERINFO);

export const CONNECTION_SPEC_DESCRIPTION = 'Where VCD is and how to log in.';

/** Fields of a connection spec; `secretWhere` says in which namespace the credentials Secret is read. */
export function connectionSpecProperties(secretWhere: string) {
  return {
    url: withRules(Str('Base URL of VCD, e.g. https://vcd.example.com; the /api and /cloudapi paths are added by the operator.', { maxLength: 2048 }), [
      cel(`self.matches('${HTTPS_URL}')`, 'must be an https URL such as https://vcd.example.com (no query or fragment)', (s) => HTTPS_URL_RE.test(s)),
      cel(
        `!self.matches('${URL_USERINFO}')`,
        'must not contain a user name or password (user:password@host); put the credentials in the credentials Secret',
        (s) => !URL_USERINFO_RE.test(s),
      ),
    ]),
    org: Str('Organization to log in to: a tenant org name such as acme, or System for the provider (system administrator) context.', {
      minLength: 1,
      maxLength: 128,
    }),
    credentialsSecretRef: Obj(
      {
        name: Str(
          `Name of the Secret, ${secretWhere}. It holds apiToken (a VCD API token, preferred), or username and password. Changes take effect without a restart.`,
          { minLength: 1, maxLength: 253 },
        ),
      },
      `The Secret with the credentials, ${secretWhere}.`,
    ),
    caBundle: Type.Optional(
      withRules(Str('PEM certificates that sign the VCD server certificate, when the system trust store does not.', { maxLength: 65536 }), [
        cel("self.contains('-----BEGIN CERTIFICATE-----')", 'must hold one or more PEM certificates (-----BEGIN CERTIFICATE----- ...)', (s) =>
          s.includes('-----BEGIN CERTIFICATE-----'),
        ),
      ]),
    ),
    insecureSkipTLSVerify: Type.Optional(
      Bool('Skip verification of the VCD server certificate. Only for throwaway test setups: anyone on the path can read the credentials.'),
    ),
    apiVersion: Type.Optional(
      Str('Pin the VCD API version, e.g. 37.2. When unset, the highest version both VCD and the operator support is used (IP Spaces need 37.1 or later).', {
        maxLength: 16,
        pattern: '^[0-9]+\\.[0-9]+$',
      }),
    ),
  };
}

export function withConnectionRules<T extends TObject<ReturnType<typeof connectionSpecProperties>>>(spec: T): T {
  return withRules(spec, [
    cel(
      '!(has(self.caBundle) && has(self.insecureSkipTLSVerify) && self.insecureSkipTLSVerify)',
      'set caBundle or insecureSkipTLSVerify, not both',
      (s) => !(s.caBundle !== undefined && s.insecureSkipTLSVerify === true),
    ),
  ]);
}

export const ConnectionStatus = Obj(
  {
    observedGeneration: Type.Optional(ObservedGeneration),
    conditions: Type.Optional(Conditions),
    apiVersion: Type.Optional(Str('The VCD API version in use, negotiated with VCD or pinned by spec.apiVersion.', { maxLength: 16 })),
    vcdVersion: Type.Optional(Str('The VCD product version reported by the server, e.g. 10.4.2.', { maxLength: 64 })),
  },
  'What the operator observed: whether the login works and which versions are in use.',
);

export function connectionColumns(): PrinterColumn[] {
  return [
    readyColumn(),
    { name: 'Org', type: 'string', jsonPath: '.spec.org', description: 'The organization logged in to.' },
    { name: 'API', type: 'string', jsonPath: '.status.apiVersion', description: 'The VCD API version in use.' },
    { name: 'URL', type: 'string', jsonPath: '.spec.url', description: 'The VCD endpoint.', priority: 1 },
    { name: 'VCD', type: 'string', jsonPath: '.status.vcdVersion', description: 'The VCD product version.', priority: 1 },
    ...tailColumns(),
  ];
}

export const VCDConnectionSpec = withConnectionRules(Obj(connectionSpecProperties('in the same namespace as this VCDConnection'), CONNECTION_SPEC_DESCRIPTION));
export type VCDConnectionSpec = Type.Static<typeof VCDConnectionSpec>;
export type VCDConnectionStatus = Type.Static<typeof ConnectionStatus>;

export const VCDConnectionSchema = objectSchema(
  'VCDConnection',
  'A VCD endpoint, organization and credentials that objects in this namespace use. Ready once a login succeeds.',
  VCDConnectionSpec,
  ConnectionStatus,
);
export type VCDConnection = Type.Static<typeof VCDConnectionSchema>;

export const VCDConnectionKind = defineKind({
  kind: 'VCDConnection',
  plural: 'vcdconnections',
  namespaced: true,
  shortNames: ['vcdconn'],
  schema: VCDConnectionSchema,
  printerColumns: connectionColumns(),
});
