package main

import (
	"fmt"

	"github.com/vmware/go-vcloud-director/v3/govcd"
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
