package main

import (
	"fmt"

	"github.com/vmware/go-vcloud-director/v3/govcd"
	"github.com/vmware/go-vcloud-director/v3/types/v56"
)

// ipSpaces covers IP Space CRUD, uplinks, org assignments and (in allocation.go) allocations. It
// returns what cleanup must delete.
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

	allocations(r, c, provider, tenant, f, made)
	return made
}

// What the run created in the provider's name, deleted at the end.
type created struct {
	space  *govcd.IpSpace
	uplink *govcd.IpSpaceUplink
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
