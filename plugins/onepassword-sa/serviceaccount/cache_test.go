package serviceaccount

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/secrethost/secrethost/shared/provider"
)

func TestCacheTTLAndLRU(t *testing.T) {
	clk := newFakeClock()
	c := newCache(time.Minute, 2, clk.now)
	c.put("a", "A")
	c.put("b", "B")
	if v, ok := c.get("a"); !ok || v != "A" { // a is now the most recent
		t.Fatalf("get a = %q, %v", v, ok)
	}
	c.put("c", "C") // evicts b, the least recently used
	if _, ok := c.get("b"); ok {
		t.Error("b survived; the least recently used entry must be evicted")
	}
	for k, want := range map[string]string{"a": "A", "c": "C"} {
		if v, ok := c.get(k); !ok || v != want {
			t.Errorf("get %s = %q, %v", k, v, ok)
		}
	}

	clk.advance(59 * time.Second)
	if _, ok := c.get("a"); !ok {
		t.Error("a expired before its TTL")
	}
	clk.advance(time.Second)
	if _, ok := c.get("a"); ok {
		t.Error("a still served at its TTL")
	}
	if c.len() != 1 {
		t.Errorf("len = %d after expiry removed a, want 1", c.len())
	}

	// Storing again refreshes the TTL and recency.
	c.put("c", "C2")
	clk.advance(30 * time.Second)
	if v, ok := c.get("c"); !ok || v != "C2" {
		t.Errorf("get c = %q, %v", v, ok)
	}
}

// TestCacheDropsExpiredBeforeLive: when full, expired entries go before a
// live one is evicted.
func TestCacheDropsExpiredBeforeLive(t *testing.T) {
	clk := newFakeClock()
	c := newCache(time.Minute, 2, clk.now)
	c.put("old", "1")
	clk.advance(30 * time.Second)
	c.put("live", "2")
	if _, ok := c.get("old"); !ok { // old becomes the most recent...
		t.Fatal("old missing")
	}
	clk.advance(40 * time.Second) // ...but has now expired, live has not
	c.put("new", "3")
	if _, ok := c.get("live"); !ok {
		t.Error("a live entry was evicted while an expired one was kept")
	}
}

// TestResolveCacheTTL: with the cache on, a secret is fetched once per TTL.
func TestResolveCacheTTL(t *testing.T) {
	f := newFakeOP()
	f.secrets["op://v/i/f"] = "one"
	p, clk := newTestProvider(t, f)
	configure(t, p, map[string]string{AttrCacheEnabled: "true", AttrCacheTTL: "5m"})

	resolveValue(t, p, "op://v/i/f", "one")
	f.secrets["op://v/i/f"] = "two" // rotated in 1Password
	resolveValue(t, p, "op://v/i/f", "one")
	if f.calls() != 1 {
		t.Fatalf("%d backend calls within the TTL, want 1", f.calls())
	}
	clk.advance(5*time.Minute - time.Nanosecond)
	resolveValue(t, p, "op://v/i/f", "one")
	clk.advance(time.Nanosecond)
	resolveValue(t, p, "op://v/i/f", "two")
	if f.calls() != 2 {
		t.Errorf("%d backend calls, want 2 (one per TTL)", f.calls())
	}
}

func TestResolveCacheLRU(t *testing.T) {
	f := newFakeOP()
	for _, k := range []string{"a", "b", "c"} {
		f.secrets["op://v/i/"+k] = k
	}
	p, _ := newTestProvider(t, f)
	configure(t, p, map[string]string{AttrCacheEnabled: "true", AttrCacheMaxSize: "2"})
	resolveValue(t, p, "op://v/i/a", "a")
	resolveValue(t, p, "op://v/i/b", "b")
	resolveValue(t, p, "op://v/i/a", "a") // hit; a is most recent
	resolveValue(t, p, "op://v/i/c", "c") // evicts b
	n := f.calls()
	resolveValue(t, p, "op://v/i/a", "a")
	resolveValue(t, p, "op://v/i/c", "c")
	if f.calls() != n {
		t.Errorf("a or c was fetched again; they should be cached")
	}
	resolveValue(t, p, "op://v/i/b", "b")
	if f.calls() != n+1 {
		t.Errorf("b was not fetched again; it should have been evicted")
	}
}

// TestCacheNeverHoldsOTPOrErrors: one-time passwords change every 30
// seconds, and a failure must be retried, so neither is cached.
func TestCacheNeverHoldsOTPOrErrors(t *testing.T) {
	f := newFakeOP()
	f.secrets["op://v/i/totp?attribute=otp"] = "111111"
	p, _ := newTestProvider(t, f)
	configure(t, p, map[string]string{AttrCacheEnabled: "true"})
	resolveValue(t, p, "op://v/i/totp?attribute=otp", "111111")
	f.secrets["op://v/i/totp?attribute=otp"] = "222222"
	resolveValue(t, p, "op://v/i/totp?attribute=otp", "222222")

	if r := resolve(t, p, "op://v/i/later")[0]; r.Err == nil || r.Err.Code != provider.CodeNotFound {
		t.Fatalf("want not_found, got %+v", r)
	}
	f.secrets["op://v/i/later"] = "now here"
	resolveValue(t, p, "op://v/i/later", "now here")
}

func TestCacheDisabledFetchesEveryTime(t *testing.T) {
	f := newFakeOP()
	f.secrets["op://v/i/f"] = "x"
	p, _ := newTestProvider(t, f)
	configure(t, p, nil)
	resolveValue(t, p, "op://v/i/f", "x")
	resolveValue(t, p, "op://v/i/f", "x")
	if f.calls() != 2 {
		t.Errorf("%d calls with the cache disabled, want 2", f.calls())
	}
}

// TestSharedInFlight: N concurrent lookups of the same reference make one
// backend call, with the cache on or off.
func TestSharedInFlight(t *testing.T) {
	for _, cacheOn := range []string{"false", "true"} {
		t.Run("cache="+cacheOn, func(t *testing.T) {
			f := newFakeOP()
			f.secrets["op://v/i/f"] = "shared"
			f.gate = make(chan struct{})
			f.entered = make(chan struct{}, 8)
			p, _ := newTestProvider(t, f)
			configure(t, p, map[string]string{AttrCacheEnabled: cacheOn})
			st := p.st.Load()

			const n = 20
			var wg sync.WaitGroup
			for range n {
				wg.Go(func() { resolveValue(t, p, "op://v/i/f", "shared") })
			}
			<-f.entered
			waitFor(t, func() bool { return st.flights.waiting("op://v/i/f") == n })
			close(f.gate)
			wg.Wait()
			if f.calls() != 1 {
				t.Errorf("%d backend calls for %d concurrent identical lookups, want 1", f.calls(), n)
			}
		})
	}
}

// TestSharedInFlightBatches: a batch joins what is in flight and fetches
// only the rest, still in one call.
func TestSharedInFlightBatches(t *testing.T) {
	f := newFakeOP()
	for _, k := range []string{"a", "b", "c"} {
		f.secrets["op://v/i/"+k] = k
	}
	f.gate = make(chan struct{})
	f.entered = make(chan struct{}, 8)
	p, _ := newTestProvider(t, f)
	configure(t, p, nil)
	st := p.st.Load()

	var wg sync.WaitGroup
	wg.Go(func() { resolve(t, p, "op://v/i/a", "op://v/i/b") })
	<-f.entered
	wg.Go(func() {
		for _, r := range resolve(t, p, "op://v/i/b", "op://v/i/c") {
			if r.Err != nil || string(r.Value) != r.Reference[len(r.Reference)-1:] {
				t.Errorf("%+v", r)
			}
		}
	})
	<-f.entered
	waitFor(t, func() bool { return st.flights.waiting("op://v/i/b") == 2 })
	close(f.gate)
	wg.Wait()
	if len(f.batches) != 2 || fmt.Sprint(f.batches[1]) != "[op://v/i/c]" {
		t.Errorf("batches = %q, want the second to fetch only c", f.batches)
	}
}

// TestInFlightSurvivesImpatientCaller: the caller that started a fetch
// gives up; another caller waiting on the same fetch still gets the value.
func TestInFlightSurvivesImpatientCaller(t *testing.T) {
	f := newFakeOP()
	f.secrets["op://v/i/f"] = "v"
	f.gate = make(chan struct{})
	f.entered = make(chan struct{}, 8)
	p, _ := newTestProvider(t, f)
	configure(t, p, nil)
	st := p.st.Load()

	ctx, cancel := context.WithCancel(t.Context())
	first := make(chan provider.ResolveResult, 1)
	go func() {
		resp, _ := p.Resolve(ctx, provider.ResolveRequest{References: []string{"op://v/i/f"}})
		first <- resp.Results[0]
	}()
	<-f.entered
	var wg sync.WaitGroup
	wg.Go(func() { resolveValue(t, p, "op://v/i/f", "v") })
	waitFor(t, func() bool { return st.flights.waiting("op://v/i/f") == 2 })
	cancel()
	if r := <-first; r.Err == nil || r.Err.Code != provider.CodeUnavailable {
		t.Errorf("cancelled caller: %+v", r)
	}
	close(f.gate)
	wg.Wait()

	// When every caller gives up, the fetch itself is cancelled.
	f.gate = make(chan struct{})
	ctx, cancel = context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Resolve(ctx, provider.ResolveRequest{References: []string{"op://v/i/f"}})
	}()
	<-f.entered
	cancel()
	<-done
	// The gate stays shut: only cancellation can end this fetch.
	waitFor(t, func() bool {
		st.flights.mu.Lock()
		defer st.flights.mu.Unlock()
		_, inFlight := st.flights.inflight["op://v/i/f"]
		return !inFlight
	})
}

func resolveValue(t *testing.T, p provider.Provider, ref, want string) {
	t.Helper()
	r := resolve(t, p, ref)[0]
	if r.Err != nil || string(r.Value) != want {
		t.Errorf("Resolve(%q) = %q, %v; want %q", ref, r.Value, r.Err, want)
	}
}
