package host_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/host"
	"github.com/secrethost/secrethost/host/config"
	"github.com/secrethost/secrethost/internal/syncbuf"
	"github.com/secrethost/secrethost/shared/provider"
)

// countingHost is a Host for providers whose log goes to a buffer as well
// as to the test log, so that a test can count plugin starts: go-plugin
// logs "waiting for RPC address" once per process it starts.
func countingHost(t *testing.T, providers ...config.ProviderBlock) (*host.Host, *syncbuf.Buffer) {
	t.Helper()
	for i := range providers {
		if providers[i].Plugin == "" {
			providers[i].Plugin = providers[i].Name
		}
		if providers[i].Pos == "" {
			providers[i].Pos = "test.hcl:1:1"
		}
	}
	var buf syncbuf.Buffer
	h, err := host.New(&config.Config{Source: "test", Providers: providers},
		host.WithPluginDir(pluginDir(t)),
		host.WithLogger(hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: teeWriter{t, &buf}})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h, &buf
}

type teeWriter struct {
	t   *testing.T
	buf *syncbuf.Buffer
}

func (w teeWriter) Write(b []byte) (int, error) {
	w.buf.Write(b)
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// starts counts the plugin processes of provider name started so far.
func starts(buf *syncbuf.Buffer, name string) int {
	n := 0
	for _, line := range strings.Split(buf.String(), "\n") {
		if strings.Contains(line, "waiting for RPC address") && strings.Contains(line, " "+name) {
			n++
		}
	}
	return n
}

// TestValidateStartsARejectedPluginOnce: a provider whose configuration is
// rejected is validated with the process that was started (described, then
// refused by Configure), not with a second one; also when its schemes were
// asked first, as `secrethost validate` does.
func TestValidateStartsARejectedPluginOnce(t *testing.T) {
	h, buf := countingHost(t, config.ProviderBlock{Name: "test", Config: map[string]string{"fail": "1"}})
	got, err := h.Validate(ctx(t), []string{"test://a", "test://b"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Err != nil || got[1].Err != nil {
		t.Fatalf("verdicts: %+v", got)
	}
	if n := starts(buf, "test"); n != 1 {
		t.Fatalf("Validate started the plugin %d times, want 1", n)
	}

	h, buf = countingHost(t, config.ProviderBlock{Name: "test", Config: map[string]string{"fail": "1"}})
	if s, err := h.DescribedSchemes(ctx(t)); err != nil || !slices.Equal(s, []string{"test"}) {
		t.Fatalf("DescribedSchemes = %q, %v", s, err)
	}
	got, err = h.Validate(ctx(t), []string{"test://a", "test://b"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Err != nil || got[1].Err != nil {
		t.Fatalf("verdicts: %+v", got)
	}
	if n := starts(buf, "test"); n != 1 {
		t.Fatalf("DescribedSchemes and Validate started the plugin %d times, want 1", n)
	}
}

// TestOnlyTheProvidersACallNeedsStart: with two providers whose blocks
// declare their schemes, a call starts only the provider its references
// use; Validate too. Read from a configuration file, as an operator writes it.
func TestOnlyTheProvidersACallNeedsStart(t *testing.T) {
	dir := t.TempDir()
	secrets := filepath.Join(dir, "secrets")
	os.Mkdir(secrets, 0o700)
	os.WriteFile(filepath.Join(secrets, "k"), []byte("file-value"), 0o600)
	path := filepath.Join(dir, "config.hcl")
	os.WriteFile(path, []byte(`
provider "test" {
  schemes = ["TEST"]
}
provider "file" {
  schemes = ["file"]
  config = { dir = "./secrets" }
}
`), 0o600)
	var buf syncbuf.Buffer
	h, err := host.Open(path, host.WithPluginDir(pluginDir(t)),
		host.WithLogger(hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: teeWriter{t, &buf}})))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()

	if s, err := h.Schemes(ctx(t)); err != nil || !slices.Equal(s, []string{"file", "test"}) {
		t.Fatalf("Schemes = %q, %v", s, err)
	}
	if v, err := h.GetSecret(ctx(t), "test://a"); err != nil || v != "a" {
		t.Fatalf("test://a = %q, %v", v, err)
	}
	if _, err := h.Validate(ctx(t), []string{"test://b"}); err != nil {
		t.Fatal(err)
	}
	// A scheme nobody handles fails without starting anything either.
	if _, err := h.GetSecret(ctx(t), "nosuch://x"); err == nil || !strings.Contains(err.Error(), "configured schemes: file://, test://") {
		t.Fatalf("nosuch://x: %v", err)
	}
	if n := starts(&buf, "file"); n != 0 {
		t.Fatalf("the file plugin was started %d times for test:// references", n)
	}
	if n := starts(&buf, "test"); n != 1 {
		t.Fatalf("the test plugin was started %d times, want 1", n)
	}
	if v, err := h.GetSecret(ctx(t), "file://k"); err != nil || v != "file-value" {
		t.Fatalf("file://k = %q, %v", v, err)
	}
	if n := starts(&buf, "file"); n != 1 {
		t.Fatalf("the file plugin was started %d times, want 1", n)
	}
}

// TestDeclaredSchemesMustMatchThePlugin: a plugin that handles other
// schemes than its block declares is refused, naming both lists.
func TestDeclaredSchemesMustMatchThePlugin(t *testing.T) {
	h := newHost(t, config.ProviderBlock{Name: "test", Schemes: []string{"test", "vault"}})
	_, err := h.GetSecret(ctx(t), "vault://x")
	var cerr *host.ConfigError
	if !errors.As(err, &cerr) {
		t.Fatalf("want a *host.ConfigError, got %v", err)
	}
	for _, want := range []string{`provider "test"`, "the plugin handles test://", "declares schemes = test://, vault://"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

// TestDescribedPluginIsConfiguredLater: SensitiveEnv (as `secrethost run`
// calls it before resolving) starts the plugin only to describe it; the
// Resolve that follows configures that same process instead of starting
// another.
func TestDescribedPluginIsConfiguredLater(t *testing.T) {
	h, buf := countingHost(t, config.ProviderBlock{Name: "test", Config: map[string]string{"TEST_TOKEN": "tok-value-1"}})
	if _, err := h.SensitiveEnv(ctx(t), []string{"COPY=tok-value-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.GetSecret(ctx(t), "test://a"); err != nil {
		t.Fatal(err)
	}
	if n := starts(buf, "test"); n != 1 {
		t.Fatalf("SensitiveEnv then Resolve started the plugin %d times, want 1", n)
	}
}

// TestValidateAndResolveTogetherWithRejectedConfiguration: while Resolve
// keeps failing on a refused configuration, concurrent Validate calls still
// get their verdicts, and no process is left running afterwards.
func TestValidateAndResolveTogetherWithRejectedConfiguration(t *testing.T) {
	h := newHost(t, config.ProviderBlock{Name: "test", Config: map[string]string{"fail": "1"}})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			got, err := h.Validate(ctx(t), []string{"test://a"})
			if err == nil && (len(got) != 1 || got[0].Err != nil) {
				err = fmt.Errorf("verdicts %+v", got)
			}
			if err != nil {
				errs <- fmt.Errorf("Validate: %w", err)
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := h.GetSecret(ctx(t), "test://a"); !errors.Is(err, provider.ErrInvalidConfig) {
				errs <- fmt.Errorf("GetSecret: %v", err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, pid := range childPids(t) {
		if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); alive(pid) && strings.Contains(string(b), "/test") {
			t.Errorf("plugin %d still running", pid)
		}
	}
}
