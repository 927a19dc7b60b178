// Who is calling: Basic logins create sessions, API tokens are exchanged for access tokens, and
// every CloudAPI request carries a bearer token (scheme matched case-insensitively, as govcd
// writes `bearer`). A provider may act inside an org through the tenant-context header.
import { randomBytes, randomUUID } from 'node:crypto';
import type { SimRequest } from '../core/types.ts';
import { VcdError, unauthorized } from './errors.ts';

export interface UserRecord {
  id: string;
  username: string;
  password: string;
  apiToken: string;
  orgId: string;
  orgName: string;
  provider: boolean;
}

export interface SessionRecord {
  id: string;
  token: string;
  user: UserRecord;
  /** ms since epoch */
  expiresAt: number;
  /** true when created from an API token (those cannot manage tokens or users). */
  fromApiToken: boolean;
}

/** The identity of one request: the session's user and the org it acts in. */
export interface Caller {
  session: SessionRecord;
  user: UserRecord;
  provider: boolean;
  /** The org the request acts in: the user's org, or the tenant context of a provider. */
  orgId: string;
}

export const SESSION_IDLE_MINUTES = 30;
export const ACCESS_TOKEN_SECONDS = 3600;

export class AuthStore {
  #users: UserRecord[] = [];
  #sessionsByToken = new Map<string, SessionRecord>();
  #sessionsById = new Map<string, SessionRecord>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  addUser(u: UserRecord): void {
    this.#users.push(u);
  }

  users(): readonly UserRecord[] {
    return this.#users;
  }

  clear(): void {
    this.#users = [];
    this.#sessionsByToken.clear();
    this.#sessionsById.clear();
  }

  /** Checks `Authorization: Basic base64(user@org:password)`. */
  basicLogin(header: string | undefined): UserRecord {
    const m = /^basic\s+(\S+)$/i.exec(header ?? '');
    if (!m) throw unauthorized('Basic authentication with user@org is required.');
    const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const login = colon < 0 ? decoded : decoded.slice(0, colon);
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    const at = login.lastIndexOf('@');
    if (at < 0) throw unauthorized('The user name must be given as user@org.');
    const username = login.slice(0, at);
    const org = login.slice(at + 1).toLowerCase();
    const user = this.#users.find((u) => u.username === username && u.orgName.toLowerCase() === org);
    if (!user || user.password !== password) throw unauthorized('Invalid credentials.');
    return user;
  }

  /** The user of an API token presented at the provider (orgName undefined) or a tenant's endpoint. */
  apiTokenLogin(orgName: string | undefined, refreshToken: string): UserRecord | undefined {
    if (refreshToken === '') return undefined;
    return this.#users.find(
      (u) => u.apiToken === refreshToken && (orgName === undefined ? u.provider : !u.provider && u.orgName.toLowerCase() === orgName.toLowerCase()),
    );
  }

  createSession(user: UserRecord, fromApiToken: boolean, lifetimeSeconds = SESSION_IDLE_MINUTES * 60): SessionRecord {
    const s: SessionRecord = {
      id: `urn:vcloud:session:${randomUUID()}`,
      token: newJwtLike(user),
      user,
      expiresAt: this.#now() + lifetimeSeconds * 1000,
      fromApiToken,
    };
    this.#sessionsByToken.set(s.token, s);
    this.#sessionsById.set(s.id, s);
    if (this.#sessionsById.size % 1000 === 0) this.#dropExpired();
    return s;
  }

  #dropExpired(): void {
    const now = this.#now();
    for (const s of this.#sessionsById.values()) if (now > s.expiresAt) this.endSession(s);
  }

  endSession(s: SessionRecord): void {
    this.#sessionsByToken.delete(s.token);
    this.#sessionsById.delete(s.id);
  }

  sessionById(id: string): SessionRecord | undefined {
    return this.#sessionsById.get(id);
  }

  sessionsOf(user: UserRecord): SessionRecord[] {
    return [...this.#sessionsById.values()].filter((s) => s.user === user);
  }

  /** Makes every current session expire, so clients must log in or refresh again. */
  expireAll(): number {
    const n = this.#sessionsById.size;
    this.#sessionsByToken.clear();
    this.#sessionsById.clear();
    return n;
  }

  /** The live session of an access token (the message bus checks its upgrade request with it). */
  sessionOfToken(token: string): SessionRecord | undefined {
    const session = this.#sessionsByToken.get(token);
    if (!session) return undefined;
    if (this.#now() > session.expiresAt) {
      this.endSession(session);
      return undefined;
    }
    return session;
  }

  /** The caller of a bearer-authenticated request, or a 401. */
  authenticate(req: SimRequest, orgIdByUuid: (uuid: string) => string | undefined): Caller {
    const token = bearerToken(req);
    if (!token) throw unauthorized();
    const session = this.#sessionsByToken.get(token);
    if (!session) throw unauthorized('The session is invalid or has expired.');
    const now = this.#now();
    if (now > session.expiresAt) {
      this.endSession(session);
      throw unauthorized('The session has expired.');
    }
    if (!session.fromApiToken) session.expiresAt = now + SESSION_IDLE_MINUTES * 60_000;
    const user = session.user;
    let orgId = user.orgId;
    const ctx = req.headers['x-vmware-vcloud-tenant-context']?.trim();
    if (ctx) {
      const uuid = ctx.startsWith('urn:') ? (ctx.split(':').pop() as string) : ctx;
      const target = orgIdByUuid(uuid);
      if (!target) throw new VcdError(403, 'ACCESS_TO_RESOURCE_IS_FORBIDDEN', `The tenant context ${ctx} does not name an organization.`);
      if (!user.provider && target !== user.orgId) {
        throw new VcdError(403, 'ACCESS_TO_RESOURCE_IS_FORBIDDEN', 'A tenant user cannot act in another organization.');
      }
      orgId = target;
    }
    return { session, user, provider: user.provider, orgId };
  }
}

/** The bearer token from Authorization (any case of the scheme) or govcd's extra header. */
function bearerToken(req: SimRequest): string | undefined {
  const m = /^bearer\s+(\S+)$/i.exec(req.headers['authorization']?.trim() ?? '');
  if (m) return m[1];
  return req.headers['x-vmware-vcloud-access-token']?.trim() || undefined;
}

/** An opaque token shaped like VCD's JWTs (three base64url parts, well over 32 characters). */
function newJwtLike(user: UserRecord): string {
  const enc = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'RS256', typ: 'JWT' })}.${enc({ sub: user.username, org: user.orgName, jti: randomUUID() })}.${randomBytes(32).toString('base64url')}`;
}
