package connect

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/secrethost/secrethost/plugins/onepassword-connect/emulator"
	"github.com/secrethost/secrethost/plugins/onepassword-connect/emulator/fixture"
	"github.com/secrethost/secrethost/shared/provider"
)

// forgetIDs empties the provider's title → ID memory: the next Resolve
// takes the cold plan.
func (p *Provider) forgetIDs() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mem = newIDMemory(maxRemembered)
}

// TestWarmRoundTrips: the second Resolve of the same batch sends the
// cold plan's 22 requests in one round trip.
func TestWarmRoundTrips(t *testing.T) {
	const latency = 200 * time.Millisecond // see TestBatchRoundTrips
	srv := emulator.NewTestServer(t, emulator.Generate(2, 5), emulator.WithLatency(latency))
	p := configured(t, srv.URL(), emulator.GeneratedToken)
	refs := fixture.Batch100(fixture.VaultTitle, fixture.ItemTitle)
	want := resolve(t, p, refs...)
	var report []string
	for attempt := 1; attempt <= 3; attempt++ {
		srv.ResetRequests()
		start := time.Now()
		got := resolve(t, p, refs...)
		took := time.Since(start)
		for i := range got {
			// A one-time password may roll over between the calls.
			otp := strings.Contains(refs[i], "?attribute=otp") && got[i].Err == nil && len(got[i].Value) == 6
			if !otp && (got[i].Err != nil || string(got[i].Value) != string(want[i].Value)) {
				t.Fatalf("%s: %q %v, want %q", refs[i], got[i].Value, got[i].Err, want[i].Value)
			}
		}
		n, depth := srv.RequestCount(), chainDepth(srv.Requests())
		if n > 22 {
			t.Errorf("%d requests, want at most the cold plan's 22", n)
		}
		if depth == 1 && took <= 2*latency {
			return
		}
		report = append(report, fmt.Sprintf("attempt %d: %s, %d requests, longest sequential chain %d (want 1); timeline:\n%s",
			attempt, took, n, depth, timeline(srv.Requests(), start)))
	}
	t.Errorf("not one round trip:\n%s", strings.Join(report, "\n"))
}

// TestWarmMemoryHoldsIDsOnly: what the provider remembers is titles and
// IDs, bounded; reconfiguring forgets it.
func TestWarmMemoryHoldsIDsOnly(t *testing.T) {
	srv := emulator.NewTestServer(t, emulator.Generate(2, 5))
	p := configured(t, srv.URL(), emulator.GeneratedToken)
	refs := fixture.Batch100(fixture.VaultTitle, fixture.ItemTitle)
	resolve(t, p, refs...)
	m := p.memory()
	if n := m.len(); n != 12 {
		t.Errorf("%d entries remembered, want 12 (2 vaults, 10 items)", n)
	}
	m.mu.Lock()
	m.m.Each(func(_ memKey, me memEntry) {
		if !emulator.ValidID(me.id) {
			t.Errorf("remembered %q for %+v: not an ID", me.id, me.key)
		}
	})
	m.mu.Unlock()
	if _, err := p.Configure(context.Background(), provider.ConfigureRequest{Config: map[string]string{AttrHost: srv.URL(), AttrToken: emulator.GeneratedToken}}); err != nil {
		t.Fatal(err)
	}
	if n := p.memory().len(); n != 0 {
		t.Errorf("%d entries remembered after Configure, want none", n)
	}
}

func TestIDMemoryBound(t *testing.T) {
	m := newIDMemory(3)
	for i := range 5 {
		m.put(memKey{title: fmt.Sprint(i)}, fmt.Sprint("id", i))
		if i == 2 {
			m.get(memKey{title: "0"}) // used: outlives 1 and 2
		}
	}
	if n := m.len(); n != 3 {
		t.Fatalf("%d entries, want the bound 3", n)
	}
	for k, want := range map[string]bool{"0": true, "1": false, "2": false, "3": true, "4": true} {
		if _, ok := m.get(memKey{title: k}); ok != want {
			t.Errorf("entry %s kept: %v, want %v", k, ok, want)
		}
	}
	long := memKey{title: strings.Repeat("x", maxRememberedTitle+1)}
	m.put(long, "id")
	if _, ok := m.get(long); ok {
		t.Errorf("a title longer than %d bytes was remembered", maxRememberedTitle)
	}
	m.forget(memKey{title: "3"})
	if _, ok := m.get(memKey{title: "3"}); ok || m.len() != 2 {
		t.Errorf("forget kept the entry")
	}
}

// TestWarmBudget: guesses never take the request slots the plan's vault
// lookups need: with max_concurrency 2 and 2 vaults nothing is guessed, so
// wrong guesses (every item renamed) cost no request.
func TestWarmBudget(t *testing.T) {
	data := emulator.Generate(2, 5)
	srv := emulator.NewTestServer(t, data)
	p := configured(t, srv.URL(), emulator.GeneratedToken, AttrMaxConcurrency, "2")
	refs := fixture.Batch100(fixture.VaultTitle, fixture.ItemTitle)
	resolve(t, p, refs...)
	for _, v := range data.Vaults {
		for _, it := range v.Items {
			cur, _ := srv.Item(v.ID, it.ID)
			cur.Title += " (renamed)"
			if err := srv.PutItem(v.ID, cur); err != nil {
				t.Fatal(err)
			}
		}
	}
	srv.ResetRequests()
	for _, r := range resolve(t, p, refs...) {
		if r.Err == nil || r.Err.Code != provider.CodeNotFound {
			t.Fatalf("%s: %v, want not_found", r.Reference, r.Err)
		}
	}
	// 2 vault lookups, 10 title lookups, 2 listings: the cold plan's.
	if n := srv.RequestCount(); n != 14 {
		t.Errorf("%d requests, want the cold plan's 14 (nothing guessed)", n)
	}
}

// TestWarmListing: a title that Connect's (case-sensitive) filter misses
// needs the vault's listing; the next call starts the listing with the
// guesses, so it takes one round trip too, with the cold plan's requests.
func TestWarmListing(t *testing.T) {
	fx := fixture.New()
	srv := emulator.NewTestServer(t, fx.Data, emulator.WithLatency(100*time.Millisecond))
	p := configured(t, srv.URL(), fixture.Token)
	ref := "op://Production/mixed case/password"
	srv.ResetRequests()
	if r := resolve(t, p, ref)[0]; r.Err != nil || string(r.Value) != fixture.MixedValue {
		t.Fatalf("%v", r.Err)
	}
	coldN, coldDepth := srv.RequestCount(), chainDepth(srv.Requests())
	for attempt := 1; ; attempt++ {
		srv.ResetRequests()
		if r := resolve(t, p, ref)[0]; r.Err != nil || string(r.Value) != fixture.MixedValue {
			t.Fatalf("%v", r.Err)
		}
		n, depth := srv.RequestCount(), chainDepth(srv.Requests())
		if n == coldN && depth == 1 {
			break
		}
		if attempt == 3 {
			t.Fatalf("warm: %d requests in %d round trips, want the cold plan's %d in 1 (cold took %d); timeline:\n%s",
				n, depth, coldN, coldDepth, timeline(srv.Requests(), srv.Requests()[0].Time))
		}
	}
}
