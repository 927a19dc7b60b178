package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/vmware/go-vcloud-director/v3/govcd"
	"github.com/vmware/go-vcloud-director/v3/types/v56"
)

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
