package main

import (
	"fmt"
	"strings"

	"github.com/vmware/go-vcloud-director/v3/govcd"
	"github.com/vmware/go-vcloud-director/v3/types/v56"
)

// allocations covers allocations in the new IP Space: as the tenant by quantity (floating IPs and a
// prefix) and by value, as the provider for the tenant, then listing, updating and releasing them.
func allocations(r *runner, c *config, provider, tenant *govcd.VCDClient, f *found, made *created) {
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
}
