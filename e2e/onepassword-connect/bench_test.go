package onepasswordconnect_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/1Password/connect-sdk-go/connect"
	"github.com/opentracing/opentracing-go"

	"github.com/secrethost/secrethost/host"
	"github.com/secrethost/secrethost/internal/testbin"
	"github.com/secrethost/secrethost/plugins/onepassword-connect/emulator"
	"github.com/secrethost/secrethost/plugins/onepassword-connect/emulator/fixture"
)

// benchLatency is the emulated Connect round trip.
const benchLatency = 20 * time.Millisecond

// BenchmarkConnect100 resolves the example, 100 references to 10
// items in 2 vaults, all by title, against the emulator at benchLatency
// per request, three ways (benchstat -col /name puts them side by side):
//
//   - name=cold: the host and the plugin binary, a plugin process that has
//     not resolved these titles before (a new one for each Resolve, started
//     and its connections opened outside the timing): the cold plan;
//   - name=warm: the same plugin process resolving the batch again, as
//     doco-cd does on every poll: the warm path (connect/warm.go);
//   - name=doco-cd: doco-cd's own Connect strategy (kimdre/doco-cd
//     internal/secretprovider/1password/client_connect.go): connect-sdk-go's
//     GetItem(item, vault) once per reference, 10 in flight (errgroup
//     SetLimit(10)), no batching; its cache is off in Connect mode, so every
//     poll is the same.
//
// Each reports requests/op and round-trips/op (the longest chain of
// requests each starting after the previous one ended, from the emulator's
// log) besides the wall time.
func BenchmarkConnect100(b *testing.B) {
	refs := fixture.Batch100(fixture.VaultTitle, fixture.ItemTitle)
	data := emulator.Generate(2, 5)
	idRef := "op://" + data.Vaults[0].ID + "/" + data.Vaults[0].Items[0].ID + "/password"
	c := context.Background()
	b.Run("name=cold", func(b *testing.B) {
		srv := emulator.NewTestServer(b, data, emulator.WithLatency(benchLatency))
		measure(b, srv, func() func() {
			h := newBenchHost(b, srv)
			// Start the plugin and open a connection; names by ID teach
			// it no title.
			if _, err := h.GetSecret(c, idRef); err != nil {
				b.Fatal(err)
			}
			return func() {
				if _, err := h.Resolve(c, refs); err != nil {
					b.Fatal(err)
				}
				h.Close()
			}
		})
	})
	b.Run("name=warm", func(b *testing.B) {
		srv := emulator.NewTestServer(b, data, emulator.WithLatency(benchLatency))
		h := newBenchHost(b, srv)
		defer h.Close()
		if _, err := h.Resolve(c, refs); err != nil { // start the plugin, learn the titles
			b.Fatal(err)
		}
		measure(b, srv, func() func() {
			return func() {
				if _, err := h.Resolve(c, refs); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("name=doco-cd", func(b *testing.B) {
		srv := emulator.NewTestServer(b, data, emulator.WithLatency(benchLatency))
		baseline(b, srv.URL(), refs) // open connections
		measure(b, srv, func() func() {
			return func() { baseline(b, srv.URL(), refs) }
		})
	})
}

// newBenchHost is newHost without the test cleanups (a benchmark closes
// its hosts itself).
func newBenchHost(b *testing.B, srv *emulator.Server) *host.Host {
	h, _ := newHost(b, cfg(srv.URL(), emulator.GeneratedToken))
	return h
}

// measure times run() b.N times; prepare, outside the timing, returns the
// next run. Request counts and round trips come from the emulator's log.
func measure(b *testing.B, srv *emulator.Server, prepare func() func()) {
	var requests, trips, maxIn int
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		run := prepare()
		srv.ResetRequests()
		b.StartTimer()
		run()
		b.StopTimer()
		reqs := srv.Requests()
		requests += len(reqs)
		trips += chainDepth(reqs)
		maxIn = max(maxIn, srv.MaxInFlight())
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
	b.ReportMetric(float64(trips)/float64(b.N), "round-trips/op")
	b.ReportMetric(float64(maxIn), "max-in-flight")
}

var noopTracer sync.Once

// baseline fetches each reference's item with GetItem, 10 at a time, as
// doco-cd does (see BenchmarkConnect100).
func baseline(tb testing.TB, url string, refs []string) {
	noopTracer.Do(func() { opentracing.SetGlobalTracer(opentracing.NoopTracer{}) }) // no Jaeger in tests
	client := sdk.NewClientWithUserAgent(url, emulator.GeneratedToken, "doco-cd/bench")
	sem := make(chan struct{}, 10)
	var wg sync.WaitGroup
	for _, raw := range refs {
		// fixture.Batch100's references are
		// op://vault/item/[section/]field[?query], by title: the vault and
		// item are the first two parts (all doco-cd hands GetItem).
		path, _, _ := strings.Cut(strings.TrimPrefix(raw, "op://"), "?")
		parts := strings.Split(path, "/")
		if !strings.HasPrefix(raw, "op://") || len(parts) < 3 || len(parts) > 4 {
			tb.Fatalf("baseline: %q is not op://vault/item/[section/]field", raw)
		}
		vault, item := parts[0], parts[1]
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if _, err := client.GetItem(item, vault); err != nil {
				tb.Error(err)
			}
		})
	}
	wg.Wait()
}

// BenchmarkCLIColdStart is `secrethost resolve` of one reference, process
// start to exit: the real binary, the onepassword-connect plugin, the
// emulator without latency. name=default uses the built-in doco-cd default
// configuration (plugins next to the binary); name=pinned a config.hcl
// that pins the plugin's sha256 (the binary is hashed and run from a
// sealed copy, shared/launch/pin.go).
func BenchmarkCLIColdStart(b *testing.B) {
	dir := b.TempDir()
	cli := testbin.Build(b, dir, "secrethost", "./host/cmd/secrethost", "")
	plugins := filepath.Join(dir, "plugins")
	if err := os.Mkdir(plugins, 0o700); err != nil {
		b.Fatal(err)
	}
	bin := testbin.Build(b, plugins, pluginName, "./plugins/onepassword-connect", "")
	content, err := os.ReadFile(bin)
	if err != nil {
		b.Fatal(err)
	}
	pinned := filepath.Join(dir, "pinned.hcl")
	hcl := fmt.Sprintf("plugin_dir = %q\nprovider %q {\n  sha256 = \"%x\"\n  config_from_env = true\n}\n", plugins, pluginName, sha256.Sum256(content))
	if err := os.WriteFile(pinned, []byte(hcl), 0o600); err != nil {
		b.Fatal(err)
	}
	srv := emulator.NewTestServer(b, emulator.Generate(1, 1))
	env := []string{"HOME=" + dir, "SECRET_PROVIDER=1password",
		"SECRET_PROVIDER_CONNECT_HOST=" + srv.URL(), "SECRET_PROVIDER_CONNECT_TOKEN=" + emulator.GeneratedToken}
	for _, c := range []struct{ name, config string }{{"default", ""}, {"pinned", pinned}} {
		b.Run("name="+c.name, func(b *testing.B) {
			args := []string{"resolve", "DB_PASSWORD=op://Vault 00/Item 000/password"}
			if c.config != "" {
				args = append([]string{"--config", c.config}, args...)
			}
			run := func() {
				cmd := exec.Command(cli, args...)
				cmd.Env = env
				out, err := cmd.CombinedOutput()
				if err != nil || !strings.Contains(string(out), "pw-0-0") {
					b.Fatalf("%v: %q", err, out)
				}
			}
			run() // page the binaries in
			for b.Loop() {
				run()
			}
		})
	}
}
