package onepasswordconnect_test

// Network settings end to end: the real host gives the real plugin binary
// the host's proxy and CA settings (from its env lookup, as doco-cd's
// process environment would be), and the plugin reaches the Connect
// emulator through a forwarding proxy, and over HTTPS with a private CA.
// Every connection stays on 127.0.0.1: the Connect host names below exist
// only inside the test proxy, which maps them to the emulator.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/e2e/internal/harness"
	"github.com/secrethost/secrethost/host"
	"github.com/secrethost/secrethost/host/config"
	"github.com/secrethost/secrethost/internal/syncbuf"
	"github.com/secrethost/secrethost/internal/testproxy"
	"github.com/secrethost/secrethost/plugins/onepassword-connect/emulator"
	"github.com/secrethost/secrethost/plugins/onepassword-connect/emulator/fixture"
	"github.com/secrethost/secrethost/shared/provider"
)

// privateCA is a CA of the test's own and a server certificate it signed
// for names.
type privateCA struct {
	caFile string // PEM of the CA certificate
	cert   tls.Certificate
}

func newPrivateCA(t *testing.T, dnsNames ...string) privateCA {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "secrethost test private CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: dnsNames[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: dnsNames, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "private-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	return privateCA{caFile: caFile, cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}}
}

// tlsEmulator serves the emulator over HTTPS with ca's server certificate.
func tlsEmulator(t *testing.T, srv *emulator.Server, ca privateCA) *httptest.Server {
	ts := httptest.NewUnstartedServer(srv)
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{ca.cert}}
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return ts
}

// netHost runs the real plugin through the real host with cfg, the host's
// environment lookup being env only.
func netHost(t *testing.T, cfg map[string]string, env map[string]string) (*host.Host, *syncbuf.Buffer) {
	t.Helper()
	pluginDir(t)
	return harness.NewHost(t, config.ProviderBlock{
		Name: pluginName, Plugin: pluginName, Pos: "test.hcl:1:1", Config: cfg,
	}, harness.Options{Level: hclog.Trace, LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
}

const pgRef = "op://Production/Postgres/password"

// withoutNetworkEnv is os.LookupEnv without the network settings the host
// passes to network plugins (host.NetworkEnvNames), for tests that count
// plugin processes.
func withoutNetworkEnv(name string) (string, bool) {
	if slices.Contains(host.NetworkEnvNames, name) {
		return "", false
	}
	return os.LookupEnv(name)
}

// TestE2EThroughForwardingProxy: with HTTP_PROXY (http) or HTTPS_PROXY
// (https, CONNECT) in the host's environment, the plugin reaches a Connect
// host name that only the proxy can resolve, with the proxy's credentials,
// which never show in the log.
func TestE2EThroughForwardingProxy(t *testing.T) {
	fx := fixture.New()
	plain := emulator.NewTestServer(t, fx.Data)
	secure, err := emulator.New(fx.Data)
	if err != nil {
		t.Fatal(err)
	}
	ca := newPrivateCA(t, "connect.internal")
	tlsSrv := tlsEmulator(t, secure, ca)

	const proxyPass = "pr0xy-s3cret-pw"
	proxy := testproxy.New(t, map[string]string{
		"connect.internal:8080": strings.TrimPrefix(plain.URL(), "http://"),
		"connect.internal:8443": strings.TrimPrefix(tlsSrv.URL, "https://"),
	}, "deploy", proxyPass)
	proxyURL := "http://deploy:" + proxyPass + "@" + strings.TrimPrefix(proxy.URL, "http://")

	cases := []struct {
		name, connect string
		env           map[string]string
		extra         []string
		server        *emulator.Server
		want          string
	}{
		{name: "http", connect: "http://connect.internal:8080", env: map[string]string{"HTTP_PROXY": proxyURL},
			server: plain, want: "GET connect.internal:8080"},
		{name: "http lower case", connect: "http://connect.internal:8080", env: map[string]string{"http_proxy": proxyURL},
			server: plain, want: "GET connect.internal:8080"},
		{name: "https CONNECT", connect: "https://connect.internal:8443",
			env:    map[string]string{"HTTPS_PROXY": proxyURL, "NO_PROXY": "localhost"},
			extra:  []string{"SECRET_PROVIDER_CONNECT_CA_FILE", ca.caFile},
			server: secure, want: "CONNECT connect.internal:8443"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before, seenBefore := c.server.RequestCount(), len(proxy.Forwarded())
			h, logs := netHost(t, cfg(c.connect, fixture.Token, c.extra...), c.env)
			got, err := h.GetSecret(ctx(t, 30*time.Second), pgRef)
			if err != nil {
				t.Fatal(err)
			}
			if got != fixture.PGPassword {
				t.Errorf("value %q, want %q", got, fixture.PGPassword)
			}
			seen := proxy.Forwarded()[seenBefore:]
			if len(seen) == 0 || seen[0] != c.want {
				t.Errorf("the proxy forwarded %v, want %q first", seen, c.want)
			}
			if c.server.RequestCount() == before {
				t.Error("the emulator got no request")
			}
			h.Close()
			if strings.Contains(logs.String(), proxyPass) {
				t.Errorf("the log shows the proxy password:\n%s", logs.String())
			}
		})
	}

	// Wrong proxy credentials: the proxy refuses, the error says so and
	// does not show them.
	for _, c := range []struct{ connect, proxyVar string }{
		{"http://connect.internal:8080", "HTTP_PROXY"},
		{"https://connect.internal:8443", "HTTPS_PROXY"},
	} {
		t.Run("wrong credentials "+c.proxyVar, func(t *testing.T) {
			const wrong = "wr0ng-pa55word"
			bad := "http://deploy:" + wrong + "@" + strings.TrimPrefix(proxy.URL, "http://")
			h, logs := netHost(t, cfg(c.connect, fixture.Token, "SECRET_PROVIDER_CONNECT_CA_FILE", ca.caFile),
				map[string]string{c.proxyVar: bad})
			_, err := h.GetSecret(ctx(t, 30*time.Second), pgRef)
			if err == nil {
				t.Fatal("resolved with wrong proxy credentials")
			}
			for _, want := range []string{"unavailable", "cannot reach Connect at " + c.connect,
				"the HTTP proxy refused the request (407 Proxy Authentication Required)", c.proxyVar} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q: %v", want, err)
				}
			}
			h.Close()
			for _, s := range []string{err.Error(), logs.String()} {
				if strings.Contains(s, wrong) {
					t.Errorf("wrong proxy password shown:\n%s", s)
				}
			}
		})
	}
	if proxy.Rejected() != 2 {
		t.Errorf("the proxy rejected %d requests, want 2 (one per wrong-credentials case)", proxy.Rejected())
	}
}

// TestE2EPrivateCA: Connect over HTTPS with a certificate from a private
// CA works with the CA in SSL_CERT_FILE (the host's environment) or in
// SECRET_PROVIDER_CONNECT_CA_FILE (in config.hcl's config map, or from the
// environment in doco-cd mode); without it the error names the host, says
// the certificate is signed by an unknown authority, and names both fixes.
func TestE2EPrivateCA(t *testing.T) {
	fx := fixture.New()
	srv, err := emulator.New(fx.Data)
	if err != nil {
		t.Fatal(err)
	}
	ca := newPrivateCA(t, "localhost")
	url := tlsEmulator(t, srv, ca).URL // https://127.0.0.1:port

	t.Run("CA missing", func(t *testing.T) {
		h, _ := netHost(t, cfg(url, fixture.Token), nil)
		fails := failures(t, h, pgRef)
		expectErr(t, fails[pgRef], pgRef, provider.CodeUnavailable,
			"cannot reach Connect at "+url, "TLS certificate of 127.0.0.1 is signed by an unknown authority",
			"SECRET_PROVIDER_CONNECT_CA_FILE", "SSL_CERT_FILE")
	})
	t.Run("SSL_CERT_FILE", func(t *testing.T) {
		h, _ := netHost(t, cfg(url, fixture.Token), map[string]string{"SSL_CERT_FILE": ca.caFile})
		if got, err := h.GetSecret(ctx(t, 30*time.Second), pgRef); err != nil || got != fixture.PGPassword {
			t.Fatalf("got %q, %v", got, err)
		}
	})
	t.Run("SECRET_PROVIDER_CONNECT_CA_FILE in config", func(t *testing.T) {
		h, _ := netHost(t, cfg(url, fixture.Token, "SECRET_PROVIDER_CONNECT_CA_FILE", ca.caFile), nil)
		if got, err := h.GetSecret(ctx(t, 30*time.Second), pgRef); err != nil || got != fixture.PGPassword {
			t.Fatalf("got %q, %v", got, err)
		}
	})
	t.Run("SECRET_PROVIDER_CONNECT_CA_FILE from the environment, relative", func(t *testing.T) {
		// doco-cd mode: the built-in default reads the plugin's declared
		// variables; a relative path is the caller's, not the plugin's (/).
		dir := filepath.Dir(ca.caFile)
		t.Chdir(dir)
		env := map[string]string{"SECRET_PROVIDER": "1password", "SECRET_PROVIDER_CONNECT_HOST": url,
			"SECRET_PROVIDER_CONNECT_TOKEN": fixture.Token, "SECRET_PROVIDER_CONNECT_CA_FILE": filepath.Base(ca.caFile)}
		lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
		c, err := config.FindAndLoad("", lookup)
		if err != nil {
			t.Fatal(err)
		}
		h, err := host.New(c, host.WithPluginDir(pluginDir(t)), host.WithLookupEnv(lookup))
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		if got, err := h.GetSecret(ctx(t, 30*time.Second), pgRef); err != nil || got != fixture.PGPassword {
			t.Fatalf("got %q, %v", got, err)
		}
	})
	t.Run("not a CA file", func(t *testing.T) {
		junk := filepath.Join(t.TempDir(), "junk.pem")
		os.WriteFile(junk, []byte("not a certificate\n"), 0o644)
		h, _ := netHost(t, cfg(url, fixture.Token, "SECRET_PROVIDER_CONNECT_CA_FILE", junk), nil)
		_, err := h.GetSecret(ctx(t, 30*time.Second), pgRef)
		if err == nil || !strings.Contains(err.Error(), "SECRET_PROVIDER_CONNECT_CA_FILE") || !strings.Contains(err.Error(), "no PEM certificate") {
			t.Fatalf("want a configuration error naming the setting, got %v", err)
		}
	})
}
