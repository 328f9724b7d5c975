package onepasswordsa_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/e2e/internal/harness"
	"github.com/secrethost/secrethost/host"
	"github.com/secrethost/secrethost/host/config"
	"github.com/secrethost/secrethost/internal/testbin"
	"github.com/secrethost/secrethost/plugins/onepassword-sa/serviceaccount"
	"github.com/secrethost/secrethost/plugins/onepassword-sa/serviceaccount/serviceaccounttest"
	"github.com/secrethost/secrethost/shared/launch"
	"github.com/secrethost/secrethost/shared/provider"
)

// End-to-end: the real plugin binary, with the real SDK inside, started
// the way the host starts it. Nothing here can reach 1Password, so these
// tests cover what works offline: start-up, Configure rejecting a
// malformed token with the SDK's reason, and Validate.

func TestMain(m *testing.M) {
	if os.Getenv(sdkValidateEnv) == "1" {
		sdkValidateMain() // the baseline of BenchmarkValidate100
	}
	harness.Main(m)
}

const (
	pluginName    = "onepassword-sa"
	pluginVersion = "0.0.0-e2e"
	// malformedToken is not a service account token; the SDK says so
	// offline, with this reason.
	malformedToken  = "this-is-not-a-service-account-token"
	malformedReason = "service account token had invalid format"
)

// pluginBinary builds ./plugins/onepassword-sa once per test process.
func pluginBinary(t testing.TB) string {
	t.Helper()
	return harness.Plugin(t, pluginName, "./plugins/onepassword-sa",
		"-X github.com/secrethost/secrethost/internal/version.Version="+pluginVersion)
}

// skipIfShort skips tests that start the plugin far enough to load the
// SDK's core (seconds of CPU each).
func skipIfShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the plugin and loads the 1Password SDK's WebAssembly core (slow); skipped with -short")
	}
}

// e2eContext is generous: the plugin compiles the SDK's WebAssembly core
// during Configure, which takes seconds, more on a loaded machine.
func e2eContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

type logWriter struct{ t testing.TB }

func (w logWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

func testLogger(t testing.TB) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: logWriter{t}})
}

// validateCases are checked through the plugin binary: the SDK's own
// verdicts (see TestRulesAgreeWithSDK), without its core.
var validateCases = []struct {
	ref  string
	want string // "" when valid
}{
	{"op://Production/Database/password", ""},
	{"op://Production/Database/Admin/password?attribute=otp", ""},
	{"OP://Production/Database/password", `not prefixed with "op://"`},
	{"op://Production/Database", "invalid format"},
	{"op://Prödüction/Database/password", "invalid character in secret reference"},
	{"op://Production/Database/password?ssh-format=openssh", ""},
	// Documented by 1Password, not supported by its SDK: the SDK's reason, and why (issue 12, item 3).
	{"op://Production/Database/password?attribute=type", "invalid query parameter value (?attribute=type is documented by 1Password, but its SDK"},
	{"op://Production/Database/cert.pem?attribute=size", "supports only attribute=otp (or totp) and ssh-format=openssh"},
	// Outside 1Password's character set: the SDK's error in service-account mode (issue 12, item 7).
	{"op://Production/My Item (2)/password", "invalid character in secret reference"},
}

func checkValidate(t *testing.T, results []provider.ValidateResult) {
	t.Helper()
	if len(results) != len(validateCases) {
		t.Fatalf("%d results for %d references", len(results), len(validateCases))
	}
	for i, c := range validateCases {
		r := results[i]
		switch {
		case r.Reference != c.ref:
			t.Errorf("result %d is for %q, want %q", i, r.Reference, c.ref)
		case c.want == "" && r.Err != nil:
			t.Errorf("%q: want valid, got %v", c.ref, r.Err)
		case c.want != "" && (r.Err == nil || r.Err.Code != provider.CodeInvalidReference || !strings.Contains(r.Err.Message, c.want)):
			t.Errorf("%q: want invalid_reference containing %q, got %v", c.ref, c.want, r.Err)
		}
	}
}

// TestPluginBinaryOffline drives the binary through host/launch: start,
// GetInfo, Configure with a malformed token (rejected with the SDK's
// reason, no network needed), then Validate on the same process.
func TestPluginBinaryOffline(t *testing.T) {
	skipIfShort(t)
	t.Parallel()
	path := pluginBinary(t)
	ctx := e2eContext(t)
	start := time.Now()
	proc, err := launch.Start(ctx, launch.Spec{Name: pluginName, Path: path, LogLevel: hclog.Debug, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer proc.Kill()
	handshake := time.Since(start)

	info, err := proc.Client.GetInfo(ctx, provider.InfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != pluginName || info.Version != pluginVersion || info.ProtocolVersion != provider.ProtocolVersion {
		t.Errorf("GetInfo = %+v", info)
	}

	_, err = proc.Client.Configure(ctx, provider.ConfigureRequest{Config: map[string]string{serviceaccount.AttrToken: malformedToken}})
	configured := time.Since(start)
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Code != provider.CodeInvalidConfig {
		t.Fatalf("Configure: want invalid_config, got %v", err)
	}
	for _, want := range []string{serviceaccount.AttrToken, malformedReason} {
		if !strings.Contains(pe.Message, want) {
			t.Errorf("Configure error lacks %q: %s", want, pe.Message)
		}
	}
	if strings.Contains(pe.Message, malformedToken) {
		t.Errorf("Configure error echoes the token: %s", pe.Message)
	}
	t.Logf("exec+handshake %s; +GetInfo+Configure (offline token check, no SDK core) %s; peak RSS %d KiB",
		handshake.Round(time.Millisecond), configured.Round(time.Millisecond), vmHWM(t, proc.Pid()))

	// Validate needs no credential, so it works although Configure failed.
	refs := make([]string, len(validateCases))
	for i, c := range validateCases {
		refs[i] = c.ref
	}
	resp, err := proc.Client.Validate(ctx, provider.ValidateRequest{References: refs})
	if err != nil {
		t.Fatal(err)
	}
	checkValidate(t, resp.Results)
}

// TestHostRejectsMalformedToken goes through host.Host in doco-cd's
// environment mode (config_from_env): the host reads the plugin's declared
// attributes from the environment, and Configure's rejection reaches the
// caller with the provider's name and the SDK's reason.
func TestHostRejectsMalformedToken(t *testing.T) {
	skipIfShort(t)
	t.Parallel()
	pluginBinary(t)
	env := map[string]string{"OP_SERVICE_ACCOUNT_TOKEN": malformedToken, "SECRET_PROVIDER_CACHE_ENABLED": "true"}
	h, err := host.New(&config.Config{Source: "test", Providers: []config.ProviderBlock{{
		Name: pluginName, Plugin: pluginName, Pos: "config.hcl:3:1", ConfigFromEnv: true,
	}}}, host.WithPluginDir(harness.PluginDir()), host.WithLogger(testLogger(t)),
		host.WithLookupEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	_, err = h.GetSecret(e2eContext(t), "op://Production/Database/password")
	if !errors.Is(err, provider.ErrInvalidConfig) {
		t.Fatalf("want invalid_config, got %v", err)
	}
	for _, want := range []string{`provider "onepassword-sa" (config.hcl:3:1)`, "OP_SERVICE_ACCOUNT_TOKEN", malformedReason} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), malformedToken) {
		t.Errorf("error echoes the token: %v", err)
	}
}

// TestHostValidatesOffline: with a token of the right format and 1Password
// out of reach, the plugin starts (Configure defers the sign-in with a
// warning), so host.Host.Validate works offline; Resolve reports
// unavailable, and Diagnose (secrethost doctor) shows why.
func TestHostValidatesOffline(t *testing.T) {
	skipIfShort(t)
	t.Parallel()
	serviceaccounttest.SkipIfReachable(t, "my.1password.com")
	pluginBinary(t)
	h, err := host.New(&config.Config{Source: "test", Providers: []config.ProviderBlock{{
		Name: pluginName, Plugin: pluginName, Pos: "config.hcl:3:1",
		Config: map[string]string{serviceaccount.AttrToken: serviceaccounttest.WellFormedFakeToken("my.1password.com")},
	}}}, host.WithPluginDir(harness.PluginDir()), host.WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ctx := e2eContext(t)
	refs := make([]string, len(validateCases))
	for i, c := range validateCases {
		refs[i] = c.ref
	}
	results, err := h.Validate(ctx, refs)
	if err != nil {
		t.Fatal(err)
	}
	checkValidate(t, results)

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

// vmHWM returns the peak resident set size of process pid, in KiB.
func vmHWM(t testing.TB, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return -1
}

// cpuSeconds returns the CPU time (user + system) process pid has used.
// Unlike wall time, it barely depends on what else the machine is doing.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// Fields after the command name, which is in parentheses and may
	// contain spaces: state is field 3, utime 14, stime 15.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return -1
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	const clockTicks = 100 // USER_HZ on Linux
	return (utime + stime) / clockTicks
}

// BenchmarkStartup is what the first use of the provider costs: exec,
// go-plugin handshake with AutoMTLS, GetInfo, and a Configure that loads
// the SDK's WebAssembly core and has the SDK check a (malformed) token,
// which is the Configure path that works offline. Besides time per start
// it reports the handshake alone, the plugin's CPU time (steadier than
// wall time on a busy machine), its peak RSS after Configure, and the
// binary's size.
func BenchmarkStartup(b *testing.B) {
	path := pluginBinary(b)
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var (
		peak      int
		cpu       float64
		handshake time.Duration
		n         int
	)
	for b.Loop() {
		start := time.Now()
		proc, err := launch.Start(ctx, launch.Spec{Name: pluginName, Path: path, LogLevel: hclog.Error})
		if err != nil {
			b.Fatal(err)
		}
		handshake += time.Since(start)
		if _, err := proc.Client.GetInfo(ctx, provider.InfoRequest{}); err != nil {
			b.Fatal(err)
		}
		_, err = proc.Client.Configure(ctx, provider.ConfigureRequest{Config: map[string]string{serviceaccount.AttrToken: malformedToken}})
		if !errors.Is(err, provider.ErrInvalidConfig) {
			b.Fatalf("Configure: want invalid_config, got %v", err)
		}
		b.StopTimer()
		peak = max(peak, vmHWM(b, proc.Pid()))
		cpu += cpuSeconds(proc.Pid())
		n++
		proc.Kill()
		b.StartTimer()
	}
	b.ReportMetric(float64(handshake.Milliseconds())/float64(n), "handshake-ms")
	b.ReportMetric(cpu/float64(n), "plugin-CPU-s")
	b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
	b.ReportMetric(float64(st.Size())/(1<<20), "binary-MiB")
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
