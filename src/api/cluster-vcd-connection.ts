// ClusterVCDConnection: a cluster-wide connection, typically with provider (System) credentials.
// Its Secret is read only in the operator's namespace, and only namespaces its allowedNamespaces
// selector matches may use it, so a tenant namespace cannot borrow provider rights by naming it.
// tenants binds namespaces to the orgs they may act for through it (claims for an org, rules on an
// org's edges), so a namespace allowed to use provider rights cannot use them for another org.
import Type from 'typebox';
import { List, Obj, Str } from './common.ts';
import { defineKind, objectSchema } from './kind.ts';
import { LabelSelector } from './label-selector.ts';
import { CONNECTION_SPEC_DESCRIPTION, connectionColumns, connectionSpecProperties, ConnectionStatus, withConnectionRules } from './vcd-connection.ts';

const OrgName = Str('Name of an organization in VCD (compared without regard to case), e.g. acme.', { minLength: 1, maxLength: 128 });

const TenantBinding = Obj(
  {
    namespaceSelector: Obj(
      { ...LabelSelector.properties },
      'The namespaces this binding applies to, by their labels (e.g. matchLabels: {kubernetes.io/metadata.name: team-a}); {} selects every namespace allowedNamespaces admits.',
    ),
    orgs: List(
      OrgName,
      'The organizations the selected namespaces may act for, by name. Bind by name: an object that names its org by id is checked after the id is looked up.',
      {
        minItems: 1,
        maxItems: 64,
      },
    ),
  },
  'One binding: namespaces, by their labels, and the organizations they may act for.',
);

export const ClusterVCDConnectionSpec = withConnectionRules(
  Obj(
    {
      ...connectionSpecProperties("in the operator's namespace (vcd-operator-system by default)"),
      allowedNamespaces: Type.Optional(
        Obj(
          { ...LabelSelector.properties },
          "Namespaces whose objects may use this connection, by their labels (e.g. matchLabels: {kubernetes.io/metadata.name: team-a}); {} allows every namespace. The operator's own namespace may always use it; when unset, only that one may.",
        ),
      ),
      tenants: Type.Optional(
        List(
          TenantBinding,
          "Which organizations each namespace may act for through this connection (allocate for, manage the edges of). When set, a namespace other than the operator's may act only for the orgs of the entries whose namespaceSelector matches its labels (none: it may act for no org); an object that names no org acts for this connection's own org (spec.org), so provider-level objects need that org bound. When unset, every namespace allowedNamespaces admits may act for any org. The binding lives here, on the credentials it limits, rather than in a namespace label: only who may edit this cluster-scoped object can widen it, and each provider connection (each VCD) has its own bindings.",
          { maxItems: 64 },
        ),
      ),
    },
    CONNECTION_SPEC_DESCRIPTION,
  ),
);
export type ClusterVCDConnectionSpec = Type.Static<typeof ClusterVCDConnectionSpec>;
export type ClusterVCDConnectionStatus = Type.Static<typeof ConnectionStatus>;

export const ClusterVCDConnectionSchema = objectSchema(
  'ClusterVCDConnection',
  "A cluster-wide VCD endpoint, organization and credentials (usually the provider's), usable from the namespaces allowedNamespaces selects. Ready once a login succeeds.",
  ClusterVCDConnectionSpec,
  ConnectionStatus,
);
export type ClusterVCDConnection = Type.Static<typeof ClusterVCDConnectionSchema>;

export const ClusterVCDConnectionKind = defineKind({
  kind: 'ClusterVCDConnection',
  plural: 'clustervcdconnections',
  namespaced: false,
  shortNames: ['cvcdconn'],
  schema: ClusterVCDConnectionSchema,
  printerColumns: connectionColumns(),
});
