package host_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/host"
	"github.com/secrethost/secrethost/host/config"
	"github.com/secrethost/secrethost/internal/syncbuf"
	"github.com/secrethost/secrethost/internal/testbin"
	"github.com/secrethost/secrethost/shared/plugin"
)

// networkPluginDir is pluginDir plus "test-network", the test plugin whose
// schema says it uses the network.
func networkPluginDir(t *testing.T) string {
	dir := pluginDir(t)
	testbin.Build(t, dir, "test-network", "./host/internal/testplugin", "-X main.mode=network")
	return dir
}

// netHost is a host with one provider, its environment lookup being env
// only (WithLookupEnv), logging at trace level into logs.
func netHost(t *testing.T, name string, env map[string]string, logs *syncbuf.Buffer) *host.Host {
	t.Helper()
	h, err := host.New(&config.Config{Source: "test", Providers: []config.ProviderBlock{{Name: name, Plugin: name, Pos: "test.hcl:1:1"}}},
		host.WithPluginDir(networkPluginDir(t)),
		host.WithLookupEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }),
		host.WithLogger(hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: logs})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

// pluginEnv is the environment the plugin has (test://env), and the same
// read from /proc (test://pid), name to value.
func pluginEnv(t *testing.T, h *host.Host) map[string]string {
	t.Helper()
	raw, err := h.GetSecret(ctx(t), "test://env")
	if err != nil {
		t.Fatal(err)
	}
	proc, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", resolvePid(t, h)))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimRight(string(proc), "\x00") != raw {
		t.Errorf("/proc environ differs from os.Environ: %q vs %q", proc, raw)
	}
	out := map[string]string{}
	for _, kv := range strings.Split(raw, "\x00") {
		n, v, _ := strings.Cut(kv, "=")
		out[n] = v
	}
	return out
}

// TestNetworkSettingsReachOnlyNetworkPlugins: the proxy and CA variables,
// both cases, go to a plugin whose schema says it uses the network, from
// the host's env lookup (not the process environment), with a relative
// SSL_CERT_FILE made absolute; nothing else (FOO=bar, PATH, HOME) reaches
// it, and a plugin that does not use the network gets none of them.
func TestNetworkSettingsReachOnlyNetworkPlugins(t *testing.T) {
	// The process environment says otherwise: WithLookupEnv is the source.
	t.Setenv("HTTPS_PROXY", "http://from-process-env.invalid:1")
	wd, _ := os.Getwd()
	env := map[string]string{
		"HTTP_PROXY": "http://proxy.internal:3128", "http_proxy": "http://lower.internal:3128",
		"HTTPS_PROXY": "http://sproxy.internal:3129", "https_proxy": "http://slower.internal:3129",
		"NO_PROXY": "localhost,.svc", "no_proxy": "127.0.0.1",
		"SSL_CERT_FILE": "certs/ca.pem", "SSL_CERT_DIR": "/etc/ssl/private-ca:rel/dir",
		"FOO": "bar", "PATH": "/usr/bin", "HOME": "/root", "ALL_PROXY": "socks5://x:1",
	}
	want := map[string]string{
		"HTTP_PROXY": env["HTTP_PROXY"], "http_proxy": env["http_proxy"],
		"HTTPS_PROXY": env["HTTPS_PROXY"], "https_proxy": env["https_proxy"],
		"NO_PROXY": env["NO_PROXY"], "no_proxy": env["no_proxy"],
		"SSL_CERT_FILE": filepath.Join(wd, "certs/ca.pem"),
		"SSL_CERT_DIR":  "/etc/ssl/private-ca:" + filepath.Join(wd, "rel/dir"),
	}
	goPlugin := func(name string) bool {
		return name == plugin.LogLevelEnv || name == plugin.Handshake.MagicCookieKey || strings.HasPrefix(name, "PLUGIN_")
	}

	var logs syncbuf.Buffer
	got := pluginEnv(t, netHost(t, "test-network", env, &logs))
	for name, v := range want {
		if got[name] != v {
			t.Errorf("network plugin: %s = %q, want %q", name, got[name], v)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok && !goPlugin(name) {
			t.Errorf("network plugin got %s, which is not a network setting", name)
		}
	}
	if !strings.Contains(logs.String(), "relaunching it with the network settings") {
		t.Errorf("the restart with network settings is not logged:\n%s", logs.String())
	}

	got = pluginEnv(t, netHost(t, "test", env, &logs))
	for name := range got {
		if !goPlugin(name) {
			t.Errorf("plugin that does not use the network got %s", name)
		}
	}

	// Without any network setting, a network plugin starts once and gets
	// only go-plugin's variables.
	var quiet syncbuf.Buffer
	got = pluginEnv(t, netHost(t, "test-network", map[string]string{"FOO": "bar"}, &quiet))
	for name := range got {
		if !goPlugin(name) {
			t.Errorf("network plugin without network settings got %s", name)
		}
	}
	if strings.Contains(quiet.String(), "relaunching it") {
		t.Errorf("relaunched although there were no network settings:\n%s", quiet.String())
	}
}

// TestProxyCredentialsAreSensitive: a proxy URL with user:password@ never
// shows in the host's logs (trace level), is scrubbed from what a plugin
// says (an error and a log line quoting its environment), and is named by
// SensitiveEnv (so `secrethost run` withholds it) and SensitiveValues (so
// it masks it); a proxy URL without credentials is none of that.
func TestProxyCredentialsAreSensitive(t *testing.T) {
	const pass = "pr0xy-pa55word-4711"
	const token = "tok3n-as-user-0815"
	credURL := "http://alice:" + pass + "@proxy.internal:3128"
	env := map[string]string{
		"HTTPS_PROXY": credURL, "https_proxy": credURL,
		"HTTP_PROXY": "http://" + token + "@proxy.internal:3128",
		"NO_PROXY":   "localhost",
	}
	var logs syncbuf.Buffer
	h := netHost(t, "test-network", env, &logs)
	if got := pluginEnv(t, h); got["HTTPS_PROXY"] != credURL {
		t.Fatalf("the plugin did not get the proxy setting: %q", got["HTTPS_PROXY"])
	}
	_, err := h.GetSecret(ctx(t), "test://env-error")
	if err == nil {
		t.Fatal("test://env-error succeeded")
	}
	if !strings.Contains(err.Error(), "HTTPS_PROXY=<redacted>") || !strings.Contains(err.Error(), "NO_PROXY=localhost") {
		t.Errorf("the plugin's error should show its environment, credentials redacted:\n%v", err)
	}
	// The plugin's log lines are forwarded as they come: wait for it.
	for i := 0; i < 100 && !strings.Contains(logs.String(), "environment in a log line"); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	for _, where := range []string{err.Error(), logs.String()} {
		for _, secret := range []string{pass, token} {
			if strings.Contains(where, secret) {
				t.Errorf("proxy credential %q shown:\n%s", secret, where)
			}
		}
	}
	if !strings.Contains(logs.String(), "HTTPS_PROXY=<redacted>") {
		t.Errorf("the plugin's log line is not in the log (the check above proves nothing):\n%s", logs.String())
	}

	environ := []string{"HTTPS_PROXY=" + credURL, "https_proxy=" + credURL, "HTTP_PROXY=" + env["HTTP_PROXY"],
		"NO_PROXY=localhost", "PROXY_PASSWORD=" + pass, "FOO=bar"}
	names, err := h.SensitiveEnv(ctx(t), environ)
	if err != nil {
		t.Fatal(err)
	}
	if wantNames := []string{"HTTPS_PROXY", "HTTP_PROXY", "PROXY_PASSWORD", "https_proxy"}; !slices.Equal(names, wantNames) {
		t.Errorf("SensitiveEnv = %v, want %v", names, wantNames)
	}
	values, err := h.SensitiveValues(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(values, credURL) || !slices.Contains(values, pass) {
		t.Errorf("SensitiveValues lacks the proxy URL or its password (%d values)", len(values))
	}

	// Without credentials a proxy URL is an ordinary setting.
	plain := netHost(t, "test-network", map[string]string{"HTTPS_PROXY": "http://proxy.internal:3128"}, &logs)
	if names, err := plain.SensitiveEnv(ctx(t), []string{"HTTPS_PROXY=http://proxy.internal:3128"}); err != nil || len(names) != 0 {
		t.Errorf("SensitiveEnv for a plain proxy URL = %v, %v; want none", names, err)
	}
	// A plugin that does not use the network is not given the proxy, so
	// it is not among its credentials.
	other := netHost(t, "test", env, &logs)
	if names, err := other.SensitiveEnv(ctx(t), environ); err != nil || len(names) != 0 {
		t.Errorf("SensitiveEnv without a network plugin = %v, %v; want none", names, err)
	}
}

// TestPinnedNetworkPluginGetsNetworkSettings: a pinned plugin runs from a
// sealed copy; its second start (with the network settings) runs the same
// copy, and gets them.
func TestPinnedNetworkPluginGetsNetworkSettings(t *testing.T) {
	dir := networkPluginDir(t)
	bin, err := os.ReadFile(filepath.Join(dir, "test-network"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(bin)
	env := map[string]string{"HTTPS_PROXY": "http://proxy.internal:3128"}
	var logs syncbuf.Buffer
	h, err := host.New(&config.Config{Source: "test", Providers: []config.ProviderBlock{{
		Name: "test-network", Plugin: "test-network", Pos: "test.hcl:1:1", SHA256: hex.EncodeToString(sum[:]),
	}}}, host.WithPluginDir(dir),
		host.WithLookupEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }),
		host.WithLogger(hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: &logs})))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if got := pluginEnv(t, h); got["HTTPS_PROXY"] != env["HTTPS_PROXY"] {
		t.Errorf("pinned network plugin: HTTPS_PROXY = %q\n%s", got["HTTPS_PROXY"], logs.String())
	}
}

// netHostDeclared is netHost with the provider block declaring network.
func netHostDeclared(t *testing.T, name string, network bool, env map[string]string, logs *syncbuf.Buffer) *host.Host {
	t.Helper()
	h, err := host.New(&config.Config{Source: "test", Providers: []config.ProviderBlock{{Name: name, Plugin: name, Pos: "test.hcl:1:1", Network: &network}}},
		host.WithPluginDir(networkPluginDir(t)),
		host.WithLookupEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }),
		host.WithLogger(hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: logs})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

// TestDeclaredNetworkStartsOnce: a provider block that declares network =
// true (as the built-in default does for both 1Password plugins) has its
// plugin started once, with the network settings, instead of started,
// asked and started again; a declaration the plugin's schema contradicts is
// a configuration error, either way round.
func TestDeclaredNetworkStartsOnce(t *testing.T) {
	env := map[string]string{"HTTPS_PROXY": "http://sproxy.internal:3129", "SSL_CERT_FILE": "/etc/ssl/certs/ca.pem"}
	var logs syncbuf.Buffer
	got := pluginEnv(t, netHostDeclared(t, "test-network", true, env, &logs))
	if got["HTTPS_PROXY"] != env["HTTPS_PROXY"] || got["SSL_CERT_FILE"] != env["SSL_CERT_FILE"] {
		t.Errorf("declared network plugin did not get the settings: %v", got)
	}
	if n := starts(&logs, "test-network"); n != 1 {
		t.Errorf("declared network plugin started %d times, want 1:\n%s", n, logs.String())
	}

	for _, c := range []struct {
		name    string
		network bool
		says    string
	}{
		{"test", true, "does not use the network, but the provider block declares network = true"},
		{"test-network", false, "uses the network, but the provider block declares network = false"},
	} {
		var logs syncbuf.Buffer
		_, err := netHostDeclared(t, c.name, c.network, env, &logs).GetSecret(ctx(t), "test://env")
		var cerr *host.ConfigError
		if !errors.As(err, &cerr) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s with network = %t: got %v, want a ConfigError saying %q", c.name, c.network, err, c.says)
		}
	}
}
