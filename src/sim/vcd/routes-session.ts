// Versions, logins, API-token refresh and task polling: the routes a client needs before and
// around any CloudAPI call.
import type { Route, SimRequest, SimResponse } from '../core/types.ts';
import { ACCESS_TOKEN_SECONDS, SESSION_IDLE_MINUTES, type SessionRecord, type UserRecord } from './auth.ts';
import { type Call, type VcdContext, baseUrl, ok } from './context.ts';
import { forbiddenUnknown, unauthorized } from './errors.ts';
import { taskJson, taskXml, type TaskRecord } from './tasks.ts';
import { SUPPORTED_VERSIONS, atLeast, gate } from './version.ts';

const CLOUDAPI = '/cloudapi/1.0.0';

export function sessionRoutes(ctx: VcdContext): Route[] {
  const sessionBody = (s: SessionRecord, version: string, base: string): Record<string, unknown> =>
    gate(
      'Session',
      {
        id: s.id,
        site: { name: 'vcd-sim', id: 'urn:vcloud:site:00000000-0000-0000-0000-000000000001' },
        user: { name: s.user.username, id: s.user.id },
        org: { name: s.user.orgName, id: s.user.orgId },
        location: `${base}${CLOUDAPI}/sessions/${s.id}`,
        roles: [s.user.provider ? 'System Administrator' : 'Organization Administrator'],
        roleRefs: [
          { name: s.user.provider ? 'System Administrator' : 'Organization Administrator', id: `urn:vcloud:role:${s.user.provider ? 'sysadmin' : 'orgadmin'}` },
        ],
        sessionIdleTimeoutMinutes: SESSION_IDLE_MINUTES,
      },
      version,
    );

  const login = (provider: boolean) =>
    ctx.open((req: SimRequest): SimResponse => {
      const version = ctx.checkVersion(req, '33.0');
      const user = ctx.auth.basicLogin(req.headers['authorization']);
      // govcd logs System users in at /sessions/provider; VCD refuses the other combinations.
      if (user.provider !== provider) {
        throw unauthorized(provider ? 'Only System users log in at /sessions/provider.' : 'System users log in at /sessions/provider.');
      }
      const s = ctx.auth.createSession(user, false);
      return {
        status: 200,
        headers: { 'x-vmware-vcloud-access-token': s.token, 'x-vmware-vcloud-token-type': 'Bearer' },
        body: sessionBody(s, version, baseUrl(req)),
      };
    });

  const tokenGrant = (orgName: string | undefined) =>
    ctx.open((req: SimRequest): SimResponse => {
      const form = new URLSearchParams(req.rawBody);
      if (form.get('grant_type') !== 'refresh_token') {
        return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'Only grant_type=refresh_token is supported.' } };
      }
      const refresh = form.get('refresh_token') ?? '';
      const user: UserRecord | undefined = ctx.auth.apiTokenLogin(orgName, refresh);
      if (!user) {
        return { status: 400, body: { error: 'invalid_grant', error_description: 'The refresh token is invalid.' } };
      }
      const s = ctx.auth.createSession(user, true, ACCESS_TOKEN_SECONDS);
      return { status: 200, body: { access_token: s.token, token_type: 'Bearer', expires_in: ACCESS_TOKEN_SECONDS, refresh_token: null } };
    });

  const current = (call: Call): SimResponse => ok(sessionBody(call.caller.session, call.version, call.base));
  const logout = (call: Call): SimResponse => {
    ctx.auth.endSession(call.caller.session);
    return { status: 204 };
  };

  /** A task the caller may see: its own org's (providers see all). */
  const taskOf = (req: SimRequest): TaskRecord => {
    const caller = ctx.auth.authenticate(req, (uuid) => ctx.state.orgByUuid.get(uuid));
    const t = ctx.tasks.get(req.params['id'] ?? '');
    if (!t || (!caller.provider && t.org.id !== caller.orgId)) throw forbiddenUnknown(`urn:vcloud:task:${req.params['id'] ?? ''}`);
    return t;
  };

  const task = (req: SimRequest): SimResponse => {
    // The legacy task API answers XML (what govcd parses) unless JSON is asked for.
    const t = taskOf(req);
    const accept = req.headers['accept'] ?? '';
    if (/json/i.test(accept))
      return { status: 200, headers: { 'content-type': 'application/vnd.vmware.vcloud.task+json;version=37.2' }, body: taskJson(ctx.tasks, t, baseUrl(req)) };
    return { status: 200, headers: { 'content-type': 'application/vnd.vmware.vcloud.task+xml;version=37.2' }, body: taskXml(ctx.tasks, t, baseUrl(req)) };
  };

  const cancelTask = (req: SimRequest): SimResponse => {
    ctx.tasks.cancel(taskOf(req));
    return { status: 204 };
  };

  return [
    { method: 'GET', pattern: '/api/versions', handler: (req) => versions(req) },
    { method: 'POST', pattern: `${CLOUDAPI}/sessions`, handler: login(false) },
    { method: 'POST', pattern: `${CLOUDAPI}/sessions/provider`, handler: login(true) },
    { method: 'GET', pattern: `${CLOUDAPI}/sessions/current`, handler: ctx.api('34.0', current) },
    { method: 'DELETE', pattern: `${CLOUDAPI}/sessions/current`, handler: ctx.api('36.0', logout) },
    // govcd's Disconnect() sends DELETE to the URL it logged in at: /sessions for tenants and
    // token logins, /sessions/provider for System password logins. Both end the session.
    { method: 'DELETE', pattern: `${CLOUDAPI}/sessions`, handler: ctx.api('33.0', logout) },
    { method: 'DELETE', pattern: `${CLOUDAPI}/sessions/provider`, handler: ctx.api('33.0', logout) },
    {
      method: 'GET',
      pattern: `${CLOUDAPI}/sessions/{id}`,
      handler: ctx.api('33.0', (call) => {
        const s = ctx.auth.sessionById(call.req.params['id'] ?? '');
        if (!s || s.user !== call.caller.user) throw forbiddenUnknown(call.req.params['id'] ?? '');
        return ok(sessionBody(s, call.version, call.base));
      }),
    },
    {
      method: 'DELETE',
      pattern: `${CLOUDAPI}/sessions/{id}`,
      handler: ctx.api('33.0', (call) => {
        const s = ctx.auth.sessionById(call.req.params['id'] ?? '');
        if (!s || s.user !== call.caller.user) throw forbiddenUnknown(call.req.params['id'] ?? '');
        ctx.auth.endSession(s);
        return { status: 204 };
      }),
    },
    { method: 'POST', pattern: '/oauth/provider/token', handler: tokenGrant(undefined) },
    { method: 'POST', pattern: '/oauth/tenant/{org}/token', handler: ctx.open((req) => tokenGrant(req.params['org'] ?? '')(req)) },
    { method: 'GET', pattern: '/api/task/{id}', handler: ctx.open(task) },
    { method: 'POST', pattern: '/api/task/{id}/action/cancel', handler: ctx.open(cancelTask) },
  ];
}

/**
 * GET /api/versions: unauthenticated, XML unless JSON is asked for. From API 36.0 VCD advertises the
 * CloudAPI session endpoints as LoginUrl and ProviderLoginUrl (govcd's recorded /api/versions and
 * its TestClient_getloginurl show it); govcd v3 logs in at LoginUrl (+ "/provider" for System).
 */
function versions(req: SimRequest): SimResponse {
  const base = baseUrl(req);
  const loginUrl = (v: string): string => (atLeast(v, '36.0') ? `${base}${CLOUDAPI}/sessions` : `${base}/api/sessions`);
  const providerLoginUrl = (v: string): string | undefined => (atLeast(v, '36.0') ? `${base}${CLOUDAPI}/sessions/provider` : undefined);
  if (/json/i.test(req.headers['accept'] ?? '')) {
    return ok({
      versionInfo: SUPPORTED_VERSIONS.map((v) => ({
        version: v,
        loginUrl: loginUrl(v),
        ...(providerLoginUrl(v) ? { providerLoginUrl: providerLoginUrl(v) } : {}),
        deprecated: false,
      })),
    });
  }
  const infos = SUPPORTED_VERSIONS.map((v) => {
    const provider = providerLoginUrl(v);
    return `  <VersionInfo deprecated="false">\n    <Version>${v}</Version>\n    <LoginUrl>${loginUrl(v)}</LoginUrl>\n${provider ? `    <ProviderLoginUrl>${provider}</ProviderLoginUrl>\n` : ''}  </VersionInfo>`;
  }).join('\n');
  return {
    status: 200,
    headers: { 'content-type': 'application/xml;version=37.2' },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<SupportedVersions xmlns="http://www.vmware.com/vcloud/versions" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n${infos}\n</SupportedVersions>\n`,
  };
}
