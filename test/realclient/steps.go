package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/vmware/go-vcloud-director/v3/govcd"
	"github.com/vmware/go-vcloud-director/v3/types/v56"
)

// run drives every step in order; later steps use what earlier ones created and fail by name when
// that is missing.
func run(r *runner, c *config) {
	var provider, tenant, providerTok, tenantTok *govcd.VCDClient

	// Login: password and API token, as the System org and as a tenant.
	r.step("login/provider-password", func() (string, error) {
		cl, err := c.newClient()
		if err != nil {
			return "", err
		}
		if err := cl.Authenticate(c.providerUser, c.providerPass, "System"); err != nil {
			return "", err
		}
		if cl.Client.VCDToken == "" {
			return "", fmt.Errorf("no access token after login")
		}
		provider = cl
		return fmt.Sprintf("api %s sysadmin=%t", cl.Client.APIVersion, cl.Client.IsSysAdmin), nil
	})
	r.step("login/provider-wrong-password-refused", func() (string, error) {
		cl, err := c.newClient()
		if err != nil {
			return "", err
		}
		if err := cl.Authenticate(c.providerUser, c.providerPass+"-wrong", "System"); err == nil {
			return "", fmt.Errorf("a wrong password was accepted")
		}
		return "refused", nil
	})
	r.step("login/tenant-password", func() (string, error) {
		cl, err := c.newClient()
		if err != nil {
			return "", err
		}
		if err := cl.Authenticate(c.tenantUser, c.tenantPass, c.tenantOrg); err != nil {
			return "", err
		}
		if cl.Client.VCDToken == "" {
			return "", fmt.Errorf("no access token after login")
		}
		tenant = cl
		return "sysadmin=" + fmt.Sprint(cl.Client.IsSysAdmin), nil
	})
	r.step("login/tenant-wrong-password-refused", func() (string, error) {
		cl, err := c.newClient()
		if err != nil {
			return "", err
		}
		if err := cl.Authenticate(c.tenantUser, c.tenantPass+"-wrong", c.tenantOrg); err == nil {
			return "", fmt.Errorf("a wrong password was accepted")
		}
		return "refused", nil
	})
	r.step("login/provider-api-token", func() (string, error) {
		cl, err := c.newClient()
		if err != nil {
			return "", err
		}
		if err := cl.SetToken("System", govcd.ApiTokenHeader, c.providerToken); err != nil {
			return "", err
		}
		providerTok = cl
		return "access token in use=" + fmt.Sprint(cl.Client.UsingAccessToken), nil
	})
	r.step("login/tenant-api-token", func() (string, error) {
		cl, err := c.newClient()
		if err != nil {
			return "", err
		}
		if err := cl.SetToken(c.tenantOrg, govcd.ApiTokenHeader, c.tenantToken); err != nil {
			return "", err
		}
		tenantTok = cl
		return "access token in use=" + fmt.Sprint(cl.Client.UsingAccessToken), nil
	})
	r.step("login/wrong-api-token-refused", func() (string, error) {
		cl, err := c.newClient()
		if err != nil {
			return "", err
		}
		if err := cl.SetToken(c.tenantOrg, govcd.ApiTokenHeader, c.tenantToken+"-wrong"); err == nil {
			return "", fmt.Errorf("a wrong API token was accepted")
		}
		return "refused", nil
	})

	nav := navigate(r, c, provider, tenant, tenantTok, providerTok)
	space := ipSpaces(r, c, provider, tenant, nav)
	networking(r, c, tenant, nav)
	cleanup(r, provider, space)
	logout(r, c, map[string]*govcd.VCDClient{"provider-password": provider, "tenant-password": tenant, "provider-api-token": providerTok, "tenant-api-token": tenantTok})
}

// What navigation found, for the steps after it.
type found struct {
	providerOrg *govcd.Org
	tenantOrg   *govcd.Org
	vdc         *govcd.Vdc
	edge        *govcd.NsxtEdgeGateway
	extNetId    string
}

func navigate(r *runner, c *config, provider, tenant, tenantTok, providerTok *govcd.VCDClient) *found {
	f := &found{}
	r.step("org/provider-get-org-by-name", func() (string, error) {
		if err := need("login/provider-password", provider != nil); err != nil {
			return "", err
		}
		org, err := provider.GetOrgByName(c.tenantOrg)
		if err != nil {
			return "", err
		}
		if org.Org.Name != c.tenantOrg || !strings.HasPrefix(org.Org.ID, "urn:vcloud:org:") {
			return "", fmt.Errorf("got org %q id %q", org.Org.Name, org.Org.ID)
		}
		f.providerOrg = org
		return org.Org.ID, nil
	})
	r.step("org/provider-get-admin-org-by-name", func() (string, error) {
		if err := need("login/provider-password", provider != nil); err != nil {
			return "", err
		}
		admin, err := provider.GetAdminOrgByName(c.tenantOrg)
		if err != nil {
			return "", err
		}
		names := []string{}
		for _, v := range admin.AdminOrg.Vdcs.Vdcs {
			names = append(names, v.Name)
		}
		if !contains(names, c.vdc) {
			return "", fmt.Errorf("admin org lists VDCs %v, not %s", names, c.vdc)
		}
		vdc, err := admin.GetVDCByName(c.vdc, false)
		if err != nil {
			return "", fmt.Errorf("admin org VDC: %s", err)
		}
		return fmt.Sprintf("vdcs %v, %s id %s", names, vdc.Vdc.Name, vdc.Vdc.ID), nil
	})
	r.step("org/tenant-get-org-and-vdc-by-name", func() (string, error) {
		if err := need("login/tenant-password", tenant != nil); err != nil {
			return "", err
		}
		org, err := tenant.GetOrgByName(c.tenantOrg)
		if err != nil {
			return "", err
		}
		vdc, err := org.GetVDCByName(c.vdc, false)
		if err != nil {
			return "", fmt.Errorf("VDC: %s", err)
		}
		if vdc.Vdc.Name != c.vdc || !strings.HasPrefix(vdc.Vdc.ID, "urn:vcloud:vdc:") {
			return "", fmt.Errorf("got VDC %q id %q", vdc.Vdc.Name, vdc.Vdc.ID)
		}
		f.tenantOrg, f.vdc = org, vdc
		return vdc.Vdc.ID, nil
	})
	r.step("org/tenant-cannot-see-other-org", func() (string, error) {
		if err := need("login/tenant-password", tenant != nil); err != nil {
			return "", err
		}
		if _, err := tenant.GetOrgByName(c.otherOrg); err == nil {
			return "", fmt.Errorf("tenant %s sees org %s", c.tenantOrg, c.otherOrg)
		} else if !govcd.ContainsNotFound(err) {
			return "", fmt.Errorf("expected not found, got %s", err)
		}
		return "not found", nil
	})
	r.step("org/api-token-clients-navigate", func() (string, error) {
		if err := need("login with API tokens", tenantTok != nil && providerTok != nil); err != nil {
			return "", err
		}
		org, err := tenantTok.GetOrgByName(c.tenantOrg)
		if err != nil {
			return "", fmt.Errorf("tenant token: %s", err)
		}
		if _, err := org.GetVDCByName(c.vdc, false); err != nil {
			return "", fmt.Errorf("tenant token VDC: %s", err)
		}
		if _, err := providerTok.GetAdminOrgByName(c.otherOrg); err != nil {
			return "", fmt.Errorf("provider token: %s", err)
		}
		return "ok", nil
	})
	r.step("org/tenant-edge-gateway-by-name", func() (string, error) {
		if err := need("org/tenant-get-org-and-vdc-by-name", f.vdc != nil); err != nil {
			return "", err
		}
		edge, err := f.vdc.GetNsxtEdgeGatewayByName(c.edge)
		if err != nil {
			return "", err
		}
		f.edge = edge
		return edge.EdgeGateway.ID, nil
	})
	r.step("org/provider-gateway-by-name", func() (string, error) {
		if err := need("login/provider-password", provider != nil); err != nil {
			return "", err
		}
		net, err := govcd.GetExternalNetworkV2ByName(provider, c.providerGw)
		if err != nil {
			return "", err
		}
		f.extNetId = net.ExternalNetwork.ID
		return f.extNetId, nil
	})
	r.step("legacy/vcd-version", func() (string, error) {
		if err := need("login/provider-password", provider != nil); err != nil {
			return "", err
		}
		v, err := provider.Client.GetVcdShortVersion()
		if err != nil {
			return "", err
		}
		max, err := provider.Client.MaxSupportedVersion()
		if err != nil {
			return "", err
		}
		return "VCD " + v + ", API up to " + max, nil
	})
	r.step("legacy/errors-are-xml", func() (string, error) {
		if err := need("login/tenant-password", tenant != nil); err != nil {
			return "", err
		}
		href := tenant.Client.VCDHREF
		href.Path += "/org/00000000-0000-0000-0000-000000000000"
		_, err := tenant.Client.ExecuteRequest(href.String(), "GET", "", "error retrieving org: %s", nil, &types.Org{})
		if err == nil {
			return "", fmt.Errorf("an unknown org was served")
		}
		if !strings.Contains(err.Error(), "ACCESS_TO_RESOURCE_IS_FORBIDDEN") {
			return "", fmt.Errorf("the error body was not parsed: %s", err)
		}
		return "403 " + err.Error(), nil
	})
	return f
}

// ipSpaces covers IP Space CRUD, uplinks, org assignments and allocations. It returns what
// cleanup must delete.
func ipSpaces(r *runner, c *config, provider, tenant *govcd.VCDClient, f *found) *created {
	made := &created{}
	name := c.prefix + "-public"
	r.step("ipspace/create", func() (string, error) {
		if err := need("login/provider-password", provider != nil); err != nil {
			return "", err
		}
		sp, err := provider.CreateIpSpace(&types.IpSpace{
			Name:                 name,
			Type:                 "PUBLIC",
			IPSpaceInternalScope: []string{"192.0.2.0/24"},
			IPSpaceExternalScope: "0.0.0.0/0",
			IPSpaceRanges: types.IPSpaceRanges{
				IPRanges:               []types.IpSpaceRangeValues{{StartIPAddress: "192.0.2.10", EndIPAddress: "192.0.2.99"}},
				DefaultFloatingIPQuota: 5,
			},
			IPSpacePrefixes: []types.IPSpacePrefixes{{
				IPPrefixSequence:            []types.IPPrefixSequence{{StartingPrefixIPAddress: "192.0.2.128", PrefixLength: 28, TotalPrefixCount: 4}},
				DefaultQuotaForPrefixLength: 2,
			}},
		})
		if err != nil {
			return "", err
		}
		made.space = sp
		return sp.IpSpace.ID, nil
	})
	r.step("ipspace/get-by-name-and-id", func() (string, error) {
		if err := need("ipspace/create", made.space != nil); err != nil {
			return "", err
		}
		byName, err := provider.GetIpSpaceByName(name)
		if err != nil {
			return "", err
		}
		byId, err := provider.GetIpSpaceById(made.space.IpSpace.ID)
		if err != nil {
			return "", err
		}
		if byName.IpSpace.ID != byId.IpSpace.ID || len(byId.IpSpace.IPSpaceRanges.IPRanges) != 1 {
			return "", fmt.Errorf("by name %s, by id %s, %d ranges", byName.IpSpace.ID, byId.IpSpace.ID, len(byId.IpSpace.IPSpaceRanges.IPRanges))
		}
		return "status " + byId.IpSpace.Status, nil
	})
	r.step("ipspace/update", func() (string, error) {
		if err := need("ipspace/create", made.space != nil); err != nil {
			return "", err
		}
		cfg := *made.space.IpSpace
		cfg.Description = "updated by govcd"
		cfg.IPSpaceRanges.DefaultFloatingIPQuota = 6
		upd, err := made.space.Update(&cfg)
		if err != nil {
			return "", err
		}
		if upd.IpSpace.Description != cfg.Description || upd.IpSpace.IPSpaceRanges.DefaultFloatingIPQuota != 6 {
			return "", fmt.Errorf("update not applied: %q quota %d", upd.IpSpace.Description, upd.IpSpace.IPSpaceRanges.DefaultFloatingIPQuota)
		}
		made.space = upd
		return "description and quota changed", nil
	})
	r.step("ipspace/route-advertisement-tasks-awaited", func() (string, error) {
		if err := need("login/provider-password", provider != nil); err != nil {
			return "", err
		}
		return "no sync task left running", provider.Client.WaitForRouteAdvertisementTasks()
	})

	// Uplink: connects the new IP Space to the provider gateway.
	r.step("uplink/create", func() (string, error) {
		if err := need("ipspace/create and org/provider-gateway-by-name", made.space != nil && f.extNetId != ""); err != nil {
			return "", err
		}
		up, err := provider.CreateIpSpaceUplink(&types.IpSpaceUplink{
			Name:               c.prefix + "-uplink",
			ExternalNetworkRef: &types.OpenApiReference{ID: f.extNetId},
			IPSpaceRef:         &types.OpenApiReference{ID: made.space.IpSpace.ID},
		})
		if err != nil {
			return "", err
		}
		made.uplink = up
		if err := provider.Client.WaitForRouteAdvertisementTasks(); err != nil {
			return "", fmt.Errorf("waiting for route advertisement: %s", err)
		}
		return fmt.Sprintf("%s type %s status %s", up.IpSpaceUplink.ID, up.IpSpaceUplink.IPSpaceType, up.IpSpaceUplink.Status), nil
	})
	r.step("uplink/list-get-update", func() (string, error) {
		if err := need("uplink/create", made.uplink != nil); err != nil {
			return "", err
		}
		all, err := provider.GetAllIpSpaceUplinks(f.extNetId, nil)
		if err != nil {
			return "", err
		}
		byName, err := provider.GetIpSpaceUplinkByName(f.extNetId, made.uplink.IpSpaceUplink.Name)
		if err != nil {
			return "", err
		}
		byId, err := provider.GetIpSpaceUplinkById(made.uplink.IpSpaceUplink.ID)
		if err != nil {
			return "", err
		}
		if byName.IpSpaceUplink.ID != byId.IpSpaceUplink.ID {
			return "", fmt.Errorf("by name %s, by id %s", byName.IpSpaceUplink.ID, byId.IpSpaceUplink.ID)
		}
		cfg := *byId.IpSpaceUplink
		cfg.Description = "updated by govcd"
		upd, err := byId.Update(&cfg)
		if err != nil {
			return "", err
		}
		if upd.IpSpaceUplink.Description != cfg.Description {
			return "", fmt.Errorf("description not updated: %q", upd.IpSpaceUplink.Description)
		}
		made.uplink = upd
		return fmt.Sprintf("%d uplinks on the gateway", len(all)), provider.Client.WaitForRouteAdvertisementTasks()
	})

	r.step("query/route-advertisement-tasks", func() (string, error) {
		if err := need("uplink/create", made.uplink != nil); err != nil {
			return "", err
		}
		all, err := provider.Client.QueryTaskList(map[string]string{"name": "ipSpaceUplinkRouteAdvertisementSync"})
		if err != nil {
			return "", err
		}
		if len(all) == 0 {
			return "", fmt.Errorf("no ipSpaceUplinkRouteAdvertisementSync task after an uplink change")
		}
		for _, t := range all {
			if t.Status != "success" {
				return "", fmt.Errorf("task %s is %s after waiting", t.HREF, t.Status)
			}
		}
		return fmt.Sprintf("%d sync tasks, all succeeded", len(all)), nil
	})

	// Org assignments: made implicitly for orgs whose edge gateways use the provider gateway.
	r.step("orgassignment/get-and-custom-quota", func() (string, error) {
		if err := need("uplink/create and org/provider-get-org-by-name", made.uplink != nil && f.providerOrg != nil); err != nil {
			return "", err
		}
		byName, err := made.space.GetOrgAssignmentByOrgName(c.tenantOrg)
		if err != nil {
			return "", err
		}
		byId, err := made.space.GetOrgAssignmentByOrgId(f.providerOrg.Org.ID)
		if err != nil {
			return "", err
		}
		if byName.IpSpaceOrgAssignment.ID != byId.IpSpaceOrgAssignment.ID {
			return "", fmt.Errorf("by name %s, by org id %s", byName.IpSpaceOrgAssignment.ID, byId.IpSpaceOrgAssignment.ID)
		}
		cfg := *byId.IpSpaceOrgAssignment
		cfg.CustomQuotas = &types.IpSpaceOrgAssignmentQuotas{
			FloatingIPQuota: intp(8),
			IPPrefixQuotas:  []types.IpSpaceOrgAssignmentIPPrefixQuotas{{PrefixLength: intp(28), Quota: intp(3)}},
		}
		upd, err := byId.Update(&cfg)
		if err != nil {
			return "", err
		}
		if upd.IpSpaceOrgAssignment.CustomQuotas == nil || upd.IpSpaceOrgAssignment.CustomQuotas.FloatingIPQuota == nil || *upd.IpSpaceOrgAssignment.CustomQuotas.FloatingIPQuota != 8 {
			return "", fmt.Errorf("custom quota not applied: %+v", upd.IpSpaceOrgAssignment.CustomQuotas)
		}
		all, err := made.space.GetAllOrgAssignments(nil)
		if err != nil {
			return "", err
		}
		orgs := []string{}
		for _, a := range all {
			orgs = append(orgs, a.IpSpaceOrgAssignment.OrgRef.Name)
		}
		return fmt.Sprintf("assigned orgs %v", orgs), nil
	})

	// Allocations, as the tenant: by quantity (floating IPs and a prefix) and by value.
	var floating []types.IpSpaceIpAllocationRequestResult
	r.step("allocation/floating-ip-quantity", func() (string, error) {
		if err := need("uplink/create and org/tenant-get-org-and-vdc-by-name", made.uplink != nil && f.tenantOrg != nil); err != nil {
			return "", err
		}
		res, err := f.tenantOrg.IpSpaceAllocateIp(made.space.IpSpace.ID, &types.IpSpaceIpAllocationRequest{Type: "FLOATING_IP", Quantity: intp(2)})
		if err != nil {
			return "", err
		}
		if len(res) != 2 || res[0].ID == "" || res[0].Value == "" {
			return "", fmt.Errorf("result %+v", res)
		}
		floating = res
		return res[0].Value + " " + res[1].Value, nil
	})
	r.step("allocation/ip-prefix-quantity", func() (string, error) {
		if err := need("uplink/create and org/tenant-get-org-and-vdc-by-name", made.uplink != nil && f.tenantOrg != nil); err != nil {
			return "", err
		}
		res, err := f.tenantOrg.IpSpaceAllocateIp(made.space.IpSpace.ID, &types.IpSpaceIpAllocationRequest{Type: "IP_PREFIX", PrefixLength: intp(28), Quantity: intp(1)})
		if err != nil {
			return "", err
		}
		if len(res) != 1 || !strings.HasSuffix(res[0].Value, "/28") {
			return "", fmt.Errorf("result %+v", res)
		}
		return res[0].Value, nil
	})
	r.step("allocation/floating-ip-value", func() (string, error) {
		if err := need("uplink/create and org/tenant-get-org-and-vdc-by-name", made.uplink != nil && f.tenantOrg != nil); err != nil {
			return "", err
		}
		res, err := f.tenantOrg.IpSpaceAllocateIp(made.space.IpSpace.ID, &types.IpSpaceIpAllocationRequest{Type: "FLOATING_IP", Value: "192.0.2.77"})
		if err != nil {
			return "", err
		}
		if len(res) != 1 || res[0].Value != "192.0.2.77" {
			return "", fmt.Errorf("result %+v", res)
		}
		return res[0].ID, nil
	})
	r.step("allocation/provider-for-tenant", func() (string, error) {
		if err := need("uplink/create and org/provider-get-org-by-name", made.uplink != nil && f.providerOrg != nil); err != nil {
			return "", err
		}
		res, err := made.space.AllocateIp(f.providerOrg.Org.ID, f.providerOrg.Org.Name, &types.IpSpaceIpAllocationRequest{Type: "FLOATING_IP", Quantity: intp(1)})
		if err != nil {
			return "", err
		}
		if len(res) != 1 {
			return "", fmt.Errorf("result %+v", res)
		}
		return res[0].Value, nil
	})
	r.step("allocation/list-find-update-release", func() (string, error) {
		if err := need("allocation/floating-ip-quantity", len(floating) == 2); err != nil {
			return "", err
		}
		all, err := made.space.GetAllIpSpaceAllocations("FLOATING_IP", nil)
		if err != nil {
			return "", err
		}
		a, err := f.tenantOrg.GetIpSpaceAllocationByTypeAndValue(made.space.IpSpace.ID, "FLOATING_IP", floating[0].Value, nil)
		if err != nil {
			return "", err
		}
		if a.IpSpaceIpAllocation.ID != floating[0].ID {
			return "", fmt.Errorf("found %s for %s, allocated %s", a.IpSpaceIpAllocation.ID, floating[0].Value, floating[0].ID)
		}
		cfg := *a.IpSpaceIpAllocation
		cfg.UsageState = "USED_MANUAL"
		cfg.Description = "held by govcd"
		upd, err := a.Update(&cfg)
		if err != nil {
			return "", err
		}
		if upd.IpSpaceIpAllocation.UsageState != "USED_MANUAL" {
			return "", fmt.Errorf("usage state %s", upd.IpSpaceIpAllocation.UsageState)
		}
		if err := upd.Delete(); err != nil {
			return "", fmt.Errorf("release: %s", err)
		}
		if _, err := f.tenantOrg.GetIpSpaceAllocationById(made.space.IpSpace.ID, floating[0].ID); !govcd.ContainsNotFound(err) {
			return "", fmt.Errorf("released allocation still found (err %v)", err)
		}
		return fmt.Sprintf("%d floating IPs listed by the provider", len(all)), nil
	})
	r.step("query/tenant-tasks", func() (string, error) {
		if err := need("allocation/floating-ip-quantity", len(floating) == 2); err != nil {
			return "", err
		}
		all, err := tenant.Client.QueryTaskList(map[string]string{"status": "success"})
		if err != nil {
			return "", err
		}
		names := map[string]int{}
		for _, t := range all {
			if t.OrgName != c.tenantOrg {
				return "", fmt.Errorf("tenant sees a task of org %q", t.OrgName)
			}
			names[t.Name]++
		}
		if names["ipSpaceIpAllocate"] == 0 {
			return "", fmt.Errorf("no allocate task among %v", names)
		}
		return fmt.Sprintf("%v", names), nil
	})
	r.step("allocation/release-all", func() (string, error) {
		if err := need("ipspace/create", made.space != nil); err != nil {
			return "", err
		}
		n := 0
		for _, kind := range []string{"FLOATING_IP", "IP_PREFIX"} {
			all, err := made.space.GetAllIpSpaceAllocations(kind, nil)
			if err != nil {
				return "", err
			}
			for _, a := range all {
				if err := a.Delete(); err != nil {
					return "", fmt.Errorf("release %s: %s", a.IpSpaceIpAllocation.Value, err)
				}
				n++
			}
		}
		return fmt.Sprintf("%d released", n), nil
	})
	r.step("allocation/floating-ip-suggestions", func() (string, error) {
		if err := need("org/tenant-edge-gateway-by-name", f.edge != nil); err != nil {
			return "", err
		}
		sugg, err := tenant.GetAllIpSpaceFloatingIpSuggestions(f.edge.EdgeGateway.ID, nil)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%d IP Spaces suggested", len(sugg)), nil
	})
	return made
}

// What the run created in the provider's name, deleted at the end.
type created struct {
	space  *govcd.IpSpace
	uplink *govcd.IpSpaceUplink
}

func networking(r *runner, c *config, tenant *govcd.VCDClient, f *found) {
	var group *govcd.NsxtFirewallGroup
	r.step("firewallgroup/ip-set-crud", func() (string, error) {
		if err := need("org/tenant-edge-gateway-by-name", f.edge != nil); err != nil {
			return "", err
		}
		g, err := f.edge.CreateNsxtFirewallGroup(&types.NsxtFirewallGroup{
			Name:        c.prefix + "-web",
			Description: "web servers",
			IpAddresses: []string{"10.10.2.10", "10.10.2.11-10.10.2.12"},
			OwnerRef:    &types.OpenApiReference{ID: f.edge.EdgeGateway.ID},
			TypeValue:   "IP_SET",
		})
		if err != nil {
			return "", err
		}
		byName, err := f.edge.GetNsxtFirewallGroupByName(g.NsxtFirewallGroup.Name, "IP_SET")
		if err != nil {
			return "", err
		}
		cfg := *byName.NsxtFirewallGroup
		cfg.IpAddresses = append(cfg.IpAddresses, "10.10.2.20")
		upd, err := byName.Update(&cfg)
		if err != nil {
			return "", err
		}
		if len(upd.NsxtFirewallGroup.IpAddresses) != 3 {
			return "", fmt.Errorf("addresses after update %v", upd.NsxtFirewallGroup.IpAddresses)
		}
		group = upd
		return g.NsxtFirewallGroup.ID, nil
	})
	var profile *govcd.NsxtAppPortProfile
	r.step("portprofile/tenant-crud", func() (string, error) {
		if err := need("org/tenant-get-org-and-vdc-by-name", f.tenantOrg != nil && f.vdc != nil); err != nil {
			return "", err
		}
		p, err := f.tenantOrg.CreateNsxtAppPortProfile(&types.NsxtAppPortProfile{
			Name:             c.prefix + "-app",
			Description:      "app ports",
			ApplicationPorts: []types.NsxtAppPortProfilePort{{Protocol: "TCP", DestinationPorts: []string{"8443", "9000-9010"}}},
			OrgRef:           &types.OpenApiReference{ID: f.tenantOrg.Org.ID, Name: f.tenantOrg.Org.Name},
			ContextEntityId:  f.vdc.Vdc.ID,
			Scope:            "TENANT",
		})
		if err != nil {
			return "", err
		}
		byName, err := f.tenantOrg.GetNsxtAppPortProfileByName(p.NsxtAppPortProfile.Name, "TENANT")
		if err != nil {
			return "", err
		}
		cfg := *byName.NsxtAppPortProfile
		cfg.Description = "app ports, updated"
		upd, err := byName.Update(&cfg)
		if err != nil {
			return "", err
		}
		if upd.NsxtAppPortProfile.Description != cfg.Description {
			return "", fmt.Errorf("description %q", upd.NsxtAppPortProfile.Description)
		}
		if _, err := f.tenantOrg.GetNsxtAppPortProfileByName("HTTPS", "SYSTEM"); err != nil {
			return "", fmt.Errorf("system profile HTTPS: %s", err)
		}
		profile = upd
		return p.NsxtAppPortProfile.ID, nil
	})
	r.step("firewall/rules-typed", func() (string, error) {
		if err := need("firewallgroup/ip-set-crud and portprofile/tenant-crud", group != nil && profile != nil); err != nil {
			return "", err
		}
		fw, err := f.edge.UpdateNsxtFirewall(&types.NsxtFirewallRuleContainer{UserDefinedRules: []*types.NsxtFirewallRule{{
			Name:                      c.prefix + "-allow-web",
			ActionValue:               "ALLOW",
			Enabled:                   true,
			DestinationFirewallGroups: []types.OpenApiReference{{ID: group.NsxtFirewallGroup.ID}},
			ApplicationPortProfiles:   []types.OpenApiReference{{ID: profile.NsxtAppPortProfile.ID}},
			IpProtocol:                "IPV4",
			Direction:                 "IN",
			Logging:                   true,
		}}})
		if err != nil {
			return "", err
		}
		got, err := f.edge.GetNsxtFirewall()
		if err != nil {
			return "", err
		}
		rules := got.NsxtFirewallRuleContainer.UserDefinedRules
		if len(rules) != 1 || rules[0].Name != c.prefix+"-allow-web" || len(rules[0].DestinationFirewallGroups) != 1 {
			return "", fmt.Errorf("rules after update: %d", len(rules))
		}
		return fmt.Sprintf("%d user rule, %d default", len(fw.NsxtFirewallRuleContainer.UserDefinedRules), len(got.NsxtFirewallRuleContainer.DefaultRules)), nil
	})
	r.step("firewall/applied-to-generic-openapi", func() (string, error) {
		if err := need("firewall/rules-typed and org/tenant-get-org-and-vdc-by-name", f.edge != nil && f.vdc != nil); err != nil {
			return "", err
		}
		return appliedTo(tenant, c, f)
	})
	r.step("firewall/delete-all-rules", func() (string, error) {
		if err := need("org/tenant-edge-gateway-by-name", f.edge != nil); err != nil {
			return "", err
		}
		fw, err := f.edge.GetNsxtFirewall()
		if err != nil {
			return "", err
		}
		if err := fw.DeleteAllRules(); err != nil {
			return "", err
		}
		after, err := f.edge.GetNsxtFirewall()
		if err != nil {
			return "", err
		}
		if len(after.NsxtFirewallRuleContainer.UserDefinedRules) != 0 {
			return "", fmt.Errorf("%d user rules left", len(after.NsxtFirewallRuleContainer.UserDefinedRules))
		}
		return "no user rules", nil
	})
	r.step("firewallgroup-portprofile/delete", func() (string, error) {
		if err := need("firewallgroup/ip-set-crud and portprofile/tenant-crud", group != nil && profile != nil); err != nil {
			return "", err
		}
		if err := group.Delete(); err != nil {
			return "", fmt.Errorf("group: %s", err)
		}
		if err := profile.Delete(); err != nil {
			return "", fmt.Errorf("profile: %s", err)
		}
		if _, err := f.edge.GetNsxtFirewallGroupById(group.NsxtFirewallGroup.ID); !govcd.ContainsNotFound(err) {
			return "", fmt.Errorf("deleted group still found (err %v)", err)
		}
		return "deleted", nil
	})
	staticRoutes(r, c, f)
}

// appliedTo sets the field govcd's typed rule lacks, through its generic OpenAPI calls, as a
// client needing it would: read the container as JSON, add appliedTo, write it back, read again.
func appliedTo(cl *govcd.VCDClient, c *config, f *found) (string, error) {
	client := &cl.Client
	const apiVersion = "37.2" // appliedTo exists from API 37.1
	urlRef, err := client.OpenApiBuildEndpoint(types.OpenApiPathVersion1_0_0 + fmt.Sprintf(types.OpenApiEndpointNsxtFirewallRules, f.edge.EdgeGateway.ID))
	if err != nil {
		return "", err
	}
	container := map[string]json.RawMessage{}
	if err := client.OpenApiGetItem(apiVersion, urlRef, nil, &container, nil); err != nil {
		return "", err
	}
	var rules []map[string]any
	if err := json.Unmarshal(container["userDefinedRules"], &rules); err != nil {
		return "", fmt.Errorf("userDefinedRules: %s", err)
	}
	if len(rules) == 0 {
		return "", fmt.Errorf("no user rule to scope")
	}
	// appliedTo names a service interface: here the edge's segment-backed (non Tier-0) uplink.
	target := ""
	for _, u := range f.edge.EdgeGateway.EdgeGatewayUplinks {
		if u.BackingType != nil && *u.BackingType != "NSXT_TIER0" {
			target = u.UplinkID
		}
	}
	if target == "" {
		return "", fmt.Errorf("edge %s has no service interface uplink", f.edge.EdgeGateway.Name)
	}
	rules[0]["appliedTo"] = map[string]string{"id": target}
	body := map[string]any{"userDefinedRules": rules}
	out := map[string]json.RawMessage{}
	if err := client.OpenApiPutItem(apiVersion, urlRef, nil, body, &out, nil); err != nil {
		return "", err
	}
	again := struct {
		UserDefinedRules []struct {
			Name      string `json:"name"`
			AppliedTo *struct {
				ID string `json:"id"`
			} `json:"appliedTo"`
		} `json:"userDefinedRules"`
	}{}
	if err := client.OpenApiGetItem(apiVersion, urlRef, url.Values{}, &again, nil); err != nil {
		return "", err
	}
	if len(again.UserDefinedRules) == 0 || again.UserDefinedRules[0].AppliedTo == nil || again.UserDefinedRules[0].AppliedTo.ID != target {
		return "", fmt.Errorf("appliedTo not kept: %+v", again.UserDefinedRules)
	}
	// The typed API still reads the container (it ignores the field it does not know).
	if _, err := f.edge.GetNsxtFirewall(); err != nil {
		return "", fmt.Errorf("typed read after appliedTo: %s", err)
	}
	return "appliedTo " + again.UserDefinedRules[0].AppliedTo.ID, nil
}

func staticRoutes(r *runner, c *config, f *found) {
	var route *govcd.NsxtEdgeGatewayStaticRoute
	var cfg types.NsxtEdgeGatewayStaticRoute
	r.step("staticroute/create", func() (string, error) {
		if err := need("org/tenant-edge-gateway-by-name", f.edge != nil && f.vdc != nil); err != nil {
			return "", err
		}
		net, err := f.vdc.GetOpenApiOrgVdcNetworkByName(c.routedNetwork)
		if err != nil {
			return "", fmt.Errorf("routed network %s: %s", c.routedNetwork, err)
		}
		gw := net.OpenApiOrgVdcNetwork.Subnets.Values[0].Gateway
		hop := strings.TrimSuffix(gw, ".1") + ".254"
		cfg = types.NsxtEdgeGatewayStaticRoute{
			Name:        c.prefix + "-route",
			Description: "to the lab",
			NetworkCidr: "10.99.0.0/16",
			NextHops: []types.NsxtEdgeGatewayStaticRouteNextHops{{
				IPAddress:     hop,
				AdminDistance: 4,
				Scope:         &types.NsxtEdgeGatewayStaticRouteNextHopScope{ID: net.OpenApiOrgVdcNetwork.ID, ScopeType: "NETWORK"},
			}},
		}
		sr, err := f.edge.CreateStaticRoute(&cfg)
		if err != nil {
			return "", err
		}
		route = sr
		return sr.NsxtEdgeGatewayStaticRoute.ID, nil
	})
	r.step("staticroute/list-and-get", func() (string, error) {
		if err := need("staticroute/create", route != nil); err != nil {
			return "", err
		}
		all, err := f.edge.GetAllStaticRoutes(nil)
		if err != nil {
			return "", err
		}
		byName, err := f.edge.GetStaticRouteByName(cfg.Name)
		if err != nil {
			return "", err
		}
		byCidr, err := f.edge.GetStaticRouteByNetworkCidr(cfg.NetworkCidr)
		if err != nil {
			return "", err
		}
		byId, err := f.edge.GetStaticRouteById(route.NsxtEdgeGatewayStaticRoute.ID)
		if err != nil {
			return "", err
		}
		if byName.NsxtEdgeGatewayStaticRoute.ID != byId.NsxtEdgeGatewayStaticRoute.ID || byCidr.NsxtEdgeGatewayStaticRoute.ID != byId.NsxtEdgeGatewayStaticRoute.ID {
			return "", fmt.Errorf("lookups disagree")
		}
		return fmt.Sprintf("%d routes", len(all)), nil
	})
	r.step("staticroute/update-without-version", func() (string, error) {
		if err := need("staticroute/create", route != nil); err != nil {
			return "", err
		}
		upd := cfg
		upd.ID = route.NsxtEdgeGatewayStaticRoute.ID
		upd.Name = cfg.Name + "-updated"
		upd.Description = "updated"
		got, err := route.Update(&upd)
		if err != nil {
			return "", err
		}
		if got.NsxtEdgeGatewayStaticRoute.Name != upd.Name || got.NsxtEdgeGatewayStaticRoute.ID != upd.ID {
			return "", fmt.Errorf("after update: %q %q", got.NsxtEdgeGatewayStaticRoute.Name, got.NsxtEdgeGatewayStaticRoute.ID)
		}
		route = got
		return got.NsxtEdgeGatewayStaticRoute.Name, nil
	})
	r.step("staticroute/delete", func() (string, error) {
		if err := need("staticroute/create", route != nil); err != nil {
			return "", err
		}
		if err := route.Delete(); err != nil {
			return "", err
		}
		if _, err := f.edge.GetStaticRouteById(route.NsxtEdgeGatewayStaticRoute.ID); !govcd.ContainsNotFound(err) {
			return "", fmt.Errorf("deleted route still found (err %v)", err)
		}
		return "deleted", nil
	})
}

func cleanup(r *runner, provider *govcd.VCDClient, made *created) {
	r.step("uplink/delete", func() (string, error) {
		if err := need("uplink/create", made.uplink != nil); err != nil {
			return "", err
		}
		if err := made.uplink.Delete(); err != nil {
			return "", err
		}
		if _, err := provider.GetIpSpaceUplinkById(made.uplink.IpSpaceUplink.ID); !govcd.ContainsNotFound(err) {
			return "", fmt.Errorf("deleted uplink still found (err %v)", err)
		}
		return "deleted", provider.Client.WaitForRouteAdvertisementTasks()
	})
	r.step("ipspace/delete", func() (string, error) {
		if err := need("ipspace/create", made.space != nil); err != nil {
			return "", err
		}
		if err := made.space.Delete(); err != nil {
			return "", err
		}
		if _, err := provider.GetIpSpaceById(made.space.IpSpace.ID); !govcd.ContainsNotFound(err) {
			return "", fmt.Errorf("deleted IP Space still found (err %v)", err)
		}
		return "deleted", nil
	})
}

func logout(r *runner, c *config, clients map[string]*govcd.VCDClient) {
	for _, name := range []string{"provider-password", "tenant-password", "provider-api-token", "tenant-api-token"} {
		cl := clients[name]
		r.step("logout/"+name, func() (string, error) {
			if err := need("login/"+name, cl != nil); err != nil {
				return "", err
			}
			if err := cl.Disconnect(); err != nil {
				return "", err
			}
			// The session is gone: the same client can no longer read its org.
			if _, err := cl.GetOrgByName(c.tenantOrg); err == nil {
				return "", fmt.Errorf("the session still works after logout")
			}
			return "session ended", nil
		})
	}
}

func intp(v int) *int { return &v }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
