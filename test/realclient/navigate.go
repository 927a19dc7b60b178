package main

import (
	"fmt"
	"strings"

	"github.com/vmware/go-vcloud-director/v3/govcd"
	"github.com/vmware/go-vcloud-director/v3/types/v56"
)

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
