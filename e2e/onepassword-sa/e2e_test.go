package onepasswordsa_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secrethost/secrethost/e2e/internal/harness"
	"github.com/secrethost/secrethost/host"
	"github.com/secrethost/secrethost/host/config"
	"github.com/secrethost/secrethost/internal/testbin"
	"github.com/secrethost/secrethost/plugins/onepassword-sa/serviceaccount"
	"github.com/secrethost/secrethost/plugins/onepassword-sa/serviceaccount/serviceaccounttest"
	"github.com/secrethost/secrethost/shared/provider"
)

// End-to-end: the real plugin binary, with the real SDK inside, through
// the real host and the real CLI. Nothing here can reach 1Password, so
// these tests cover what works offline: Configure rejecting a malformed
// token with the SDK's reason, and Validate. The plugin's own tests of its
// binary (TestPluginBinaryOffline, BenchmarkStartup) are in
// plugins/onepassword-sa/serviceaccount.

func TestMain(m *testing.M) {
	if os.Getenv(sdkValidateEnv) == "1" {
		sdkValidateMain() // the baseline of BenchmarkValidate100
	}
	harness.Main(m)
}

const (
	pluginName    = "onepassword-sa"
	pluginVersion = "0.0.0-e2e"
)

// pluginBinary builds ./plugins/onepassword-sa once per test process.
func pluginBinary(t testing.TB) string {
	t.Helper()
	return harness.Plugin(t, pluginName, "./plugins/onepassword-sa",
		"-X github.com/secrethost/secrethost/internal/version.Version="+pluginVersion)
}

// TestHostRejectsMalformedToken goes through host.Host in doco-cd's
// environment mode (config_from_env): the host reads the plugin's declared
// attributes from the environment, and Configure's rejection reaches the
// caller with the provider's name and the SDK's reason.
func TestHostRejectsMalformedToken(t *testing.T) {
	serviceaccounttest.SkipIfShort(t)
	t.Parallel()
	pluginBinary(t)
	env := map[string]string{"OP_SERVICE_ACCOUNT_TOKEN": serviceaccounttest.MalformedToken, "SECRET_PROVIDER_CACHE_ENABLED": "true"}
	h, err := host.New(&config.Config{Source: "test", Providers: []config.ProviderBlock{{
		Name: pluginName, Plugin: pluginName, Pos: "config.hcl:3:1", ConfigFromEnv: true,
	}}}, host.WithPluginDir(harness.PluginDir()), host.WithLogger(serviceaccounttest.Logger(t)),
		host.WithLookupEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	_, err = h.GetSecret(serviceaccounttest.Context(t), "op://Production/Database/password")
	if !errors.Is(err, provider.ErrInvalidConfig) {
		t.Fatalf("want invalid_config, got %v", err)
	}
	for _, want := range []string{`provider "onepassword-sa" (config.hcl:3:1)`, "OP_SERVICE_ACCOUNT_TOKEN", serviceaccounttest.MalformedReason} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), serviceaccounttest.MalformedToken) {
		t.Errorf("error echoes the token: %v", err)
	}
}

// TestHostValidatesOffline: with a token of the right format and 1Password
// out of reach, the plugin starts (Configure defers the sign-in with a
// warning), so host.Host.Validate works offline; Resolve reports
// unavailable, and Diagnose (secrethost doctor) shows why.
func TestHostValidatesOffline(t *testing.T) {
	serviceaccounttest.SkipIfShort(t)
	t.Parallel()
	serviceaccounttest.SkipIfReachable(t, "my.1password.com")
	pluginBinary(t)
	h, err := host.New(&config.Config{Source: "test", Providers: []config.ProviderBlock{{
		Name: pluginName, Plugin: pluginName, Pos: "config.hcl:3:1",
		Config: map[string]string{serviceaccount.AttrToken: serviceaccounttest.WellFormedFakeToken("my.1password.com")},
	}}}, host.WithPluginDir(harness.PluginDir()), host.WithLogger(serviceaccounttest.Logger(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ctx := serviceaccounttest.Context(t)
	refs := make([]string, len(serviceaccounttest.ValidateCases))
	for i, c := range serviceaccounttest.ValidateCases {
		refs[i] = c.Ref
	}
	results, err := h.Validate(ctx, refs)
	if err != nil {
		t.Fatal(err)
	}
	serviceaccounttest.CheckValidate(t, results)

	_, err = h.GetSecret(ctx, "op://Production/Database/password")
	if !errors.Is(err, provider.ErrUnavailable) || !strings.Contains(err.Error(), "signing in to 1Password") {
		t.Errorf("Resolve offline: want unavailable while signing in, got %v", err)
	}

	var check *host.Step
	for _, d := range h.Diagnose(ctx) {
		for i, s := range d.Steps {
			if strings.Contains(s.Name, "1Password reachable") {
				check = &d.Steps[i]
			}
		}
		if t.Failed() || check == nil {
			t.Logf("diagnosis: %+v", d)
		}
	}
	if check == nil || check.Status != host.StatusFailed || !strings.Contains(check.Detail, "unavailable") {
		t.Errorf("Diagnose should report 1Password unreachable, got %+v", check)
	}
}

// TestCLIValidateOffline: `secrethost validate` of 100 references in
// service-account mode, under strace: it opens no socket but unix ones (no
// DNS lookup, no connection to 1Password) and loads no SDK core, so it
// ends in well under a second (the SDK's core alone takes seconds).
func TestCLIValidateOffline(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace is not installed (apt-get install strace)")
	}
	dir := t.TempDir()
	cli := testbin.Build(t, dir, "secrethost", "./host/cmd/secrethost", "")
	if err := os.Mkdir(filepath.Join(dir, "plugins"), 0o700); err != nil {
		t.Fatal(err)
	}
	testbin.Build(t, filepath.Join(dir, "plugins"), pluginName, "./plugins/onepassword-sa", "")
	refs := make([]string, 100)
	for i := range refs {
		refs[i] = fmt.Sprintf("op://Prod/Item %d/field-%d", i, i)
	}
	trace := filepath.Join(dir, "strace.txt")
	args := append([]string{"-f", "-qq", "-e", "trace=socket,connect", "-o", trace, cli, "validate"}, refs...)
	for _, tok := range []string{serviceaccounttest.WellFormedFakeToken("my.1password.com"), "ops_garbage"} {
		cmd := exec.Command(strace, args...)
		cmd.Env = []string{"SECRET_PROVIDER=1password", "SECRET_PROVIDER_ACCESS_TOKEN=" + tok}
		start := time.Now()
		out, err := cmd.CombinedOutput()
		took := time.Since(start)
		if err != nil {
			t.Fatalf("validate: %v\n%s", err, out)
		}
		if n := strings.Count(string(out), "ok  op://"); n != len(refs) {
			t.Errorf("%d references valid, want %d:\n%s", n, len(refs), out)
		}
		b, err := os.ReadFile(trace)
		if err != nil {
			t.Fatal(err)
		}
		unix := 0
		for _, line := range strings.Split(string(b), "\n") {
			if !strings.Contains(line, "socket(") && !strings.Contains(line, "connect(") {
				continue
			}
			if strings.Contains(line, "AF_UNIX") {
				unix++
				continue
			}
			t.Errorf("validate opened a non-unix socket: %s", line)
		}
		if unix == 0 {
			t.Errorf("strace saw no unix socket either: the trace is not working\n%s", b)
		}
		if took > 2*time.Second {
			t.Errorf("validate took %s under strace; the SDK's core must not load", took)
		}
		t.Logf("validate of %d references under strace: %s, %d unix socket calls", len(refs), took.Round(time.Millisecond), unix)
	}
}
