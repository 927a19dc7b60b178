// VCD login: an API token exchanged through the OAuth refresh-token grant, or Basic credentials
// against /cloudapi sessions. One login is shared by all concurrent requests; a token is reused
// until it expires or the server answers 401, and the session is ended on close.
import type { HttpCore, HttpResponse } from '../common/http.ts';
import type { Clock } from '../common/clock.ts';
import type { Logger } from '../common/logger.ts';
import type { SecretSet } from '../common/secrets.ts';
import { VcdAuthError } from './errors.ts';
import { toVcdApiError } from './errorMapping.ts';

export type VcdAuth = { apiToken: string } | { username: string; password: string };

/** Refresh this long before the server's stated expiry, so a request never carries a dying token. */
const EXPIRY_MARGIN_MS = 30_000;

interface Token {
  value: string;
  expiresAt: number | undefined;
}

export interface SessionOptions {
  core: HttpCore;
  org: string;
  auth: VcdAuth;
  secrets: SecretSet;
  clock: Clock;
  logger: Logger;
  apiVersion: () => string;
}

export class VcdSession {
  readonly #o: SessionOptions;
  #token: Token | undefined;
  #pending: Promise<Token> | undefined;

  constructor(o: SessionOptions) {
    this.#o = o;
    if ('apiToken' in o.auth) o.secrets.add(o.auth.apiToken);
    else o.secrets.addBasic(`${o.auth.username}@${o.org}`, o.auth.password);
  }

  get isProvider(): boolean {
    return this.#o.org.toLowerCase() === 'system';
  }

  /** A valid access token, logging in when there is none or it is about to expire. */
  async token(): Promise<string> {
    const t = this.#token;
    if (t && (t.expiresAt === undefined || this.#o.clock.now() < t.expiresAt - EXPIRY_MARGIN_MS)) return t.value;
    this.#pending ??= this.#login().finally(() => (this.#pending = undefined));
    return (await this.#pending).value;
  }

  /** Drops `value` if it is still the current token (another request may already have renewed it). */
  invalidate(value: string): void {
    if (this.#token?.value === value) {
      this.#o.secrets.remove(value);
      this.#token = undefined;
    }
  }

  async logout(): Promise<void> {
    const t = this.#token;
    this.#token = undefined;
    if (!t) return;
    try {
      const res = await this.#o.core.send({
        operation: 'session.logout',
        method: 'DELETE',
        path: '/cloudapi/1.0.0/sessions/current',
        headers: { Accept: `application/json;version=${this.#o.apiVersion()}`, Authorization: `Bearer ${t.value}` },
      });
      if (res.status >= 300 && res.status !== 401) {
        this.#o.logger.warn({ service: 'vcd', status: res.status }, 'VCD logout was refused; the session will expire on its own');
      }
    } catch (err) {
      this.#o.logger.warn({ service: 'vcd', err: (err as Error).message }, 'VCD logout failed; the session will expire on its own');
    } finally {
      this.#o.secrets.remove(t.value);
    }
  }

  async #login(): Promise<Token> {
    const { auth } = this.#o;
    const token = 'apiToken' in auth ? await this.#exchangeApiToken(auth.apiToken) : await this.#basicLogin(auth.username, auth.password);
    this.#o.secrets.add(token.value);
    this.#token = token;
    this.#o.logger.info({ service: 'vcd', org: this.#o.org, method: 'apiToken' in auth ? 'apiToken' : 'basic' }, 'logged in to VCD');
    return token;
  }

  async #exchangeApiToken(apiToken: string): Promise<Token> {
    const path = this.isProvider ? '/oauth/provider/token' : `/oauth/tenant/${encodeURIComponent(this.#o.org)}/token`;
    const res = await this.#o.core.send({
      operation: 'session.login',
      method: 'POST',
      path,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: apiToken }).toString(),
    });
    this.#check(res);
    const body = (res.data ?? {}) as Record<string, unknown>;
    const value = body['access_token'];
    if (typeof value !== 'string' || value === '') throw new VcdAuthError('session.login', res.status, 'the token endpoint returned no access_token');
    const expiresIn = Number(body['expires_in']);
    return { value, expiresAt: Number.isFinite(expiresIn) && expiresIn > 0 ? this.#o.clock.now() + expiresIn * 1000 : undefined };
  }

  async #basicLogin(username: string, password: string): Promise<Token> {
    const path = this.isProvider ? '/cloudapi/1.0.0/sessions/provider' : '/cloudapi/1.0.0/sessions';
    const basic = Buffer.from(`${username}@${this.#o.org}:${password}`).toString('base64');
    const res = await this.#o.core.send({
      operation: 'session.login',
      method: 'POST',
      path,
      headers: { Accept: `application/json;version=${this.#o.apiVersion()}`, Authorization: `Basic ${basic}` },
    });
    this.#check(res);
    const value = res.headers['x-vmware-vcloud-access-token'];
    if (!value) throw new VcdAuthError('session.login', res.status, 'the login response carried no X-VMWARE-VCLOUD-ACCESS-TOKEN');
    return { value, expiresAt: undefined };
  }

  #check(res: HttpResponse): void {
    if (res.status >= 200 && res.status < 300) return;
    const err = toVcdApiError('session.login', res, (s) => this.#o.secrets.scrub(s));
    if (res.status === 400 || res.status === 401 || res.status === 403) {
      throw new VcdAuthError('session.login', res.status, `${err.serverMessage} (org ${this.#o.org})`, err.requestId);
    }
    throw err;
  }
}
