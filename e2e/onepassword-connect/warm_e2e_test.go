package onepasswordconnect_test

// The warm path (issue 13, item 1), end to end: one host keeps its plugin
// process between two Resolves, the emulator's data changes in between, and
// the second (warm) Resolve must answer exactly as a fresh plugin process
// (the cold path) does under the same data, in few round trips.

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/secrethost/secrethost/host"
	"github.com/secrethost/secrethost/plugins/onepassword-connect/emulator"
	"github.com/secrethost/secrethost/plugins/onepassword-connect/emulator/fixture"
)

// outcome is what a Resolve gave, as comparable text: every value, or
// every failure with its code and message.
func outcome(t *testing.T, h *host.Host, refs []string) (string, []string) {
	t.Helper()
	vals, err := h.Resolve(ctx(t, 30*time.Second), refs)
	var rerr *host.ResolveError
	var lines, failed []string
	switch {
	case err == nil:
		for ref, v := range vals {
			lines = append(lines, fmt.Sprintf("%s = %q", ref, v))
		}
	case errors.As(err, &rerr):
		for _, f := range rerr.Failures {
			lines = append(lines, fmt.Sprintf("%s: %s: %s", f.Reference, f.Err.Code, f.Err.Message))
			failed = append(failed, f.Reference)
		}
	default:
		t.Fatalf("resolve: %v", err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n"), failed
}

// roundTrips resolves through h and returns the outcome, the requests it
// sent and the round trips they took (emulator log).
func roundTrips(t *testing.T, srv *emulator.Server, h *host.Host, refs []string) (string, []string, int, int) {
	t.Helper()
	srv.ResetRequests()
	out, failed := outcome(t, h, refs)
	reqs := srv.Requests()
	return out, failed, len(reqs), chainDepth(reqs)
}

func refsWithout(refs, drop []string) []string {
	skip := map[string]bool{}
	for _, d := range drop {
		skip[d] = true
	}
	var out []string
	for _, r := range refs {
		if !skip[r] {
			out = append(out, r)
		}
	}
	return out
}

func TestWarmPathMatchesCold(t *testing.T) {
	// Large enough that a busy machine rarely makes one round trip look
	// like two (requests of one round trip must all start before the first
	// one ends).
	const latency = 100 * time.Millisecond
	// Without the one-time passwords: they change every 30 s, and the
	// calls compared here are seconds apart (an OTP is computed the same
	// way on both paths, after the item is fetched; TestFieldAttributes
	// covers it). The same items are fetched either way.
	var refs []string
	for _, r := range fixture.Batch100(fixture.VaultTitle, fixture.ItemTitle) {
		if !strings.Contains(r, "?attribute=otp") {
			refs = append(refs, r)
		}
	}
	type env struct {
		t    *testing.T
		srv  *emulator.Server
		data *emulator.Data
	}
	vault := func(e env, v int) *emulator.Vault { return e.data.Vaults[v] }
	item := func(e env, v, i int) *emulator.Item {
		it, ok := e.srv.Item(vault(e, v).ID, vault(e, v).Items[i].ID)
		if !ok {
			e.t.Fatalf("no item %d/%d", v, i)
		}
		return it
	}
	put := func(e env, v int, it *emulator.Item) {
		if err := e.srv.PutItem(vault(e, v).ID, it); err != nil {
			e.t.Fatal(err)
		}
	}
	// newItem is a copy of item v/i under a new ID, with other values.
	newItem := func(e env, v, i int, seed string) *emulator.Item {
		it := item(e, v, i)
		it.ID = emulator.NewID(seed)
		it.Version = 0
		for _, f := range it.Fields {
			if f.Type != "OTP" {
				f.Value = "new-" + f.Value
			}
		}
		return it
	}
	cases := []struct {
		name   string
		change func(e env)
		trips  int // most round trips the warm Resolve may take; 0: no more than the cold path
		fails  bool
	}{
		{name: "unchanged", trips: 1},
		{name: "renamed item", fails: true, trips: 2, change: func(e env) {
			it := item(e, 0, 0)
			it.Title = "Item 000 (old)"
			put(e, 0, it)
		}},
		{name: "new item takes an old title", trips: 2, change: func(e env) {
			old := item(e, 0, 1)
			old.Title = "Item 001 (old)"
			put(e, 0, old)
			it := newItem(e, 0, 1, "replacement")
			it.Title = "Item 001"
			put(e, 0, it)
		}},
		{name: "new duplicate title", fails: true, trips: 2, change: func(e env) {
			put(e, 1, newItem(e, 1, 2, "duplicate"))
		}},
		{name: "removed item", fails: true, trips: 2, change: func(e env) {
			if err := e.srv.DeleteItem(vault(e, 1).ID, vault(e, 1).Items[3].ID); err != nil {
				e.t.Fatal(err)
			}
		}},
		{name: "archived item", fails: true, trips: 2, change: func(e env) {
			it := item(e, 0, 4)
			it.State = "ARCHIVED"
			put(e, 0, it)
		}},
		{name: "renamed vault", fails: true, trips: 2, change: func(e env) {
			if err := e.srv.RenameVault(vault(e, 1).ID, "Vault 01 (old)"); err != nil {
				e.t.Fatal(err)
			}
		}},
		{name: "another vault takes the name", change: func(e env) {
			// Vault 00 becomes "Vault 01" and the old Vault 01 is renamed:
			// the references to Vault 01 now name Vault 00's items.
			if err := e.srv.RenameVault(vault(e, 1).ID, "Vault 01 (old)"); err != nil {
				e.t.Fatal(err)
			}
			if err := e.srv.RenameVault(vault(e, 0).ID, "Vault 01"); err != nil {
				e.t.Fatal(err)
			}
		}, fails: true},
		{name: "revoked grant", fails: true, trips: 2, change: func(e env) {
			if err := e.srv.Revoke(emulator.GeneratedToken, vault(e, 1).ID); err != nil {
				e.t.Fatal(err)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := emulator.Generate(2, 5)
			srv := emulator.NewTestServer(t, data, emulator.WithLatency(latency))
			e := env{t, srv, data}
			warm, _ := newHost(t, cfg(srv.URL(), emulator.GeneratedToken))
			first, _, n, trips := roundTrips(t, srv, warm, refs)
			if n != 22 || trips != 3 {
				t.Errorf("first Resolve: %d requests in %d round trips, want the cold path's 22 in 3", n, trips)
			}
			if c.change != nil {
				c.change(e)
			}
			got, failed, n, trips := roundTrips(t, srv, warm, refs)
			warmLog := srv.Requests()
			t.Logf("warm Resolve after the change: %d requests, %d round trips, %d failures", n, trips, len(failed))
			if len(failed) > 0 {
				t.Logf("first failure: %s", strings.SplitN(got, "\n", 2)[0])
			}

			cold, _ := newHost(t, cfg(srv.URL(), emulator.GeneratedToken))
			want, wantFailed, coldN, coldTrips := roundTrips(t, srv, cold, refs)
			t.Logf("cold Resolve: %d requests, %d round trips", coldN, coldTrips)
			if got != want {
				t.Errorf("the warm Resolve differs from the cold one.\nwarm:\n%s\ncold:\n%s", got, want)
			}
			if c.fails != (len(wantFailed) > 0) {
				t.Errorf("the change made %d references fail (want failures: %v)", len(wantFailed), c.fails)
			}
			if c.change == nil && got != first {
				t.Errorf("an unchanged batch gave other answers the second time")
			}
			limit := c.trips
			if limit == 0 {
				limit = coldTrips
			}
			if trips > limit {
				t.Errorf("warm Resolve took %d round trips, want at most %d (cold: %d); timeline:\n%s",
					trips, limit, coldTrips, timeline(warmLog, warmLog[0].Time))
			}
			if c.change == nil && n > 22 {
				t.Errorf("warm Resolve sent %d requests, want at most the cold path's 22", n)
			}
			if len(failed) > 0 {
				// The references the change did not touch: same values.
				rest := refsWithout(refs, failed)
				got, _ := outcome(t, warm, rest)
				want, _ := outcome(t, cold, rest)
				if got != want {
					t.Errorf("untouched references differ.\nwarm:\n%s\ncold:\n%s", got, want)
				}
			}
			// And the warm host has learnt the change: its next Resolve
			// is warm again.
			again, _, n, trips := roundTrips(t, srv, warm, refs)
			if again != want {
				t.Errorf("the third Resolve differs from the cold one:\n%s", again)
			}
			t.Logf("next warm Resolve: %d requests, %d round trips", n, trips)
			if !c.fails && trips != 1 {
				t.Errorf("the Resolve after the change took %d round trips, want 1", trips)
			}
		})
	}
}

// TestWarmListingMatchesCold: a title found only by the vault's listing
// (case differs) is warm too, and when an item with exactly that title
// appears, the warm answer is the cold one: the exact match.
func TestWarmListingMatchesCold(t *testing.T) {
	fx := fixture.New()
	srv := emulator.NewTestServer(t, fx.Data, emulator.WithLatency(100*time.Millisecond))
	refs := []string{"op://Production/mixed case/password", "op://Production/Postgres/password"}
	warm, _ := newHost(t, cfg(srv.URL(), fixture.Token))
	outcome(t, warm, refs)
	if _, _, _, trips := roundTrips(t, srv, warm, refs); trips != 1 {
		t.Errorf("warm Resolve of a title found by listing took %d round trips, want 1", trips)
	}
	exact := fx.Mixed.Clone()
	exact.ID = emulator.NewID("exact mixed case")
	exact.Title = "mixed case"
	exact.Fields[0].Value = "exact-mixed-value"
	if err := srv.PutItem(fx.Production.ID, exact); err != nil {
		t.Fatal(err)
	}
	got, _, _, trips := roundTrips(t, srv, warm, refs)
	cold, _ := newHost(t, cfg(srv.URL(), fixture.Token))
	want, _, _, coldTrips := roundTrips(t, srv, cold, refs)
	if got != want || !strings.Contains(got, "exact-mixed-value") {
		t.Errorf("warm:\n%s\ncold:\n%s", got, want)
	}
	if trips > 2 {
		t.Errorf("warm Resolve after the change took %d round trips, want at most 2 (cold: %d)", trips, coldTrips)
	}
}
