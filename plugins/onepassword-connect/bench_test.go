package main_test

import (
	"context"
	"sync"
	"testing"
	"time"

	sdk "github.com/1Password/connect-sdk-go/connect"
	"github.com/opentracing/opentracing-go"

	"github.com/secrethost/secrethost/plugins/internal/opref"
	"github.com/secrethost/secrethost/plugins/onepassword-connect/emulator"
	"github.com/secrethost/secrethost/plugins/onepassword-connect/internal/fixture"
)

// benchLatency is the emulated Connect round trip.
const benchLatency = 20 * time.Millisecond

// BenchmarkResolve100 resolves the example, 100 references to 10
// items in 2 vaults, all by title, through the host and the plugin binary.
func BenchmarkResolve100(b *testing.B) {
	srv := emulator.NewTestServer(b, emulator.Generate(2, 5), emulator.WithLatency(benchLatency))
	h, _ := newHost(b, cfg(srv.URL(), emulator.GeneratedToken))
	refs := fixture.Batch100(fixture.VaultTitle, fixture.ItemTitle)
	c := context.Background()
	if _, err := h.Resolve(c, refs); err != nil { // start the plugin, open connections
		b.Fatal(err)
	}
	srv.ResetRequests()
	b.ResetTimer()
	for range b.N {
		if _, err := h.Resolve(c, refs); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportRequests(b, srv)
}

// BenchmarkBaselineGetItemPerRef is what doco-cd does today: connect-sdk-go's
// GetItem(item, vault) once per reference, 10 in flight, against the same
// emulator and references.
func BenchmarkBaselineGetItemPerRef(b *testing.B) {
	srv := emulator.NewTestServer(b, emulator.Generate(2, 5), emulator.WithLatency(benchLatency))
	refs := fixture.Batch100(fixture.VaultTitle, fixture.ItemTitle)
	baseline(b, srv.URL(), refs) // open connections
	srv.ResetRequests()
	b.ResetTimer()
	for range b.N {
		baseline(b, srv.URL(), refs)
	}
	b.StopTimer()
	reportRequests(b, srv)
}

func reportRequests(b *testing.B, srv *emulator.Server) {
	b.ReportMetric(float64(srv.RequestCount())/float64(b.N), "requests/op")
	b.ReportMetric(float64(srv.MaxInFlight()), "max-in-flight")
}

var noopTracer sync.Once

// baseline fetches each reference's item with GetItem, 10 at a time.
func baseline(tb testing.TB, url string, refs []string) {
	noopTracer.Do(func() { opentracing.SetGlobalTracer(opentracing.NoopTracer{}) }) // no Jaeger in tests
	client := sdk.NewClient(url, emulator.GeneratedToken)
	sem := make(chan struct{}, 10)
	var wg sync.WaitGroup
	for _, raw := range refs {
		ref, err := opref.Parse(raw)
		if err != nil {
			tb.Fatal(err)
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if _, err := client.GetItem(ref.Item, ref.Vault); err != nil {
				tb.Error(err)
			}
		})
	}
	wg.Wait()
}
