// Schema pieces every kind shares: names of the API group, object metadata, conditions shaped
// like metav1.Condition, references to cloud objects and connections, IP/CIDR strings and
// policies. The builders take a description first, so no field reaches `kubectl explain` blank.
import Type, { type TSchema, type TSchemaOptions } from 'typebox';
import type { ObjectMeta as RuntimeObjectMeta } from '../runtime/types.ts';
import { isCIDR, isIP, parseCIDR } from './ip.ts';
import { cel, withRules } from './rules.ts';

export const GROUP = 'vcd-operator.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const CATEGORY = 'vcd';

// --- builders -----------------------------------------------------------------------------------

export function Str(description: string, opts: TSchemaOptions = {}) {
  return Type.String({ description, ...opts });
}

export function Int(description: string, opts: TSchemaOptions = {}) {
  return Type.Integer({ description, ...opts });
}

export function Bool(description: string, opts: TSchemaOptions = {}) {
  return Type.Boolean({ description, ...opts });
}

/** A string enum as Kubernetes wants it (`type: string` + `enum`), typed as the union of its values. */
export function StrEnum<const V extends readonly string[]>(values: V, description: string, opts: TSchemaOptions = {}) {
  return Type.Unsafe<V[number]>({ type: 'string', enum: [...values], description, ...opts });
}

export function List<T extends TSchema>(items: T, description: string, opts: TSchemaOptions & { maxItems: number }) {
  return Type.Array(items, { description, ...opts });
}

export function Obj<P extends Type.TProperties>(properties: P, description: string, opts: TSchemaOptions = {}) {
  return Type.Object(properties, { description, ...opts });
}

export function LabelMap(description: string, opts: TSchemaOptions & { maxProperties: number }) {
  return Type.Unsafe<Record<string, string>>({
    type: 'object',
    additionalProperties: { type: 'string', maxLength: 63, description: 'A label value.' },
    description,
    ...opts,
  });
}

// --- metadata -----------------------------------------------------------------------------------

/**
 * Validated by the apiserver itself; a CRD may not constrain it beyond `type: object`. Typed as the
 * wire form the runtime's informers hold (timestamps are RFC 3339 strings, not Dates).
 */
export const ObjectMeta = Type.Unsafe<RuntimeObjectMeta>({
  type: 'object',
  description: 'Standard object metadata: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
});

// --- conditions ---------------------------------------------------------------------------------

/** The condition types every kind reports. */
export const ConditionTypes = ['Ready', 'Synced'] as const;

/**
 * Stable CamelCase reasons for the Ready and Synced conditions. Users, scripts and Argo CD
 * health checks match on these, so they never change meaning.
 */
export const Reasons = {
  /** The cloud object exists and matches the spec. */
  Available: 'Available',
  /** A claim holds its address or prefix. */
  Allocated: 'Allocated',
  /** A connection logged in. */
  LoggedIn: 'LoggedIn',
  /** The last reconcile wrote what it had to and read back what it expected. */
  ReconcileSuccess: 'ReconcileSuccess',
  ReconcileError: 'ReconcileError',
  /** The cloud refused what was sent (a 4xx, a failed task); it will again until something changes. */
  Refused: 'Refused',
  Creating: 'Creating',
  Pending: 'Pending',
  Deleting: 'Deleting',
  DeleteBlocked: 'DeleteBlocked',
  InvalidSpec: 'InvalidSpec',
  QuotaExceeded: 'QuotaExceeded',
  IPSpaceNotFound: 'IPSpaceNotFound',
  OrgNotFound: 'OrgNotFound',
  ConnectionNotFound: 'ConnectionNotFound',
  ConnectionNotReady: 'ConnectionNotReady',
  ConnectionNotAllowed: 'ConnectionNotAllowed',
  /** A namespace named an org its ClusterVCDConnection's spec.tenants does not bind it to. */
  OrgNotAllowed: 'OrgNotAllowed',
  CredentialsInvalid: 'CredentialsInvalid',
  SecretNotFound: 'SecretNotFound',
  /** The operator may not read Secrets in the namespace (no RoleBinding grants it there). */
  SecretAccessNotGranted: 'SecretAccessNotGranted',
  UnsupportedAPIVersion: 'UnsupportedAPIVersion',
  AddressUnavailable: 'AddressUnavailable',
  Unreachable: 'Unreachable',
  /** A server's TLS certificate does not verify against the caBundle given for it. */
  CABundleMismatch: 'CABundleMismatch',
  /** The account logs in but lacks the privileges for what the operator must do. */
  NotAuthorized: 'NotAuthorized',
  /** No edge gateway with that name or id is visible through the connection. */
  EdgeGatewayNotFound: 'EdgeGatewayNotFound',
  /** appliedTo names no service interface of the edge gateway. */
  InterfaceNotFound: 'InterfaceNotFound',
  /** A firewall group or application port profile a rule names does not exist or is not usable there. */
  ReferenceNotFound: 'ReferenceNotFound',
  /** Another operation held the edge gateway for longer than the client waits. */
  EdgeBusy: 'EdgeBusy',
} as const;
export type Reason = (typeof Reasons)[keyof typeof Reasons];

/** Reasons of a connection's EventBus condition (VCD's message bus), beside Ready and Synced. */
export const EventBusReasons = {
  /** Subscribed to VCD's message bus; drift is repaired as events arrive. */
  Connected: 'EventBusConnected',
  /** The message bus cannot be reached; periodic resync only until it returns. */
  Unreachable: 'EventBusUnreachable',
  Connecting: 'EventBusConnecting',
} as const;

// Patterns and limits exactly as metav1.Condition declares them.
export const Condition = Obj(
  {
    type: Str('Type of condition in CamelCase: Ready (the cloud object is usable) or Synced (the last reconcile succeeded).', {
      maxLength: 316,
      pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
    }),
    status: StrEnum(['True', 'False', 'Unknown'] as const, 'Status of the condition: True, False or Unknown.'),
    observedGeneration: Type.Optional(
      Int('The metadata.generation the condition was set for; older than the object generation means stale.', {
        minimum: 0,
        format: 'int64',
      }),
    ),
    lastTransitionTime: Str('When the condition last changed status (RFC 3339).', { format: 'date-time' }),
    reason: Str('Machine-readable CamelCase reason for the last transition, e.g. Allocated or QuotaExceeded.', {
      minLength: 1,
      maxLength: 1024,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
    }),
    message: Str('Human-readable details: what happened and what to do about it.', { maxLength: 32768 }),
  },
  'One aspect of the current state, shaped like metav1.Condition.',
);
export type Condition = Type.Static<typeof Condition>;

export const Conditions = List(Condition, 'Current state: Ready says whether the object is usable, Synced whether the last reconcile worked.', {
  maxItems: 8,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
});

export const ObservedGeneration = Int('The metadata.generation the operator last acted on.', { minimum: 0, format: 'int64' });

// --- references ---------------------------------------------------------------------------------

/** VCD's URN form, `urn:vcloud:<type>:<uuid>`. */
export function urnPattern(type: string): string {
  return `^urn:vcloud:${type}:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`;
}

export interface CloudRefOptions {
  /** What the reference names, for descriptions ("IP Space"). */
  what: string;
  /** The URN type of the id (`ipSpace` for `urn:vcloud:ipSpace:...`). */
  urnType: string;
  /** An example name for descriptions. */
  example: string;
}

/** A reference to an object in VCD by its name or its id (exactly one), resolved through the connection. */
export function CloudRef(o: CloudRefOptions, description: string) {
  return withRules(
    Obj(
      {
        name: Type.Optional(Str(`Name of the ${o.what} in VCD, e.g. ${o.example}.`, { minLength: 1, maxLength: 128 })),
        id: Type.Optional(
          Str(`Id of the ${o.what} in VCD (urn:vcloud:${o.urnType}:<uuid>); use it when the name is ambiguous or may change.`, {
            maxLength: 128,
            pattern: urnPattern(o.urnType),
          }),
        ),
      },
      description,
    ),
    [cel('has(self.name) != has(self.id)', `set exactly one of name or id of the ${o.what}`, (s) => (s.name === undefined) !== (s.id === undefined))],
  );
}
export interface CloudRef {
  name?: string;
  id?: string;
}

export const ConnectionKinds = ['VCDConnection', 'ClusterVCDConnection'] as const;
export type ConnectionKind = (typeof ConnectionKinds)[number];

/** A fresh schema per use, so a kind can attach its own rules (immutability) to it. */
export function ConnectionRef() {
  return Obj(
    {
      kind: StrEnum(
        ConnectionKinds,
        'VCDConnection (in this namespace) or ClusterVCDConnection (cluster-wide, usable only from namespaces its allowedNamespaces selects).',
      ),
      name: Str('Name of the connection object.', { minLength: 1, maxLength: 253 }),
    },
    'The connection (VCD endpoint, org and credentials) this object is managed through.',
  );
}
export type ConnectionRef = Type.Static<ReturnType<typeof ConnectionRef>>;

// --- addresses ----------------------------------------------------------------------------------

// Longest textual forms: IPv6 with an embedded IPv4 tail is 45 characters, plus "/128".
const IP_MAX = 45;
const CIDR_MAX = 49;

export function IPString(description: string) {
  return withRules(Str(description, { maxLength: IP_MAX }), [
    cel('isIP(self)', 'must be an IPv4 or IPv6 address such as 203.0.113.10 or 2001:db8::10 (no leading zeros, no zone, no IPv4-mapped IPv6)', (s) => isIP(s)),
  ]);
}

export function CIDRString(description: string, opts: { networkAddress?: boolean } = {}) {
  const rules = [cel('isCIDR(self)', 'must be a CIDR such as 203.0.113.0/24 or 2001:db8::/64', (s: string) => isCIDR(s))];
  if (opts.networkAddress) {
    rules.push(
      cel(
        '!isCIDR(self) || cidr(self) == cidr(self).masked()',
        'must be a network address with the host bits zero, e.g. 198.51.100.16/28 rather than 198.51.100.17/28',
        (s: string) => {
          const c = parseCIDR(s);
          if (!c) return true;
          const hostBits = (1n << BigInt((c.ip.family === 4 ? 32 : 128) - c.prefixLength)) - 1n;
          return (c.ip.value & hostBits) === 0n;
        },
      ),
    );
  }
  return withRules(Str(description, { maxLength: CIDR_MAX }), rules);
}

// --- policies -----------------------------------------------------------------------------------

export const ReclaimPolicies = ['Delete', 'Retain'] as const;
export type ReclaimPolicy = (typeof ReclaimPolicies)[number];
export const ReclaimPolicy = StrEnum(
  ReclaimPolicies,
  'What happens to the allocation when this claim is deleted: Delete gives it back to the IP Space; Retain keeps it allocated in VCD, marked as retained, for someone to reuse or release by hand.',
  { default: 'Delete' },
);

export const DeletionPolicies = ['Delete', 'Orphan'] as const;
export type DeletionPolicy = (typeof DeletionPolicies)[number];
export const DeletionPolicy = StrEnum(
  DeletionPolicies,
  'What happens in VCD when this object is deleted: Delete removes the cloud object (and waits while VCD refuses, e.g. because allocations remain); Orphan leaves it in VCD untouched.',
  { default: 'Delete' },
);

/** -1 means unlimited and 0 means none, as VCD defines quotas. */
export function Quota(description: string) {
  return Int(`${description} -1 means unlimited, 0 means none.`, { minimum: -1, maximum: 2147483647 });
}
