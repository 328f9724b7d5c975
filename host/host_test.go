package host_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/host"
	"github.com/secrethost/secrethost/host/config"
	"github.com/secrethost/secrethost/internal/syncbuf"
	"github.com/secrethost/secrethost/internal/testbin"
	"github.com/secrethost/secrethost/shared/launch"
	"github.com/secrethost/secrethost/shared/plugin"
	"github.com/secrethost/secrethost/shared/provider"
)

func TestMain(m *testing.M) {
	if os.Getenv("SECRETHOST_TEST_HOST_HELPER") != "" {
		hostHelper()
		return
	}
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}

// pluginDir builds the example provider and the misbehaving test plugins.
func pluginDir(t testing.TB) string {
	dir := testbin.PluginDir()
	testbin.Build(t, dir, "file", "./examples/file-provider", "")
	testbin.Build(t, dir, "test", "./host/internal/testplugin", "")
	for _, mode := range []string{"stdout", "crash", "shortbatch", "longbatch", "extra", "badlog"} {
		testbin.Build(t, dir, "test-"+mode, "./host/internal/testplugin", "-X main.mode="+mode)
	}
	return dir
}

func newHost(t *testing.T, providers ...config.ProviderBlock) *host.Host {
	t.Helper()
	for i := range providers {
		if providers[i].Plugin == "" {
			providers[i].Plugin = providers[i].Name
		}
		if providers[i].Pos == "" {
			providers[i].Pos = "test.hcl:1:1"
		}
	}
	h, err := host.New(&config.Config{Source: "test", Providers: providers},
		host.WithPluginDir(pluginDir(t)),
		host.WithLogger(hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: testWriter{t}})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestResolveThroughExampleProvider(t *testing.T) {
	secrets := t.TempDir()
	os.WriteFile(filepath.Join(secrets, "db_password"), []byte("s3cret\nline2"), 0o600)
	os.WriteFile(filepath.Join(secrets, "api_key"), []byte("key-123"), 0o600)
	h := newHost(t, config.ProviderBlock{Name: "file", Config: map[string]string{"dir": secrets}})

	got, err := h.ResolveSecretReferences(ctx(t), map[string]string{
		"DB_PASSWORD": "file://db_password",
		"API_KEY":     "file://api_key",
		"API_KEY_2":   "file://api_key",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"DB_PASSWORD": "s3cret\nline2", "API_KEY": "key-123", "API_KEY_2": "key-123"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d values, want %d", len(got), len(want))
	}

	// All or nothing: one bad reference fails the call, names every
	// failure, and returns no values.
	got, err = h.ResolveSecretReferences(ctx(t), map[string]string{
		"DB_PASSWORD": "file://db_password",
		"MISSING":     "file://nope",
		"BAD":         "file://../etc/passwd",
		"OTHER":       "vault://x",
		"REPO_URL":    "https://oauth2:ghp_s3cretT0ken@github.com/o/r.git",
	})
	if got != nil {
		t.Errorf("values returned despite failures: %v", got)
	}
	var rerr *host.ResolveError
	if !errors.As(err, &rerr) {
		t.Fatalf("error %v is not a *host.ResolveError", err)
	}
	if len(rerr.Failures) != 4 {
		t.Errorf("want 4 failures, got %d: %v", len(rerr.Failures), err)
	}
	for _, want := range []string{"MISSING (file://nope): not_found", "BAD (file://../etc/passwd): invalid_reference", "OTHER (<not a reference of a configured scheme>): invalid_reference: not a reference of a configured scheme",
		"REPO_URL (<not a reference of a configured scheme>): invalid_reference"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	// A value with a scheme nobody handles is not a reference: never shown.
	if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "vault://x") || strings.Contains(err.Error(), "github.com") {
		t.Errorf("error leaks a secret value: %v", err)
	}
	if !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("errors.Is(err, ErrNotFound) = false")
	}
}

func resolvePid(t *testing.T, h *host.Host) int {
	t.Helper()
	v, err := h.GetSecret(ctx(t), "test://pid")
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(v)
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func TestPluginReusedAndRestartedAfterKill(t *testing.T) {
	h := newHost(t, config.ProviderBlock{Name: "test"})
	pid := resolvePid(t, h)
	if again := resolvePid(t, h); again != pid {
		t.Fatalf("second call ran in a new process (%d, then %d): plugins must be reused", pid, again)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid)
	next := resolvePid(t, h)
	if next == pid {
		t.Fatalf("pid unchanged after kill")
	}
}

func TestCrashDuringCallRestartsThenReportsSecondCrash(t *testing.T) {
	h := newHost(t, config.ProviderBlock{Name: "test"})
	first := resolvePid(t, h)
	_, err := h.GetSecret(ctx(t), "test://panic")
	if !errors.Is(err, host.ErrCrashed) {
		t.Fatalf("want ErrCrashed after two crashes, got %v", err)
	}
	if !strings.Contains(err.Error(), "testplugin: asked to panic") {
		t.Errorf("error lacks the plugin's last stderr lines: %v", err)
	}
	// The host recovers for the next call.
	if pid := resolvePid(t, h); pid == first {
		t.Errorf("plugin was not replaced")
	}
}

func TestDeadlineKillsHungPlugin(t *testing.T) {
	h := newHost(t, config.ProviderBlock{Name: "test"})
	pid := resolvePid(t, h)
	c, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := h.GetSecret(c, "test://hang")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want DeadlineExceeded, got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("call took %s; the deadline was 500ms", d)
	}
	waitGone(t, pid)
	if next := resolvePid(t, h); next == pid {
		t.Errorf("hung plugin still in use")
	}
}

func TestChecksumMismatchIsNeverExecuted(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "executed")
	script := filepath.Join(dir, "pinned")
	os.WriteFile(script, []byte("#!/bin/sh\ntouch "+marker+"\n"), 0o755)
	wrong := sha256.Sum256([]byte("something else"))
	h, err := host.New(&config.Config{Providers: []config.ProviderBlock{{
		Name: "pinned", Plugin: "pinned", SHA256: hex.EncodeToString(wrong[:]), Pos: "config.hcl:3:1",
	}}}, host.WithPluginDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	_, err = h.GetSecret(ctx(t), "x://y")
	if !errors.Is(err, launch.ErrChecksum) {
		t.Fatalf("want ErrChecksum, got %v", err)
	}
	for _, want := range []string{`provider "pinned" (config.hcl:3:1)`, "sha256 pin", "not executed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the pinned binary ran despite its checksum mismatch")
	}

	// The right pin launches it (and the same host config restarts it with
	// a fresh SecureConfig every time).
	sum := sha256Of(t, filepath.Join(pluginDir(t), "test"))
	h2 := newHost(t, config.ProviderBlock{Name: "test", SHA256: sum})
	pid := resolvePid(t, h2)
	syscall.Kill(pid, syscall.SIGKILL)
	waitGone(t, pid)
	resolvePid(t, h2)
}

func sha256Of(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestPluginSeesNoHostEnvironment(t *testing.T) {
	t.Setenv("HOST_ONLY_SECRET", "do-not-leak-4711")
	t.Setenv("TEST_TOKEN", "declared-token-0815")
	t.Setenv("UNDECLARED", "x")
	h := newHost(t, config.ProviderBlock{Name: "test", ConfigFromEnv: true})
	env, err := h.GetSecret(ctx(t), "test://env")
	if err != nil {
		t.Fatal(err)
	}
	pid := resolvePid(t, h)
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		t.Fatal(err)
	}
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	for _, blob := range []string{env, string(raw), string(cmdline)} {
		for _, leak := range []string{"do-not-leak-4711", "declared-token-0815", "UNDECLARED", "PATH=", "HOME="} {
			if strings.Contains(blob, leak) {
				t.Errorf("plugin environment or argv contains %q", leak)
			}
		}
	}
	for _, kv := range strings.Split(env, "\x00") {
		name, _, _ := strings.Cut(kv, "=")
		if name != plugin.LogLevelEnv && name != plugin.Handshake.MagicCookieKey && !strings.HasPrefix(name, "PLUGIN_") {
			t.Errorf("unexpected variable in the plugin's environment: %s", name)
		}
	}
}

func TestStartupFailuresAreReadable(t *testing.T) {
	cases := map[string]string{
		"test-stdout": "hello from a plugin that prints before its handshake",
		"test-crash":  "cannot open the backend's state directory",
	}
	for name, want := range cases {
		t.Run(name, func(t *testing.T) {
			h := newHost(t, config.ProviderBlock{Name: name})
			_, err := h.GetSecret(ctx(t), "test://a")
			if !errors.Is(err, launch.ErrStart) {
				t.Fatalf("want ErrStart, got %v", err)
			}
			if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), name) {
				t.Errorf("error should name the plugin and quote %q:\n%v", want, err)
			}
		})
	}
}

// TestPluginLogLinesOfWrongTypesDoNotCrashTheHost: go-plugin v1.8.0's
// stderr parser asserts that "@message" is a string, so a plugin's line
// {"@level":"error","@message":42} panicked the host. The host now parses
// the plugin's stderr itself: the call succeeds and the lines are logged.
func TestPluginLogLinesOfWrongTypesDoNotCrashTheHost(t *testing.T) {
	var logs syncbuf.Buffer
	h, err := host.New(&config.Config{Source: "test", Providers: []config.ProviderBlock{{Name: "test-badlog", Plugin: "test-badlog", Pos: "test.hcl:1:1"}}},
		host.WithPluginDir(pluginDir(t)),
		host.WithLogger(hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: &logs})))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if _, err := h.GetSecret(ctx(t), "test://a"); err != nil {
		t.Fatalf("resolve through a plugin that logs odd JSON: %v", err)
	}
	h.Close()
	out := logs.String()
	for _, want := range []string{"badlog-marker", "42", `{"nested":true}`} {
		if !strings.Contains(out, want) {
			t.Errorf("the plugin's stderr line with %q was not forwarded to the host's log:\n%s", want, out)
		}
	}
}

func TestBrokenBatchesAreProtocolErrors(t *testing.T) {
	for _, name := range []string{"test-shortbatch", "test-longbatch", "test-extra"} {
		t.Run(name, func(t *testing.T) {
			h := newHost(t, config.ProviderBlock{Name: name})
			v, err := h.GetSecrets(ctx(t), []string{"test://a", "test://b"})
			if !errors.Is(err, plugin.ErrProtocol) || v != nil {
				t.Fatalf("want ErrProtocol and no values, got %v, %v", v, err)
			}
		})
	}
}

func TestConfigureErrorNamesProvider(t *testing.T) {
	h := newHost(t, config.ProviderBlock{Name: "test", Pos: "config.hcl:9:1", Config: map[string]string{"fail": "1"}})
	_, err := h.GetSecret(ctx(t), "test://a")
	if !errors.Is(err, provider.ErrInvalidConfig) || !strings.Contains(err.Error(), `provider "test" (config.hcl:9:1)`) {
		t.Fatalf("got %v", err)
	}
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if !alive(pid) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("process %d still alive", pid)
}

// alive treats zombies as dead: a killed plugin whose parent has not
// reaped it yet runs no code.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

// TestSIGKILLedHostLeavesNoPlugin runs a host in a child process, kills it
// with SIGKILL (no cleanup code can run), and checks the plugin died too.
func TestSIGKILLedHostLeavesNoPlugin(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	// The plugin's socket directory cannot be removed by a host killed
	// with SIGKILL: keep it out of the real temporary directory.
	cmd.Env = append(os.Environ(), "SECRETHOST_TEST_HOST_HELPER=1", "SECRETHOST_TEST_PLUGIN_DIR="+pluginDir(t), "TMPDIR="+t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("helper: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("helper said %q", line)
	}
	if !alive(pid) {
		t.Fatalf("plugin %d not running while its host is", pid)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	waitGone(t, pid)
}

func hostHelper() {
	h, err := host.New(&config.Config{Providers: []config.ProviderBlock{{Name: "test", Plugin: "test", Pos: "helper"}}},
		host.WithPluginDir(os.Getenv("SECRETHOST_TEST_PLUGIN_DIR")))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pid, err := h.GetSecret(context.Background(), "test://pid")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(pid)
	// Keep resolving so the host is busy when it is killed; never Close.
	for {
		time.Sleep(50 * time.Millisecond)
		h.GetSecret(context.Background(), "test://pid")
	}
}

// TestBinaryChangedAfterPinIsRefused: a pinned plugin that is replaced on
// disk between two launches is refused at the restart, not executed.
func TestBinaryChangedAfterPinIsRefused(t *testing.T) {
	src := pluginDir(t)
	dir := t.TempDir()
	copyFile(t, filepath.Join(src, "test"), filepath.Join(dir, "test"))
	h, err := host.New(&config.Config{Providers: []config.ProviderBlock{{
		Name: "test", Plugin: "test", SHA256: sha256Of(t, filepath.Join(dir, "test")), Pos: "config.hcl:1:1",
	}}}, host.WithPluginDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	pid := resolvePid(t, h)

	// Swap in another binary (atomically, as an attacker or a bad deploy
	// would), then make the host restart the plugin.
	copyFile(t, filepath.Join(src, "test-extra"), filepath.Join(dir, "test.new"))
	if err := os.Rename(filepath.Join(dir, "test.new"), filepath.Join(dir, "test")); err != nil {
		t.Fatal(err)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	waitGone(t, pid)
	if _, err := h.GetSecret(ctx(t), "test://pid"); !errors.Is(err, launch.ErrChecksum) {
		t.Fatalf("want ErrChecksum after the binary changed, got %v", err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestHostScrubsTokensFromCarelessPlugins: a plugin that quotes its own
// token in an error (ours never do) still does not get it past the host.
func TestHostScrubsTokensFromCarelessPlugins(t *testing.T) {
	const token = "careless-token-5150"
	h := newHost(t, config.ProviderBlock{Name: "test", Config: map[string]string{"TEST_TOKEN": token}})
	_, err := h.GetSecret(ctx(t), "test://leak")
	if err == nil || strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "<redacted>") {
		t.Fatalf("per-reference error: %v", err)
	}
	var rerr *host.ResolveError
	if !errors.As(err, &rerr) || strings.Contains(rerr.Failures[0].Err.Message, token) {
		t.Fatalf("the failure's own message holds the token: %+v", rerr)
	}

	h = newHost(t, config.ProviderBlock{Name: "test", Config: map[string]string{"TEST_TOKEN": token, "leak": "1"}})
	_, err = h.GetSecret(ctx(t), "test://a")
	if !errors.Is(err, provider.ErrInvalidConfig) || strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "<redacted>") {
		t.Fatalf("Configure error: %v", err)
	}
	var pe *provider.Error
	if errors.As(err, &pe) && strings.Contains(pe.Message, token) {
		t.Fatalf("errors.As reaches the unredacted message: %q", pe.Message)
	}
}

// TestValidateWithoutCredentials: a provider whose configuration is
// rejected (no token in a CI job, say) still validates references, with an
// unconfigured plugin that is stopped afterwards; resolving still fails.
func TestValidateWithoutCredentials(t *testing.T) {
	h := newHost(t, config.ProviderBlock{Name: "test", Config: map[string]string{"fail": "1"}})
	got, err := h.Validate(ctx(t), []string{"test://a", "nosuch://x", "test://a"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Err != nil || got[2].Err != nil || got[1].Err == nil || got[1].Err.Code != provider.CodeInvalidReference {
		t.Fatalf("verdicts: %+v", got)
	}
	if _, err := h.GetSecret(ctx(t), "test://a"); !errors.Is(err, provider.ErrInvalidConfig) {
		t.Fatalf("resolve without a valid configuration: %v", err)
	}
	// No unconfigured plugin is left running.
	for _, pid := range childPids(t) {
		if alive(pid) {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			if strings.Contains(string(b), "/test") {
				t.Errorf("plugin %d still running after Validate", pid)
			}
		}
	}
}

// childPids lists the test process's children (every thread's: plugins
// are forked from a locked thread).
func childPids(t *testing.T) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", os.Getpid()))
	var out []int
	for _, task := range tasks {
		b, _ := os.ReadFile(task)
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}
