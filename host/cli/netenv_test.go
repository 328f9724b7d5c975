//go:build linux

package cli

import (
	"strings"
	"testing"

	"github.com/secrethost/secrethost/internal/testproxy"
)

// TestRunWithholdsProxyCredentials: a proxy URL with user:password@ is a
// credential of the plugins that use the network (the Connect plugin gets
// it in its environment): `secrethost run` withholds every variable holding
// it, or its password, from the command like a token, unless
// --keep-provider-env; a proxy URL without credentials and NO_PROXY reach
// the command as they are; nothing of it shows at trace level.
func TestRunWithholdsProxyCredentials(t *testing.T) {
	h := newHygiene(t)
	const pass = "pr0xy-run-pa55"
	credURL := "http://deploy:" + pass + "@proxy.internal:3128"
	// The Connect host is 127.0.0.1, which Go never sends through a proxy,
	// so the references still resolve.
	extra := []string{"DB=op://Demo/Postgres/password", "HTTPS_PROXY=" + credURL, "https_proxy=" + credURL,
		"HTTP_PROXY=http://proxy.internal:3128", "NO_PROXY=localhost", "PROXY_PASSWORD=" + pass}
	vars := []string{"DB", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "NO_PROXY", "PROXY_PASSWORD"}

	got, r := h.runChild(t, nil, vars, extra, "--log-level", "trace", "--config", "op.hcl", "run")
	r.expect(t, 0)
	for _, name := range []string{"HTTPS_PROXY", "https_proxy", "PROXY_PASSWORD"} {
		if _, ok := got[name]; ok {
			t.Errorf("the command received %s, which holds the proxy's credentials", name)
		}
	}
	for name, v := range map[string]string{"DB": "pg-s3cret-9f2c", "HTTP_PROXY": "http://proxy.internal:3128", "NO_PROXY": "localhost"} {
		if got[name] != v {
			t.Errorf("the command sees %s = %v, want %q", name, got[name], v)
		}
	}
	if strings.Contains(r.stderr, pass) {
		t.Errorf("stderr at trace level shows the proxy password:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "HTTPS_PROXY") {
		t.Errorf("stderr should name the withheld variables (names only):\n%s", r.stderr)
	}

	got, r = h.runChild(t, nil, vars, extra, "--config", "op.hcl", "run", "--keep-provider-env")
	r.expect(t, 0)
	if got["HTTPS_PROXY"] != credURL || got["PROXY_PASSWORD"] != pass {
		t.Errorf("--keep-provider-env: the command sees HTTPS_PROXY %v, PROXY_PASSWORD %v", got["HTTPS_PROXY"], got["PROXY_PASSWORD"])
	}
}

// TestE2EResolveThroughProxy: bin/secrethost passes its own HTTP_PROXY (the
// process environment, in doco-cd mode) to the Connect plugin, which
// reaches a host name only the proxy knows, with the proxy's credentials;
// the proxy forwards to the emulator on 127.0.0.1 and nowhere else.
func TestE2EResolveThroughProxy(t *testing.T) {
	f := newFixture(t)
	const pass = "pr0xy-cli-pa55"
	target := strings.TrimPrefix(f.srv.URL(), "http://")
	proxy := testproxy.New(t, map[string]string{"connect.internal:8080": target}, "deploy", pass)
	f.env["SECRET_PROVIDER_CONNECT_HOST"] = "http://connect.internal:8080"
	proxyURL := "http://deploy:" + pass + "@" + strings.TrimPrefix(proxy.URL, "http://")

	r := f.run(t, "", []string{"HTTP_PROXY=" + proxyURL, "FOO=bar"}, "--log-level", "trace", "--config", "op.hcl",
		"resolve", "DB=op://Demo/Postgres/password")
	r.expect(t, 0)
	if !strings.Contains(r.stdout, "pg-s3cret-9f2c") {
		t.Errorf("stdout: %s", r.stdout)
	}
	if len(proxy.Forwarded()) == 0 {
		t.Error("the proxy forwarded nothing")
	}
	if strings.Contains(r.stderr, pass) {
		t.Errorf("stderr at trace level shows the proxy password:\n%s", r.stderr)
	}
}
