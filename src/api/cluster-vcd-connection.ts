// ClusterVCDConnection: a cluster-wide connection, typically with provider (System) credentials.
// Its Secret is read only in the operator's namespace, and only namespaces its allowedNamespaces
// selector matches may use it, so a tenant namespace cannot borrow provider rights by naming it.
import Type from 'typebox';
import { Obj } from './common.ts';
import { defineKind, objectSchema } from './kind.ts';
import { LabelSelector } from './label-selector.ts';
import { CONNECTION_SPEC_DESCRIPTION, connectionColumns, connectionSpecProperties, ConnectionStatus, withConnectionRules } from './vcd-connection.ts';

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
