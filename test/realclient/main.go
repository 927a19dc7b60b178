// Drives a VCD (the simulator, in tests) through VMware's go-vcloud-director the way its users do,
// printing one line per step: "PASS <step> <detail>" or "FAIL <step> <why>". The exit status is
// the number of failed steps (capped at 100), so a caller can assert every step by name.
//
// Addresses and names come from flags; secrets only from the environment (RC_PROVIDER_PASSWORD,
// RC_PROVIDER_TOKEN, RC_TENANT_PASSWORD, RC_TENANT_TOKEN), so they never show in a process list.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/vmware/go-vcloud-director/v3/govcd"
)

type config struct {
	url           string
	caFile        string
	providerUser  string
	tenantOrg     string
	tenantUser    string
	otherOrg      string
	vdc           string
	edge          string
	providerGw    string
	routedNetwork string
	prefix        string
	providerPass  string
	providerToken string
	tenantPass    string
	tenantToken   string
	rootCAs       *x509.CertPool
	skipTlsVerify bool
}

func main() {
	c := &config{}
	flag.StringVar(&c.url, "url", "", "VCD base URL, e.g. https://127.0.0.1:8443")
	flag.StringVar(&c.caFile, "ca", "", "PEM file of the CA that signed the VCD certificate")
	flag.StringVar(&c.providerUser, "provider-user", "administrator", "System org user")
	flag.StringVar(&c.tenantOrg, "tenant-org", "acme", "tenant org")
	flag.StringVar(&c.tenantUser, "tenant-user", "acme-admin", "tenant org user")
	flag.StringVar(&c.otherOrg, "other-org", "globex", "a second tenant org (must stay invisible to the first)")
	flag.StringVar(&c.vdc, "vdc", "acme-vdc", "the tenant's VDC")
	flag.StringVar(&c.edge, "edge", "acme-edge", "the tenant's NSX-T edge gateway")
	flag.StringVar(&c.providerGw, "provider-gateway", "pg-public", "a provider gateway that uses IP Spaces")
	flag.StringVar(&c.routedNetwork, "routed-network", "acme-app", "a routed org VDC network on the edge")
	flag.StringVar(&c.prefix, "prefix", "rc", "name prefix of everything this run creates")
	flag.Parse()
	c.providerPass = os.Getenv("RC_PROVIDER_PASSWORD")
	c.providerToken = os.Getenv("RC_PROVIDER_TOKEN")
	c.tenantPass = os.Getenv("RC_TENANT_PASSWORD")
	c.tenantToken = os.Getenv("RC_TENANT_TOKEN")
	if c.url == "" || c.caFile == "" || c.providerPass == "" || c.providerToken == "" || c.tenantPass == "" || c.tenantToken == "" {
		fmt.Fprintln(os.Stderr, "usage: realclient -url URL -ca CA.pem [names...] with RC_PROVIDER_PASSWORD, RC_PROVIDER_TOKEN, RC_TENANT_PASSWORD, RC_TENANT_TOKEN set")
		os.Exit(100)
	}
	pem, err := os.ReadFile(c.caFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "reading the CA file: %s\n", err)
		os.Exit(100)
	}
	c.rootCAs = x509.NewCertPool()
	if !c.rootCAs.AppendCertsFromPEM(pem) {
		fmt.Fprintln(os.Stderr, "the CA file holds no PEM certificate")
		os.Exit(100)
	}

	r := &runner{}
	fmt.Printf("INFO govcd %s\n", govcdModule)
	run(r, c)
	if r.failed > 100 {
		r.failed = 100
	}
	os.Exit(r.failed)
}

// newClient makes a govcd client that verifies the server against the given CA (never insecure).
func (c *config) newClient() (*govcd.VCDClient, error) {
	u, err := url.Parse(c.url + "/api")
	if err != nil {
		return nil, err
	}
	client := govcd.NewVCDClient(*u, false)
	transport, ok := client.Client.Http.Transport.(*http.Transport)
	if !ok {
		return nil, fmt.Errorf("unexpected transport %T", client.Client.Http.Transport)
	}
	transport.TLSClientConfig = &tls.Config{RootCAs: c.rootCAs, MinVersion: tls.VersionTLS12}
	return client, nil
}

type runner struct {
	failed int
}

// step runs one check and prints its line; it reports whether the step passed.
func (r *runner) step(name string, fn func() (string, error)) bool {
	detail, err := safely(fn)
	if err != nil {
		r.failed++
		fmt.Printf("FAIL %s %s\n", name, oneLine(err.Error()))
		return false
	}
	fmt.Printf("PASS %s %s\n", name, oneLine(detail))
	return true
}

// safely turns a panic inside a step (a nil from an earlier failure) into that step's failure.
func safely(fn func() (string, error)) (detail string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return fn()
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 400 {
		s = s[:400] + "..."
	}
	return s
}

// need fails a step whose prerequisite step failed, naming it.
func need(what string, ok bool) error {
	if !ok {
		return fmt.Errorf("needs %s, which failed", what)
	}
	return nil
}
