// The legacy /api documents clients navigate by before any CloudAPI call: the org list (govcd
// checks every token login with it), an org, an admin org, a VDC and /api/admin (version info).
// XML in the vCloud 1.5 namespace, ids as VCD puts them: UUIDs in hrefs, URNs in `id`.
import type { Route } from '../core/types.ts';
import { type Call, type VcdContext } from './context.ts';
import { VcdError, forbiddenUnknown } from './errors.ts';
import type { OrgRec, VdcRec } from './state.ts';
import { uuidOf } from './state.ts';
import { VCLOUD_NS, attrs, esc, xmlResponse } from './xml.ts';

/** The product version and build date /api/admin reports, matching the newest API version served (39.0). */
export const VCD_PRODUCT_DESCRIPTION = '10.6.0.23905818 Thu Jun 20 2024 09:07:17 GMT';

const MT = {
  orgList: 'application/vnd.vmware.vcloud.orgList+xml',
  org: 'application/vnd.vmware.vcloud.org+xml',
  adminOrg: 'application/vnd.vmware.admin.organization+xml',
  vdc: 'application/vnd.vmware.vcloud.vdc+xml',
  vcloud: 'application/vnd.vmware.admin.vcloud+xml',
} as const;

export function legacyRoutes(ctx: VcdContext): Route[] {
  const { state } = ctx;
  const orgHref = (base: string, o: OrgRec): string => `${base}/api/org/${uuidOf(o.id)}`;
  const vdcHref = (base: string, v: VdcRec): string => `${base}/api/vdc/${uuidOf(v.id)}`;
  const vdcsOf = (o: OrgRec): VdcRec[] => [...state.vdcs.values()].filter((v) => v.orgId === o.id);
  /** Providers see every org; a tenant only its own (and 403 for the rest, as for unknown ids). */
  const visible = (call: Call, o: OrgRec): boolean => call.caller.provider || o.id === call.caller.user.orgId;

  const orgByUuid = (call: Call): OrgRec => {
    const raw = call.req.params['id'] ?? '';
    const o = state.orgs.get(state.orgByUuid.get(raw) ?? '');
    if (!o || !visible(call, o)) throw forbiddenUnknown(`urn:vcloud:org:${raw}`);
    return o;
  };

  const orgBody = (call: Call, o: OrgRec, admin: boolean): string => {
    const base = call.base;
    const links = vdcsOf(o).map((v) => `  <Link ${attrs({ rel: 'down', href: vdcHref(base, v), name: v.name, type: MT.vdc })}/>`);
    const inner = [
      ...links,
      `  <Description>${esc(o.description)}</Description>`,
      `  <FullName>${esc(o.displayName)}</FullName>`,
      `  <IsEnabled>true</IsEnabled>`,
    ];
    if (admin) {
      const vdcs = vdcsOf(o).map((v) => `    <Vdc ${attrs({ href: vdcHref(base, v), id: v.id, name: v.name, type: MT.vdc })}/>`);
      inner.push(`  <Vdcs>${vdcs.length ? `\n${vdcs.join('\n')}\n  ` : ''}</Vdcs>`);
    }
    const href = admin ? `${base}/api/admin/org/${uuidOf(o.id)}` : orgHref(base, o);
    const tag = admin ? 'AdminOrg' : 'Org';
    return `<${tag} ${attrs({ xmlns: VCLOUD_NS, href, id: o.id, name: o.name, type: admin ? MT.adminOrg : MT.org })}>\n${inner.join('\n')}\n</${tag}>`;
  };

  return [
    {
      method: 'GET',
      pattern: '/api/org',
      handler: ctx.api('33.0', (call) => {
        const orgs = [...state.orgs.values()].filter((o) => visible(call, o));
        const items = orgs.map((o) => `  <Org ${attrs({ href: orgHref(call.base, o), name: o.name, type: MT.org })}/>`);
        const body = `<OrgList ${attrs({ xmlns: VCLOUD_NS, href: `${call.base}/api/org/`, type: MT.orgList })}>\n${items.join('\n')}\n</OrgList>`;
        return xmlResponse(200, MT.orgList, call.version, body);
      }),
    },
    {
      method: 'GET',
      pattern: '/api/org/{id}',
      handler: ctx.api('33.0', (call) => xmlResponse(200, MT.org, call.version, orgBody(call, orgByUuid(call), false))),
    },
    {
      method: 'GET',
      pattern: '/api/admin/org/{id}',
      handler: ctx.api('33.0', (call) => xmlResponse(200, MT.adminOrg, call.version, orgBody(call, orgByUuid(call), true))),
    },
    {
      method: 'GET',
      pattern: '/api/vdc/{id}',
      handler: ctx.api('33.0', (call) => {
        const raw = call.req.params['id'] ?? '';
        const v = state.vdcs.get(`urn:vcloud:vdc:${raw}`);
        const o = v ? state.orgs.get(v.orgId) : undefined;
        if (!v || !o || !visible(call, o)) throw forbiddenUnknown(`urn:vcloud:vdc:${raw}`);
        const inner = [
          `  <Link ${attrs({ rel: 'up', href: orgHref(call.base, o), name: o.name, type: MT.org })}/>`,
          `  <Description></Description>`,
          `  <AllocationModel>Flex</AllocationModel>`,
          `  <NicQuota>0</NicQuota>`,
          `  <NetworkQuota>1000</NetworkQuota>`,
          `  <VmQuota>0</VmQuota>`,
          `  <IsEnabled>true</IsEnabled>`,
        ];
        const body = `<Vdc ${attrs({ xmlns: VCLOUD_NS, href: vdcHref(call.base, v), id: v.id, name: v.name, type: MT.vdc, status: 1 })}>\n${inner.join('\n')}\n</Vdc>`;
        return xmlResponse(200, MT.vdc, call.version, body);
      }),
    },
    {
      method: 'GET',
      pattern: '/api/admin',
      handler: ctx.api('33.0', (call) => {
        if (!call.caller.provider) throw new VcdError(403, 'ACCESS_TO_RESOURCE_IS_FORBIDDEN', 'This operation requires the System Administrator role.');
        const refs = [...state.orgs.values()].map(
          (o) => `    <OrganizationReference ${attrs({ href: `${call.base}/api/admin/org/${uuidOf(o.id)}`, name: o.name, type: MT.adminOrg })}/>`,
        );
        const body = [
          `<VCloud ${attrs({ xmlns: VCLOUD_NS, href: `${call.base}/api/admin`, name: 'VMware Cloud Director', type: MT.vcloud })}>`,
          `  <Description>${esc(VCD_PRODUCT_DESCRIPTION)}</Description>`,
          `  <OrganizationReferences>\n${refs.join('\n')}\n  </OrganizationReferences>`,
          `  <ProviderVdcReferences/>`,
          `</VCloud>`,
        ].join('\n');
        return xmlResponse(200, MT.vcloud, call.version, body);
      }),
    },
  ];
}
