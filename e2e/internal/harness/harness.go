// Package harness is what the end-to-end tests under e2e/ share: the real
// binaries, built once per test process (internal/testbin), a TestMain that
// removes them, a real host.Host running one provider block with its log
// captured, and the check that no secret reached that log.
package harness

import (
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/host"
	"github.com/secrethost/secrethost/host/config"
	"github.com/secrethost/secrethost/internal/syncbuf"
	"github.com/secrethost/secrethost/internal/testbin"
)

// Main runs the package's tests, then removes the plugin directory the
// binaries were built into. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}

// Plugin builds pkg (relative to the repository root, e.g.
// "./plugins/onepassword-connect") as name into the process-wide plugin
// directory, once per test process, and returns the binary's path.
func Plugin(t testing.TB, name, pkg, ldflags string) string {
	t.Helper()
	return testbin.Build(t, testbin.PluginDir(), name, pkg, ldflags)
}

// PluginDir is the process-wide plugin directory Plugin builds into.
func PluginDir() string { return testbin.PluginDir() }

// Options shape NewHost's host.
type Options struct {
	// Level of the captured log; hclog.NoLevel means Debug (plugins log
	// their request counts there).
	Level hclog.Level
	// LookupEnv is the host's environment; nil means the process's.
	LookupEnv func(string) (string, bool)
	// Secrets must never appear in the log; checked when the test ends.
	Secrets []string
}

// NewHost runs block through a real host whose plugin directory is
// PluginDir (build the plugin first with Plugin). The host's and the
// plugin's log go to the returned buffer, which is printed if the test
// fails and checked for o.Secrets when it ends; the host is closed then.
func NewHost(t testing.TB, block config.ProviderBlock, o Options) (*host.Host, *syncbuf.Buffer) {
	t.Helper()
	sink := &syncbuf.Buffer{}
	level := o.Level
	if level == hclog.NoLevel {
		level = hclog.Debug
	}
	opts := []host.Option{host.WithPluginDir(PluginDir()),
		host.WithLogger(hclog.New(&hclog.LoggerOptions{Level: level, Output: sink}))}
	if o.LookupEnv != nil {
		opts = append(opts, host.WithLookupEnv(o.LookupEnv))
	}
	h, err := host.New(&config.Config{Source: "test", Providers: []config.ProviderBlock{block}}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		NoSecretIn(t, sink.String(), o.Secrets...)
		if t.Failed() {
			t.Logf("host and plugin log:\n%s", sink.String())
		}
	})
	t.Cleanup(h.Close)
	return h, sink
}

// NoSecretIn fails t for each of secrets that log contains.
func NoSecretIn(t testing.TB, log string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(log, s) {
			t.Errorf("the log contains the secret %q", s)
		}
	}
}
