// vCenter API sessions: created with Basic credentials on POST /api/session (201, token as a JSON
// string) or POST /rest/com/vmware/cis/session (200, {"value": token}, plus a cookie unless the
// client sends vmware-use-header-authn); later calls carry the token in the
// vmware-api-session-id header (or, on /rest, that cookie). Reference B1.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { SimClock } from '../core/core.ts';
import type { SimRequest } from '../core/types.ts';
import { VapiError } from './errors.ts';

export const SESSION_HEADER = 'vmware-api-session-id';

interface Session {
  user: string;
  createdMs: number;
  lastUsedMs: number;
}

export interface SessionInfo {
  user: string;
  created_time: string;
  last_accessed_time: string;
}

export class VCenterSessions {
  readonly #username: string;
  readonly #password: string;
  readonly #clock: SimClock;
  readonly #idleTimeoutMs: number;
  #sessions = new Map<string, Session>();

  constructor(opts: { username: string; password: string; clock: SimClock; idleTimeoutMs: number }) {
    this.#username = opts.username;
    this.#password = opts.password;
    this.#clock = opts.clock;
    this.#idleTimeoutMs = opts.idleTimeoutMs;
  }

  get count(): number {
    return this.#sessions.size;
  }

  clear(): void {
    this.#sessions.clear();
  }

  /** Checks Basic credentials and opens a session; returns its token. */
  login(req: SimRequest): string {
    const creds = parseBasic(req.headers.authorization);
    const userOk = sameSecret(creds?.username ?? '', this.#username);
    const passOk = sameSecret(creds?.password ?? '', this.#password);
    if (!creds || !userOk || !passOk) {
      throw new VapiError('UNAUTHENTICATED', 'com.vmware.vapi.endpoint.method.authentication.required', 'Authentication required.');
    }
    const token = randomBytes(16).toString('hex');
    const now = this.#clock.now();
    this.#sessions.set(token, { user: this.#username, createdMs: now, lastUsedMs: now });
    return token;
  }

  /** The session the request authenticates with; throws UNAUTHENTICATED when there is none. */
  require(req: SimRequest): { token: string; info: SessionInfo } {
    const token = tokenOf(req);
    const session = token === undefined ? undefined : this.#sessions.get(token);
    const now = this.#clock.now();
    if (!token || !session || now - session.lastUsedMs > this.#idleTimeoutMs) {
      if (token) this.#sessions.delete(token);
      throw new VapiError('UNAUTHENTICATED', 'com.vmware.vapi.endpoint.method.authentication.required', 'Authentication required.');
    }
    session.lastUsedMs = now;
    return {
      token,
      info: {
        user: session.user,
        created_time: new Date(session.createdMs).toISOString(),
        last_accessed_time: new Date(session.lastUsedMs).toISOString(),
      },
    };
  }

  logout(token: string): void {
    this.#sessions.delete(token);
  }
}

function tokenOf(req: SimRequest): string | undefined {
  const header = req.headers[SESSION_HEADER];
  if (header) return header;
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === SESSION_HEADER) return rest.join('=');
  }
  return undefined;
}

function parseBasic(header: string | undefined): { username: string; password: string } | undefined {
  const m = /^basic\s+(\S+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function sameSecret(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
