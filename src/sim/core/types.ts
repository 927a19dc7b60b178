// The contract every simulated service (VCD, NSX, each vCenter) is written against. A service is
// a list of routes; the shared server in core/ runs them behind one HTTPS listener per instance and
// applies the cross-cutting knobs (latency, fault injection, counters, the audit log) uniformly,
// so no service re-implements them.

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type ServiceKind = 'vcd' | 'nsx' | 'vcenter';

export interface SimRequest {
  method: HttpMethod;
  /** Path without the query string, e.g. /cloudapi/1.0.0/ipSpaces/urn:vcloud:ipSpace:1 */
  path: string;
  /** Values captured by the route pattern, e.g. { id: 'urn:vcloud:ipSpace:1' }, URL-decoded. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** Header names lower-cased. */
  headers: Record<string, string | undefined>;
  /** Raw body text ('' when none). */
  rawBody: string;
  /** Parsed JSON body, or undefined when the body is empty or not JSON. */
  body: unknown;
  /** A matched 'task-error' or 'slow-task' fault, for the handler that creates the task to apply. */
  fault?: FaultRule;
  /** Who made an authenticated request (set by the service that authenticated it). */
  actor?: { orgId: string; userId: string };
}

export interface SimResponse {
  status: number;
  headers?: Record<string, string>;
  /** A string or bytes (Uint8Array, Buffer) are sent as they are; anything else as JSON. */
  body?: unknown;
}

export interface Route {
  method: HttpMethod;
  /** Path pattern with `{name}` segments, e.g. /cloudapi/1.0.0/ipSpaces/{id}/allocate. */
  pattern: string;
  /** Writes are recorded in the audit log; GETs are not, unless this says so. */
  write?: boolean;
  /** Routes without auth (e.g. /api/versions, session creation) say so; the service checks auth itself. */
  handler: (req: SimRequest) => SimResponse | Promise<SimResponse>;
}

/** What fault injection can do to a request that matches a rule. */
export type FaultKind =
  /** Answer with this status (5xx, 429 ...) without running the handler. */
  | 'status'
  /** Run the handler (the write commits) and then destroy the socket without answering. */
  | 'drop-after-commit'
  /** Make the task the handler creates end in error (VCD only). */
  | 'task-error'
  /** Make the task the handler creates take this much longer (VCD only). */
  | 'slow-task';

export interface FaultRule {
  /** Route pattern as in Route.pattern, e.g. 'POST /cloudapi/1.0.0/ipSpaces/{id}/allocate'. */
  route: string;
  service?: ServiceKind;
  /** Instance name (a vCenter's name); any when absent. */
  instance?: string;
  kind: FaultKind;
  /** For 'status'. */
  status?: number;
  /** For 'status' with 429/503: a Retry-After value in seconds. */
  retryAfterSeconds?: number;
  /** For 'slow-task': extra milliseconds. */
  delayMs?: number;
  /** How many matching requests it applies to; unlimited when absent. */
  times?: number;
}

/** One recorded write (any non-GET request, or a route marked `write`). */
export interface AuditEntry {
  seq: number;
  at: string;
  service: ServiceKind;
  instance: string;
  method: HttpMethod;
  path: string;
  route: string;
  status: number;
  /** The request body with secrets removed. */
  body?: unknown;
}
