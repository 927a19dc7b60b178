// NSX Manager authentication: HTTP Basic on every request, or a session made by
// POST /api/session/create (form j_username/j_password) that answers with a JSESSIONID cookie and
// an X-XSRF-TOKEN header; session requests must send both back (reference A1).
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { SimClock } from '../core/core.ts';
import type { SimRequest, SimResponse } from '../core/types.ts';
import { NsxErrorCode, nsxError } from './errors.ts';

export interface NsxCredentials {
  username: string;
  password: string;
}

interface Session {
  xsrfToken: string;
  lastUsedMs: number;
}

export class NsxAuth {
  readonly #creds: NsxCredentials;
  readonly #clock: SimClock;
  readonly #idleTimeoutMs: number;
  #sessions = new Map<string, Session>();

  constructor(creds: NsxCredentials, clock: SimClock, idleTimeoutMs: number) {
    this.#creds = creds;
    this.#clock = clock;
    this.#idleTimeoutMs = idleTimeoutMs;
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  clear(): void {
    this.#sessions.clear();
  }

  /** POST /api/session/create */
  createSession(req: SimRequest): SimResponse {
    const form = new URLSearchParams(req.rawBody);
    if (!this.#matches(form.get('j_username') ?? '', form.get('j_password') ?? '')) return badCredentials();
    const id = randomBytes(16).toString('hex').toUpperCase();
    const xsrfToken = randomUUID();
    this.#sessions.set(id, { xsrfToken, lastUsedMs: this.#clock.now() });
    return {
      status: 200,
      headers: {
        'set-cookie': `JSESSIONID=${id}; Path=/; Secure; HttpOnly; SameSite=Lax`,
        'x-xsrf-token': xsrfToken,
      },
    };
  }

  /** POST /api/session/destroy */
  destroySession(req: SimRequest): SimResponse {
    const denied = this.check(req);
    if (denied) return denied;
    const id = sessionId(req);
    if (id) this.#sessions.delete(id);
    return { status: 200 };
  }

  /** Undefined when the request may proceed, else the NSX 403 to answer with. */
  check(req: SimRequest): SimResponse | undefined {
    const id = sessionId(req);
    if (id !== undefined) {
      const session = this.#sessions.get(id);
      const now = this.#clock.now();
      if (!session || now - session.lastUsedMs > this.#idleTimeoutMs) {
        this.#sessions.delete(id);
        return badCredentials();
      }
      if (!sameSecret(req.headers['x-xsrf-token'] ?? '', session.xsrfToken)) {
        return nsxError(403, NsxErrorCode.badXsrfToken, 'Bad XSRF token', 'common-services');
      }
      session.lastUsedMs = now;
      return undefined;
    }
    const basic = parseBasic(req.headers.authorization);
    if (basic && this.#matches(basic.username, basic.password)) return undefined;
    return badCredentials();
  }

  #matches(username: string, password: string): boolean {
    // Both comparisons always run, so timing does not tell which part was wrong.
    const userOk = sameSecret(username, this.#creds.username);
    const passOk = sameSecret(password, this.#creds.password);
    return userOk && passOk;
  }
}

function badCredentials(): SimResponse {
  return nsxError(403, NsxErrorCode.badCredentials, 'The credentials were incorrect or the account specified has been locked.', 'common-services');
}

function sessionId(req: SimRequest): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === 'JSESSIONID') return rest.join('=');
  }
  return undefined;
}

function parseBasic(header: string | undefined): NsxCredentials | undefined {
  const m = /^basic\s+(\S+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function sameSecret(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
