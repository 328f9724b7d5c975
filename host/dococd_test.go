package host_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/secrethost/secrethost/host"
	"github.com/secrethost/secrethost/internal/syncbuf"
	"github.com/secrethost/secrethost/internal/testbin"
	"github.com/secrethost/secrethost/plugins/onepassword-connect/emulator"
)

// docoRetryable is doco-cd's rule (internal/secretprovider/retry.go at
// 03cbeb36, isRetryable), copied as the oracle: its retry wrapper retries
// an error whose lower-cased message contains one of these.
func docoRetryable(err error) bool {
	if err == nil {
		return false
	}
	msg := strings.ToLower(err.Error())
	return slices.ContainsFunc([]string{"429", "too many requests", "rate limit", "rate-limit"}, func(k string) bool {
		return strings.Contains(msg, k)
	})
}

// docoGetConfig is doco-cd's selection (internal/secretprovider/1password
// GetConfig with internal/config LoadFileBasedEnvVars at 03cbeb36), copied
// as the oracle: "connect", "sa", or "error".
func docoGetConfig(env map[string]string) string {
	readFile := func(name string) (string, bool) {
		p := env[name+"_FILE"]
		if p == "" {
			return "", true
		}
		b, err := os.ReadFile(p) // caarlos0/env's file option: an unreadable file fails Parse
		return string(b), err == nil
	}
	accessFile, ok1 := readFile("SECRET_PROVIDER_ACCESS_TOKEN")
	connectFile, ok2 := readFile("SECRET_PROVIDER_CONNECT_TOKEN")
	if !ok1 || !ok2 {
		return "error"
	}
	access, connect := env["SECRET_PROVIDER_ACCESS_TOKEN"], env["SECRET_PROVIDER_CONNECT_TOKEN"]
	for _, m := range []struct {
		val  *string
		file string
	}{{&access, accessFile}, {&connect, connectFile}} {
		if m.file != "" {
			if *m.val != "" {
				return "error"
			}
			*m.val = strings.TrimSpace(m.file)
		}
	}
	hostSet, tokenSet := env["SECRET_PROVIDER_CONNECT_HOST"] != "", connect != ""
	if hostSet != tokenSet {
		return "error"
	}
	if hostSet && tokenSet {
		return "connect"
	}
	if access == "" {
		return "error"
	}
	return "sa"
}

// TestDocoCDSelectionMatchesDocoCD runs every combination of doco-cd's
// variables (each unset, set, or for _FILE a file with a token, a blank
// file, or a missing file), with and without the OP_* variables, through
// host.DocoCDConfig and doco-cd's rule.
func TestDocoCDSelectionMatchesDocoCD(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	blankFile := filepath.Join(dir, "blank")
	os.WriteFile(tokenFile, []byte(" tok\n"), 0o600)
	os.WriteFile(blankFile, []byte(" \n"), 0o600)
	missing := filepath.Join(dir, "missing")
	values := []string{"", "set"}
	files := []string{"", tokenFile, blankFile, missing}
	n := 0
	for _, hostV := range values {
		for _, tok := range values {
			for _, tokF := range files {
				for _, acc := range values {
					for _, accF := range files {
						for _, op := range []bool{false, true} {
							env := map[string]string{
								"SECRET_PROVIDER_CONNECT_HOST":       hostV,
								"SECRET_PROVIDER_CONNECT_TOKEN":      tok,
								"SECRET_PROVIDER_CONNECT_TOKEN_FILE": tokF,
								"SECRET_PROVIDER_ACCESS_TOKEN":       acc,
								"SECRET_PROVIDER_ACCESS_TOKEN_FILE":  accF,
							}
							if op {
								env["OP_CONNECT_HOST"] = "http://leftover:8080"
								env["OP_CONNECT_TOKEN"] = "leftover"
								env["OP_SERVICE_ACCOUNT_TOKEN"] = "leftover"
							}
							want := docoGetConfig(env)
							got := "error"
							cfg, err := host.DocoCDConfig(func(k string) (string, bool) { v, ok := env[k]; return v, ok && v != "" })
							if err == nil {
								got = map[string]string{"onepassword-connect": "connect", "onepassword-sa": "sa"}[cfg.Providers[0].Plugin]
								for k := range cfg.Providers[0].Config {
									if strings.HasPrefix(k, "OP_") {
										t.Errorf("%v: %s passed to the plugin", env, k)
									}
								}
							} else if !errors.Is(err, host.ErrDocoCDConfig) {
								t.Errorf("%v: error does not wrap ErrDocoCDConfig: %v", env, err)
							}
							if got != want {
								t.Errorf("%v: got %s (%v), doco-cd: %s", env, got, err, want)
							}
							if err != nil && (strings.Contains(err.Error(), "tok") && !strings.Contains(err.Error(), "TOKEN")) {
								t.Errorf("error shows a token: %v", err)
							}
							n++
						}
					}
				}
			}
		}
	}
	t.Logf("%d combinations", n)
}

func docoEmulator(t *testing.T) (*emulator.Server, string) {
	data := emulator.NewData()
	v := data.AddVault("Demo")
	it := v.AddItem("Postgres", "DATABASE")
	it.AddField(emulator.Field{Type: "CONCEALED", Purpose: "PASSWORD", Label: "password", Value: "s3cret-value"})
	data.Grant("good-token", v.ID)
	return emulator.NewTestServer(t, data), "good-token"
}

func connectPluginDir(t *testing.T) string {
	dir := testbin.PluginDir()
	testbin.Build(t, dir, "onepassword-connect", "./plugins/onepassword-connect", "")
	return dir
}

func envOf(m map[string]string) host.Option {
	return host.WithLookupEnv(func(k string) (string, bool) { v, ok := m[k]; return v, ok })
}

// TestOpenDocoCDConnect: the caller's choice, not $SECRET_PROVIDER; Name
// is doco-cd's; leftover OP_* variables change nothing; the plugin logs
// through the caller's *slog.Logger with the token scrubbed.
func TestOpenDocoCDConnect(t *testing.T) {
	srv, token := docoEmulator(t)
	var logs syncbuf.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: host.LevelTrace}))
	env := map[string]string{
		"SECRET_PROVIDER_CONNECT_HOST":  srv.URL(),
		"SECRET_PROVIDER_CONNECT_TOKEN": token,
		"OP_CONNECT_HOST":               "http://127.0.0.1:1",
		"OP_CONNECT_TOKEN":              "wrong-token",
		"SECRETHOST_PLUGIN_DIR":         connectPluginDir(t),
	}
	p, err := host.OpenDocoCD(ctx(t), "1password", logger, envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Name() != "1password" {
		t.Errorf("Name() = %q", p.Name())
	}
	got, err := p.ResolveSecretReferences(ctx(t), map[string]string{"DB": "op://Demo/Postgres/password"})
	if err != nil || got["DB"] != "s3cret-value" {
		t.Fatalf("got %v, %v", got, err)
	}
	p.Close()
	if !strings.Contains(logs.String(), "onepassword-connect") {
		t.Errorf("no plugin log line reached the slog handler:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), token) || strings.Contains(logs.String(), "s3cret-value") {
		t.Errorf("a secret reached the log:\n%s", logs.String())
	}

	if _, err := host.OpenDocoCD(ctx(t), "bitwarden", logger, envOf(env)); !errors.Is(err, host.ErrUnknownDocoCDProvider) {
		t.Errorf("another provider: %v", err)
	}
}

// TestOpenDocoCDRateLimitIsRetryableByDocoCDRule: a 429 from Connect comes
// back as an error doco-cd's retry wrapper retries, because it says
// "rate limit" (not because some digits happen to be in it); a not-found
// is not retried.
func TestOpenDocoCDRateLimitIsRetryableByDocoCDRule(t *testing.T) {
	srv, token := docoEmulator(t)
	env := map[string]string{
		"SECRET_PROVIDER_CONNECT_HOST":  srv.URL(),
		"SECRET_PROVIDER_CONNECT_TOKEN": token,
		"SECRETHOST_PLUGIN_DIR":         connectPluginDir(t),
	}
	p, err := host.OpenDocoCD(ctx(t), "1password", nil, envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := srv.AddFault(emulator.Fault{Kind: emulator.FaultRateLimit, RetryAfter: time.Second}); err != nil {
		t.Fatal(err)
	}
	_, err = p.ResolveSecretReferences(ctx(t), map[string]string{"DB": "op://Demo/Postgres/password"})
	var rl *host.RateLimitError
	if !errors.As(err, &rl) || !docoRetryable(err) {
		t.Fatalf("rate limited: %v (RateLimitError %v, doco-cd retries: %v)", err, rl != nil, docoRetryable(err))
	}
	t.Logf("inner: %v", rl.Err)
	if !strings.HasPrefix(err.Error(), "rate limit") {
		t.Errorf("message does not start with doco-cd's keyword: %v", err)
	}
	srv.ClearFaults()
	_, err = p.ResolveSecretReferences(ctx(t), map[string]string{"DB": "op://Demo/Postgres/nothere"})
	if err == nil || docoRetryable(err) {
		t.Errorf("not found: %v (doco-cd retries: %v)", err, docoRetryable(err))
	}
}

// TestOpenDocoCDFailsAtStartup: a missing plugin and a configuration the
// plugin rejects fail OpenDocoCD itself, as doco-cd's Initialize does;
// the missing plugin's error names the directory, where it came from, and
// the variable.
func TestOpenDocoCDFailsAtStartup(t *testing.T) {
	empty := t.TempDir()
	env := map[string]string{
		"SECRET_PROVIDER_CONNECT_HOST":  "http://127.0.0.1:1",
		"SECRET_PROVIDER_CONNECT_TOKEN": "tok-abc123",
		"SECRETHOST_PLUGIN_DIR":         empty,
	}
	_, err := host.OpenDocoCD(ctx(t), "1password", nil, envOf(env))
	if err == nil {
		t.Fatal("started without a plugin")
	}
	for _, want := range []string{empty, "$SECRETHOST_PLUGIN_DIR", "--plugin-dir"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
	_, err = host.OpenDocoCD(ctx(t), "1password", nil, envOf(env), host.WithPluginDirFrom(empty, "--plugin-dir"))
	if err == nil || !strings.Contains(err.Error(), "from --plugin-dir") {
		t.Errorf("origin of the flag not named: %v", err)
	}

	env["SECRETHOST_PLUGIN_DIR"] = connectPluginDir(t)
	env["SECRET_PROVIDER_CONNECT_HOST"] = "ftp://nowhere"
	_, err = host.OpenDocoCD(ctx(t), "1password", nil, envOf(env))
	if err == nil {
		t.Fatal("started with a configuration the plugin rejects")
	}
	if strings.Contains(err.Error(), "tok-abc123") {
		t.Errorf("token in the error: %v", err)
	}
}

// TestPluginDirPrecedence: WithPluginDir, then plugin_dir, then
// $SECRETHOST_PLUGIN_DIR (relative to the working directory), then the
// default; PluginDirFrom says which.
func TestPluginDirPrecedence(t *testing.T) {
	cfg, err := host.DocoCDConfig(func(k string) (string, bool) {
		return map[string]string{"SECRET_PROVIDER_ACCESS_TOKEN": "x"}[k], k == "SECRET_PROVIDER_ACCESS_TOKEN"
	})
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	for _, c := range []struct {
		env, opt, cfgDir, want, from string
	}{
		{env: "rel/plugins", want: filepath.Join(wd, "rel/plugins"), from: "$SECRETHOST_PLUGIN_DIR"},
		{env: "/e", opt: "/o", want: "/o", from: "host.WithPluginDir"},
		{env: "/e", cfgDir: "/c", want: "/c", from: "plugin_dir"},
		{want: "", from: "the default"},
	} {
		cfg.PluginDir = c.cfgDir
		opts := []host.Option{envOf(map[string]string{"SECRETHOST_PLUGIN_DIR": c.env})}
		if c.opt != "" {
			opts = append(opts, host.WithPluginDir(c.opt))
		}
		h, err := host.New(cfg, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if (c.want != "" && h.PluginDir() != c.want) || !strings.Contains(h.PluginDirFrom(), c.from) {
			t.Errorf("%+v: %s from %s", c, h.PluginDir(), h.PluginDirFrom())
		}
		h.Close()
	}
}

// TestSlogAdapterLevels: hclog levels map onto slog's, names become the
// "logger" attribute, and the handler's level filters.
func TestSlogAdapterLevels(t *testing.T) {
	var b bytes.Buffer
	l := host.SlogAdapter(slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if l.IsTrace() || !l.IsDebug() {
		t.Errorf("IsTrace %v IsDebug %v", l.IsTrace(), l.IsDebug())
	}
	l.Named("onepassword-sa").With("k", "v").Warn("careful", "n", 1)
	l.Trace("hidden")
	out := b.String()
	for _, want := range []string{"level=WARN", "msg=careful", "logger=onepassword-sa", "k=v", "n=1"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in %s", want, out)
		}
	}
	if strings.Contains(out, "hidden") {
		t.Errorf("trace line passed a debug handler: %s", out)
	}
	fmt.Fprint(l.StandardWriter(nil), "std line\n")
	if !strings.Contains(b.String(), `msg="std line"`) {
		t.Errorf("standard writer: %s", b.String())
	}
}

// TestOpenDocoCDServiceAccount: a malformed service-account token fails
// start-up (the plugin rejects it, as doco-cd's SDK client did) without
// showing it; a well-formed one starts at once, and the plugin signs in
// in the background (here it cannot reach 1Password, which is only
// logged).
func TestOpenDocoCDServiceAccount(t *testing.T) {
	dir := testbin.PluginDir()
	testbin.Build(t, dir, "onepassword-sa", "./plugins/onepassword-sa", "")
	env := map[string]string{
		"SECRET_PROVIDER_ACCESS_TOKEN": "ops_not-a-token-4711",
		"OP_CONNECT_HOST":              "http://127.0.0.1:1", // a leftover: ignored
		"SECRETHOST_PLUGIN_DIR":        dir,
	}
	_, err := host.OpenDocoCD(ctx(t), "1password", nil, envOf(env))
	if err == nil || strings.Contains(err.Error(), "4711") {
		t.Fatalf("malformed token: %v", err)
	}

	fields := map[string]string{}
	for _, f := range []string{"signInAddress", "userAuth", "email", "srpX", "muk", "secretKey", "deviceUuid"} {
		fields[f] = "x"
	}
	fields["signInAddress"] = "127.0.0.1:1"
	b, _ := json.Marshal(fields)
	env["SECRET_PROVIDER_ACCESS_TOKEN"] = "ops_" + base64.RawURLEncoding.EncodeToString(b)
	var logs syncbuf.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	start := time.Now()
	p, err := host.OpenDocoCD(ctx(t), "1password", logger, envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	took := time.Since(start)
	if p.Name() != "1password" {
		t.Errorf("Name() = %q", p.Name())
	}
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(logs.String(), "background sign-in") && !strings.Contains(logs.String(), "signed in in the background") {
		if time.Now().After(deadline) {
			t.Fatalf("no background sign-in within 60s:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("OpenDocoCD returned after %s; sign-in in the background after %s", took.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if strings.Contains(logs.String(), env["SECRET_PROVIDER_ACCESS_TOKEN"]) {
		t.Errorf("token in the log:\n%s", logs.String())
	}
}
