package onepasswordconnect_test

// Faults at the backend: the real host drives the real plugin binary
// against the emulator while the emulator injects one kind of failure at a
// time. Every reference of every call must come back either with exactly
// the right value or with a clear error (a typed code, the reference, a
// message naming its vault or item), within the caller's deadline; never
// with a wrong or empty value, never with a secret in an error or the log,
// and never by the host killing a plugin that overran the deadline.
//
// Each subtest logs one figure line for RELIABILITY.md:
//
//	FAULT <name>: cases=N right=N clearErr=N wrong=0 maxElapsed=...
//
// A case is one reference's outcome in one call: right (the exact value),
// clearErr (a failure with an expected code and a message naming the
// reference) or wrong (any other value, empty included). The host is all
// or nothing, so in a call where some references fail the others return
// no value: those are checked not to be among the failures, and are not
// counted. maxElapsed is the slowest call of the subtest.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/secrethost/secrethost/internal/syncbuf"

	"github.com/secrethost/secrethost/host"
	"github.com/secrethost/secrethost/plugins/onepassword-connect/emulator"
	"github.com/secrethost/secrethost/shared/provider"
)

// faultMargin is how far past the caller's deadline a call may return: the
// host's bookkeeping after the plugin answered. The plugin itself answers
// before the deadline (it keeps a margin, see connect.callContext).
const faultMargin = 250 * time.Millisecond

// gen names one field of an item of emulator.Generate's data.
type gen struct {
	v, i  int
	field string // username, password, Details/password or Details/host
	byID  bool   // vault and item by ID rather than by title
}

func (g gen) ref(d *emulator.Data) string {
	if g.byID {
		return fmt.Sprintf("op://%s/%s/%s", d.Vaults[g.v].ID, d.Vaults[g.v].Items[g.i].ID, g.field)
	}
	return fmt.Sprintf("op://Vault %02d/Item %03d/%s", g.v, g.i, g.field)
}

// value is what emulator.Generate stores in the field (see its doc).
func (g gen) value() string {
	switch g.field {
	case "username":
		return fmt.Sprintf("user-%d-%d", g.v, g.i)
	case "password":
		return fmt.Sprintf("pw-%d-%d", g.v, g.i)
	case "Details/password":
		return fmt.Sprintf("details-pw-%d-%d", g.v, g.i)
	case "Details/host":
		return fmt.Sprintf("db%d.example.com", g.i)
	}
	panic("unknown generated field " + g.field)
}

// faultBatch is 13 references to 7 items of Generate(2, 5): vault and
// item by title (title lookups, then fetches) and by ID (fetches only).
func faultBatch() []gen {
	var b []gen
	for i := range 4 {
		b = append(b, gen{0, i, "username", false}, gen{0, i, "password", false})
	}
	return append(b, gen{0, 4, "password", true}, gen{0, 4, "Details/password", true},
		gen{1, 0, "password", false}, gen{1, 0, "Details/password", false}, gen{1, 1, "username", true})
}

// bigBatch is every item of Generate(2, 5), four fields each, by title:
// 40 references, 22 requests in 3 round trips.
func bigBatch() []gen {
	var b []gen
	for v := range 2 {
		for i := range 5 {
			for _, f := range []string{"username", "password", "Details/password", "Details/host"} {
				b = append(b, gen{v, i, f, false})
			}
		}
	}
	return b
}

func isItem(v, i int) func(gen) bool { return func(g gen) bool { return g.v == v && g.i == i } }

func without(b []gen, drop func(gen) bool) []gen {
	return slices.DeleteFunc(slices.Clone(b), drop)
}

// expect is what one reference may yield in one call.
type expect struct {
	values     []string        // acceptable values, exactly; none: the reference must fail
	codes      []provider.Code // acceptable error codes; none: the reference must not fail
	has        []string        // an error's message must contain each of these
	retryAfter time.Duration   // if set, an error must carry exactly this Retry-After
}

func rightValue(v string) expect { return expect{values: []string{v}} }

func mustFail(code provider.Code, has ...string) expect {
	return expect{codes: []provider.Code{code}, has: has}
}

// orValues also accepts the given values.
func (e expect) orValues(v ...string) expect {
	e.values = append(slices.Clone(e.values), v...)
	return e
}

// tally counts one subtest's outcomes.
type tally struct {
	cases, right, clearErr, wrong int
	maxElapsed                    time.Duration
}

// faultEnv is one subtest's emulator, host and figures.
type faultEnv struct {
	t       *testing.T
	name    string
	data    *emulator.Data
	srv     *emulator.Server
	h       *host.Host
	sink    *syncbuf.Buffer
	secrets []string // values that must never appear in an error or the log
	tally
}

// newFaultEnv serves Generate(2, 5) and starts the plugin (outside the
// timed calls) with the given extra configuration.
func newFaultEnv(t *testing.T, name string, opts []emulator.Option, kv ...string) *faultEnv {
	t.Helper()
	data := emulator.Generate(2, 5)
	srv := emulator.NewTestServer(t, data, opts...)
	h, sink := newHost(t, cfg(srv.URL(), emulator.GeneratedToken, kv...))
	e := &faultEnv{t: t, name: name, data: data, srv: srv, h: h, sink: sink}
	for v := range 2 {
		for i := range 5 {
			for _, f := range []string{"username", "password", "Details/password"} {
				e.secrets = append(e.secrets, gen{v, i, f, false}.value())
			}
		}
	}
	if _, err := h.GetSecret(ctx(t, 30*time.Second), gen{0, 0, "password", true}.ref(data)); err != nil {
		t.Fatal(err)
	}
	srv.ResetRequests()
	t.Cleanup(e.report) // runs before newHost's cleanups: the host is still open
	return e
}

// report logs the figure line and checks what only the whole run shows.
func (e *faultEnv) report() {
	t := e.t
	t.Logf("FAULT %s: cases=%d right=%d clearErr=%d wrong=%d maxElapsed=%s",
		e.name, e.cases, e.right, e.clearErr, e.wrong, e.maxElapsed.Round(time.Millisecond))
	if e.wrong != 0 {
		t.Errorf("FAULT %s: %d wrong values", e.name, e.wrong)
	}
	if e.cases == 0 {
		t.Errorf("FAULT %s: no cases ran", e.name)
	}
	log := e.sink.String()
	// The plugin must answer in time by itself: the host stops it only
	// when a call overran its deadline, and restarts it only after a crash.
	for _, s := range []string{"stopping the plugin", "restarting it", "starting it again"} {
		if strings.Contains(log, s) {
			t.Errorf("FAULT %s: the host log says %q", e.name, s)
		}
	}
	for _, s := range e.secrets {
		if strings.Contains(log, s) {
			t.Errorf("FAULT %s: the log contains the secret %q", e.name, s)
		}
	}
}

func (e *faultEnv) fault(f emulator.Fault) {
	e.t.Helper()
	if err := e.srv.AddFault(f); err != nil {
		e.t.Fatal(err)
	}
}

func (e *faultEnv) itemPath(v, i int) string {
	return itemPath(e.data.Vaults[v], e.data.Vaults[v].Items[i])
}

// wants expects every reference of batch to be right, except those
// affected selects, which get exp.
func (e *faultEnv) wants(batch []gen, affected func(gen) bool, exp expect) map[string]expect {
	out := map[string]expect{}
	for _, g := range batch {
		if affected != nil && affected(g) {
			out[g.ref(e.data)] = exp
		} else {
			out[g.ref(e.data)] = rightValue(g.value())
		}
	}
	return out
}

func (e *faultEnv) allRight(batch []gen) map[string]expect { return e.wants(batch, nil, expect{}) }

// resolve runs one call under deadline and scores every reference's
// outcome against want. It returns the values (nil if the call failed).
func (e *faultEnv) resolve(deadline time.Duration, want map[string]expect) map[string][]byte {
	t := e.t
	t.Helper()
	refs := make([]string, 0, len(want))
	for r := range want {
		refs = append(refs, r)
	}
	sort.Strings(refs)
	c, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	vals, err := e.h.Resolve(c, refs)
	took := time.Since(start)
	e.maxElapsed = max(e.maxElapsed, took)
	if took > deadline+faultMargin {
		t.Errorf("%s: the call returned after %s, past its %s deadline", e.name, took, deadline)
	}
	if err != nil {
		for _, s := range e.secrets {
			if strings.Contains(err.Error(), s) {
				t.Errorf("%s: the error contains the secret %q", e.name, s)
			}
		}
	}

	var rerr *host.ResolveError
	switch {
	case err == nil:
		for _, ref := range refs {
			w := want[ref]
			e.cases++
			got, ok := vals[ref]
			if ok && slices.Contains(w.values, string(got)) {
				e.right++
				continue
			}
			e.wrong++
			t.Errorf("%s: %s: WRONG VALUE %q (present: %v), want one of %q", e.name, ref, got, ok, w.values)
		}
		if len(vals) != len(refs) {
			t.Errorf("%s: %d values for %d references", e.name, len(vals), len(refs))
		}
	case errors.As(err, &rerr):
		failed := map[string]bool{}
		for _, f := range rerr.Failures {
			e.cases++
			failed[f.Reference] = true
			w, ok := want[f.Reference]
			switch {
			case !ok:
				t.Errorf("%s: a failure for a reference never asked for: %s", e.name, f.Reference)
			case len(w.codes) == 0:
				t.Errorf("%s: %s failed, want its value: %v", e.name, f.Reference, f.Err)
			default:
				if msg := unclear(f, w); msg != "" {
					t.Errorf("%s: %s: unclear error (%s): %v", e.name, f.Reference, msg, f.Err)
				} else {
					e.clearErr++
				}
			}
		}
		for _, ref := range refs {
			if !failed[ref] && len(want[ref].values) == 0 {
				t.Errorf("%s: %s did not fail, want %v", e.name, ref, want[ref].codes)
			}
		}
	default:
		// A call-level error fails every reference without saying which
		// one is at fault: not a clear per-reference answer.
		e.cases += len(refs)
		t.Errorf("%s: the call failed as a whole after %s: %v", e.name, took, err)
	}
	return vals
}

// unclear says what is wrong with a failure, or "" if it is clear.
func unclear(f host.Failure, w expect) string {
	pe := f.Err
	if pe == nil {
		return "no error"
	}
	if pe.Reference != f.Reference {
		return fmt.Sprintf("the error is for %q", pe.Reference)
	}
	if !slices.Contains(w.codes, pe.Code) {
		return fmt.Sprintf("code %s, want one of %v", pe.Code, w.codes)
	}
	parts := strings.SplitN(strings.TrimPrefix(f.Reference, "op://"), "/", 3)
	if len(parts) < 2 || (!strings.Contains(pe.Message, parts[0]) && !strings.Contains(pe.Message, parts[1])) {
		return "the message names neither the vault nor the item"
	}
	for _, s := range w.has {
		if !strings.Contains(pe.Message, s) {
			return fmt.Sprintf("the message lacks %q", s)
		}
	}
	if w.retryAfter != 0 && pe.RetryAfter != w.retryAfter {
		return fmt.Sprintf("Retry-After %s, want %s", pe.RetryAfter, w.retryAfter)
	}
	return ""
}

// titleLookup matches the title search for an item (GET .../items?filter=).
func titleLookup(title string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		return strings.HasSuffix(r.URL.Path, "/items") && strings.Contains(r.URL.Query().Get("filter"), `"`+title+`"`)
	}
}

// vaultLookup matches the title search for a vault (GET /v1/vaults?filter=).
func vaultLookup(name string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		return r.URL.Path == "/v1/vaults" && strings.Contains(r.URL.Query().Get("filter"), `"`+name+`"`)
	}
}

const (
	deadline10s = 10 * time.Second
	unavailable = provider.CodeUnavailable
)

func TestFaults(t *testing.T) {
	pluginDir(t) // build the plugin once, before the parallel subtests
	batch := faultBatch()
	item01 := isItem(0, 1)

	t.Run("5xx-burst-recovered", func(t *testing.T) {
		t.Parallel()
		e := newFaultEnv(t, "5xx-burst-recovered", nil)
		p := e.itemPath(0, 1)
		// Up to max_retries (3) failures in a row are absorbed by retries.
		for _, status := range []int{500, 502, 503, 504} {
			for _, count := range []int{1, 3} {
				e.srv.ResetRequests()
				e.fault(emulator.Fault{Kind: emulator.FaultStatus, Status: status, Path: p, Count: count})
				e.resolve(deadline10s, e.allRight(batch))
				if n := pathCount(e.srv, p); n != count+1 {
					t.Errorf("%d × %d: %d GETs of the item, want %d", count, status, n, count+1)
				}
			}
		}
		// A burst on whatever the call sends first, and one on a vault lookup.
		e.fault(emulator.Fault{Kind: emulator.FaultStatus, Status: 503, Count: 3})
		e.resolve(deadline10s, e.allRight(batch))
		e.fault(emulator.Fault{Kind: emulator.FaultStatus, Status: 502, Count: 3, Match: vaultLookup("Vault 01")})
		e.resolve(deadline10s, e.allRight(batch))
		if n := e.srv.PendingFaults(); n != 0 {
			t.Errorf("%d faults never fired", n)
		}
	})

	t.Run("5xx-burst-beyond-retries", func(t *testing.T) {
		t.Parallel()
		e := newFaultEnv(t, "5xx-burst-beyond-retries", nil)
		p := e.itemPath(0, 1)
		// One failure more than the retries absorb: the item's references
		// fail, and only they.
		e.fault(emulator.Fault{Kind: emulator.FaultStatus, Status: 503, Path: p, Count: 4})
		e.resolve(deadline10s, e.wants(batch, item01, mustFail(unavailable, "503")))
		if n := pathCount(e.srv, p); n != 4 {
			t.Errorf("%d GETs of the item, want 4 (max_retries 3)", n)
		}
		// The burst is spent: the next call is whole, nothing sticks.
		e.resolve(deadline10s, e.allRight(batch))
		// A server error that does not end: the same references fail on
		// every call, and the rest, asked for alone, stay right meanwhile.
		e.fault(emulator.Fault{Kind: emulator.FaultStatus, Status: 500, Path: p})
		for range 2 {
			e.resolve(deadline10s, e.wants(batch, item01, mustFail(unavailable, "500")))
		}
		e.resolve(deadline10s, e.allRight(without(batch, item01)))
		e.srv.ClearFaults()
		// A vault lookup that keeps failing fails the references naming
		// that vault by title; those naming it by ID need no lookup.
		e.fault(emulator.Fault{Kind: emulator.FaultStatus, Status: 502, Match: vaultLookup("Vault 01")})
		e.resolve(deadline10s, e.wants(batch, func(g gen) bool { return g.v == 1 && !g.byID }, mustFail(unavailable, "502", "Vault 01")))
		e.srv.ClearFaults()
		e.resolve(deadline10s, e.allRight(batch))
	})

	t.Run("429-retry-after-honoured", func(t *testing.T) {
		t.Parallel()
		e := newFaultEnv(t, "429-retry-after-honoured", nil)
		p := e.itemPath(0, 1)
		for _, count := range []int{1, 2} {
			e.srv.ResetRequests()
			e.fault(emulator.Fault{Kind: emulator.FaultRateLimit, Path: p, Count: count, RetryAfter: time.Second})
			start := time.Now()
			e.resolve(deadline10s, e.allRight(batch))
			if d, min := time.Since(start), time.Duration(count)*time.Second; d < min {
				t.Errorf("%d × 429: answered after %s, before the %s the Retry-After headers asked for", count, d, min)
			}
			if n := pathCount(e.srv, p); n != count+1 {
				t.Errorf("%d × 429: %d GETs of the item, want %d", count, n, count+1)
			}
		}
		// On a title lookup too.
		e.fault(emulator.Fault{Kind: emulator.FaultRateLimit, Count: 1, RetryAfter: time.Second, Match: titleLookup("Item 002")})
		start := time.Now()
		e.resolve(deadline10s, e.allRight(batch))
		if d := time.Since(start); d < time.Second {
			t.Errorf("title lookup 429: answered after %s, before its 1s Retry-After", d)
		}
	})

	t.Run("429-past-deadline", func(t *testing.T) {
		t.Parallel()
		e := newFaultEnv(t, "429-past-deadline", nil)
		p := e.itemPath(0, 1)
		rateLimited := func(after time.Duration) expect {
			x := mustFail(provider.CodeRateLimited, "429")
			x.retryAfter = after
			return x
		}
		// A Retry-After longer than the plugin ever waits (30s) is not
		// waited for: rate_limited at once, telling the caller when.
		e.fault(emulator.Fault{Kind: emulator.FaultRateLimit, Path: p, RetryAfter: 40 * time.Second})
		e.resolve(deadline10s, e.wants(batch, item01, rateLimited(40*time.Second)))
		if n := pathCount(e.srv, p); n != 1 {
			t.Errorf("Retry-After 40s: %d GETs of the item, want 1", n)
		}
		e.srv.ClearFaults()
		// One the plugin would wait for, but not within the caller's deadline.
		for _, c := range []struct{ after, deadline time.Duration }{{20 * time.Second, 3 * time.Second}, {2 * time.Second, 1500 * time.Millisecond}} {
			e.srv.ResetRequests()
			e.fault(emulator.Fault{Kind: emulator.FaultRateLimit, Path: p, RetryAfter: c.after})
			e.resolve(c.deadline, e.wants(batch, item01, rateLimited(c.after)))
			if n := pathCount(e.srv, p); n != 1 {
				t.Errorf("Retry-After %s, deadline %s: %d GETs of the item, want 1", c.after, c.deadline, n)
			}
			e.srv.ClearFaults()
		}
		// Waited for, but the limit outlasts max_retries: 4 attempts a
		// second apart, then rate_limited.
		e.srv.ResetRequests()
		e.fault(emulator.Fault{Kind: emulator.FaultRateLimit, Path: p, RetryAfter: time.Second})
		start := time.Now()
		e.resolve(deadline10s, e.wants(batch, item01, rateLimited(time.Second)))
		if d := time.Since(start); d < 3*time.Second {
			t.Errorf("gave up after %s, before waiting 3 × 1s", d)
		}
		if n := pathCount(e.srv, p); n != 4 {
			t.Errorf("%d GETs of the item, want 4", n)
		}
		e.srv.ClearFaults()
		e.resolve(deadline10s, e.allRight(batch))
	})

	t.Run("latency-spike-recovered", func(t *testing.T) {
		t.Parallel()
		e := newFaultEnv(t, "latency-spike-recovered", nil, "request_timeout", "300ms")
		p := e.itemPath(0, 1)
		// A spike past request_timeout costs one attempt; the retry answers.
		e.fault(emulator.Fault{Kind: emulator.FaultDelay, Delay: 5 * time.Second, Path: p, Count: 1})
		e.resolve(deadline10s, e.allRight(batch))
		if n := pathCount(e.srv, p); n != 2 {
			t.Errorf("%d GETs of the item, want 2", n)
		}
		// Spikes on the call's first two requests, whatever they are.
		e.fault(emulator.Fault{Kind: emulator.FaultDelay, Delay: 5 * time.Second, Count: 2})
		e.resolve(deadline10s, e.allRight(batch))
		// A spike within request_timeout is waited for, not retried.
		e.srv.ResetRequests()
		e.fault(emulator.Fault{Kind: emulator.FaultDelay, Delay: 100 * time.Millisecond, Path: p})
		e.resolve(deadline10s, e.allRight(batch))
		if n := pathCount(e.srv, p); n != 1 {
			t.Errorf("a 100ms delay: %d GETs of the item, want 1", n)
		}
		e.srv.ClearFaults()
	})

	t.Run("latency-spike-beyond-deadline", func(t *testing.T) {
		t.Parallel()
		e := newFaultEnv(t, "latency-spike-beyond-deadline", nil, "request_timeout", "300ms")
		p := e.itemPath(0, 1)
		e.fault(emulator.Fault{Kind: emulator.FaultDelay, Delay: time.Minute, Path: p})
		// request_timeout bounds each attempt: 4 of them, then a clear error.
		e.resolve(deadline10s, e.wants(batch, item01, mustFail(unavailable, "300ms", "request_timeout", "4 attempts")))
		// A caller deadline shorter than the attempts: the plugin answers before it.
		for _, d := range []time.Duration{time.Second, 600 * time.Millisecond} {
			e.resolve(d, e.wants(batch, item01, mustFail(unavailable)))
		}
		// Every request slow: every reference fails in time.
		e.fault(emulator.Fault{Kind: emulator.FaultDelay, Delay: time.Minute})
		e.resolve(2*time.Second, e.wants(batch, func(gen) bool { return true }, mustFail(unavailable)))
		e.srv.ClearFaults()
		e.resolve(deadline10s, e.allRight(batch))
	})

	for _, c := range []struct {
		name string
		kind emulator.FaultKind
	}{{"connection-reset", emulator.FaultReset}, {"truncated-body", emulator.FaultTruncate}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newFaultEnv(t, c.name, nil)
			p := e.itemPath(0, 1)
			// Once on an item fetch, once on a title lookup, on the first three requests: retried.
			e.fault(emulator.Fault{Kind: c.kind, Path: p, Count: 1})
			e.resolve(deadline10s, e.allRight(batch))
			if n := pathCount(e.srv, p); n != 2 {
				t.Errorf("%d GETs of the item, want 2", n)
			}
			e.fault(emulator.Fault{Kind: c.kind, Count: 1, Match: titleLookup("Item 002")})
			e.resolve(deadline10s, e.allRight(batch))
			e.fault(emulator.Fault{Kind: c.kind, Count: 3})
			e.resolve(deadline10s, e.allRight(batch))
			// On every attempt: a clear error for that item only.
			e.srv.ResetRequests()
			e.fault(emulator.Fault{Kind: c.kind, Path: p})
			e.resolve(deadline10s, e.wants(batch, item01, mustFail(unavailable, "cannot reach Connect", "4 attempts")))
			if n := pathCount(e.srv, p); n != 4 {
				t.Errorf("%d GETs of the item, want 4", n)
			}
			e.resolve(deadline10s, e.allRight(without(batch, item01)))
			e.srv.ClearFaults()
			e.resolve(deadline10s, e.allRight(batch))
		})
	}

	t.Run("malformed-json", func(t *testing.T) {
		t.Parallel()
		e := newFaultEnv(t, "malformed-json", nil)
		p := e.itemPath(0, 1)
		// A 200 whose body is not JSON: never a value. It is retried like
		// any damaged answer, and nothing else is tried in its place: the
		// SDK used to follow it with a search for an item titled like the
		// item's ID, and report that search's "Found 0 item(s)".
		e.fault(emulator.Fault{Kind: emulator.FaultMalformedJSON, Path: p})
		e.resolve(deadline10s, e.wants(batch, item01, mustFail(unavailable, "not valid JSON", "application/json", "4 attempts")))
		if n := pathCount(e.srv, p); n != 4 {
			t.Errorf("%d GETs of the item, want 4", n)
		}
		id := e.data.Vaults[0].Items[1].ID
		for _, r := range e.srv.Requests() {
			if strings.Contains(r.RawQuery, id) {
				t.Errorf("a search for the item's ID as a title: %s?%s", r.Path, r.RawQuery)
			}
		}
		e.srv.ClearFaults()
		e.fault(emulator.Fault{Kind: emulator.FaultMalformedJSON, Match: titleLookup("Item 002")})
		e.resolve(deadline10s, e.wants(batch, isItem(0, 2), mustFail(unavailable, "not valid JSON")))
		e.srv.ClearFaults()
		e.fault(emulator.Fault{Kind: emulator.FaultMalformedJSON, Match: vaultLookup("Vault 01")})
		e.resolve(deadline10s, e.wants(batch, func(g gen) bool { return g.v == 1 && !g.byID }, mustFail(unavailable, "not valid JSON")))
		e.srv.ClearFaults()
		// Once only: retried like any other broken answer.
		e.fault(emulator.Fault{Kind: emulator.FaultMalformedJSON, Path: p, Count: 1})
		e.resolve(deadline10s, e.allRight(batch))
		// A 500 with a malformed error body: retried, then the value.
		e.fault(emulator.Fault{Kind: emulator.FaultMalformedJSON, Status: 500, Path: p, Count: 2})
		e.resolve(deadline10s, e.allRight(batch))
		e.resolve(deadline10s, e.allRight(batch))
	})

	t.Run("html-error-page", func(t *testing.T) {
		t.Parallel()
		e := newFaultEnv(t, "html-error-page", nil)
		p := e.itemPath(0, 1)
		// A proxy's HTML page with status 200: never a value.
		e.fault(emulator.Fault{Kind: emulator.FaultHTML, Path: p})
		e.resolve(deadline10s, e.wants(batch, item01, mustFail(unavailable, "text/html")))
		e.srv.ClearFaults()
		// ... on every request: every reference fails clearly.
		e.fault(emulator.Fault{Kind: emulator.FaultHTML})
		e.resolve(deadline10s, e.wants(batch, func(gen) bool { return true }, mustFail(unavailable, "text/html")))
		e.srv.ClearFaults()
		// A 502 page: retried; for good, a clear unavailable naming the 502.
		e.fault(emulator.Fault{Kind: emulator.FaultHTML, Status: 502, Path: p, Count: 2})
		e.resolve(deadline10s, e.allRight(batch))
		e.fault(emulator.Fault{Kind: emulator.FaultHTML, Status: 502, Path: p})
		e.resolve(deadline10s, e.wants(batch, item01, mustFail(unavailable, "502")))
		e.srv.ClearFaults()
		// Once only, with 200: retried.
		e.fault(emulator.Fault{Kind: emulator.FaultHTML, Path: p, Count: 1})
		e.resolve(deadline10s, e.allRight(batch))
	})

	t.Run("item-changed-mid-lookup", func(t *testing.T) { itemChanged(t) })
	t.Run("server-gone-mid-batch", func(t *testing.T) { serverGone(t) })
}

// itemChanged changes an item between its title lookup and its fetch: the
// emulator's OnRequest hook runs after the lookup is answered and before
// the plugin can send the fetch.
func itemChanged(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t, "item-changed-mid-lookup", nil)
	vault0 := e.data.Vaults[0].ID
	// afterLookup runs change once, after the server answered the title
	// lookup of title, and reports how many such lookups it saw.
	afterLookup := func(title string, change func() error) *atomic.Int32 {
		var n atomic.Int32
		e.srv.OnRequest(func(r emulator.Request) {
			q, _ := url.ParseQuery(r.RawQuery)
			if r.Route != "/v1/vaults/{vaultUuid}/items" || !strings.Contains(q.Get("filter"), `"`+title+`"`) {
				return
			}
			if n.Add(1) == 1 {
				if err := change(); err != nil {
					t.Errorf("changing %s: %v", title, err)
				}
			}
		})
		return &n
	}
	done := func(n *atomic.Int32) {
		t.Helper()
		e.srv.OnRequest(nil)
		if n.Load() != 1 {
			t.Errorf("%d title lookups, want 1: the change was not made once, between lookup and fetch", n.Load())
		}
	}
	edit := func(vid string, i int, f func(*emulator.Item)) func() error {
		return func() error {
			it, ok := e.srv.Item(vid, e.data.Vaults[0].Items[i].ID)
			if !ok {
				return errors.New("no such item")
			}
			f(it)
			return e.srv.PutItem(vid, it)
		}
	}
	setField := func(it *emulator.Item, id, value string) {
		for _, f := range it.Fields {
			if f.ID == id {
				f.Value = value
			}
		}
	}
	ref := func(v, i int, field string) string { return gen{v, i, field, false}.ref(e.data) }

	// A new value: the value as of the fetch, both fields of one version.
	e.secrets = append(e.secrets, "pw-0-0-rotated", "user-0-0-rotated")
	n := afterLookup("Item 000", edit(vault0, 0, func(it *emulator.Item) {
		setField(it, "password", "pw-0-0-rotated")
		setField(it, "username", "user-0-0-rotated")
	}))
	rotated := map[string]expect{
		ref(0, 0, "password"):         rightValue("pw-0-0-rotated"),
		ref(0, 0, "username"):         rightValue("user-0-0-rotated"),
		ref(0, 0, "Details/password"): rightValue("details-pw-0-0"),
	}
	e.resolve(deadline10s, rotated)
	done(n)
	e.resolve(deadline10s, rotated) // and no stale copy on the next call

	// A field renamed: the old name is not found, the new one is right.
	n = afterLookup("Item 001", edit(vault0, 1, func(it *emulator.Item) {
		for _, f := range it.Fields {
			if f.ID == "username" {
				f.ID, f.Label, f.Purpose = "login", "login", ""
			}
		}
	}))
	e.resolve(deadline10s, map[string]expect{
		ref(0, 1, "username"): mustFail(provider.CodeNotFound, `no field "username"`),
		ref(0, 1, "password"): rightValue("pw-0-1"),
	})
	done(n)
	e.resolve(deadline10s, map[string]expect{ref(0, 1, "login"): rightValue("user-0-1"), ref(0, 1, "password"): rightValue("pw-0-1")})

	// The item renamed: its old title is not found.
	n = afterLookup("Item 002", edit(vault0, 2, func(it *emulator.Item) { it.Title = "Item 002 (retired)" }))
	e.resolve(deadline10s, map[string]expect{
		ref(0, 2, "password"): mustFail(provider.CodeNotFound, "Item 002"),
		ref(0, 2, "username"): mustFail(provider.CodeNotFound, "Item 002"),
	})
	done(n)

	// The item deleted and replaced by a new one of the same title: the
	// new item's value or not_found, never the deleted item's.
	e.secrets = append(e.secrets, "pw-0-3-replacement")
	old := e.data.Vaults[0].Items[3]
	n = afterLookup("Item 003", func() error {
		if err := e.srv.DeleteItem(vault0, old.ID); err != nil {
			return err
		}
		it := old.Clone()
		it.ID = emulator.NewID("replacement of " + old.ID)
		setField(it, "password", "pw-0-3-replacement")
		return e.srv.PutItem(vault0, it)
	})
	e.resolve(deadline10s, map[string]expect{ref(0, 3, "password"): mustFail(provider.CodeNotFound, "Item 003").orValues("pw-0-3-replacement")})
	done(n)
	e.resolve(deadline10s, map[string]expect{ref(0, 3, "password"): rightValue("pw-0-3-replacement")})

	// Deleted, not replaced.
	vault1 := e.data.Vaults[1]
	n = afterLookup("Item 000", func() error { return e.srv.DeleteItem(vault1.ID, vault1.Items[0].ID) })
	e.resolve(deadline10s, map[string]expect{ref(1, 0, "password"): mustFail(provider.CodeNotFound, "Item 000")})
	done(n)

	// One item named by title, by ID and by vault title + item ID in one
	// batch, changed after the title lookup: whichever version the call
	// fetched, every reference has that version, never a mix.
	e.secrets = append(e.secrets, "pw-0-4-v2", "user-0-4-v2")
	n = afterLookup("Item 004", edit(vault0, 4, func(it *emulator.Item) {
		setField(it, "password", "pw-0-4-v2")
		setField(it, "username", "user-0-4-v2")
	}))
	it4 := e.data.Vaults[0].Items[4]
	refs := map[string]string{} // reference -> field
	for _, f := range []string{"username", "password"} {
		refs[ref(0, 4, f)] = f
		refs[gen{0, 4, f, true}.ref(e.data)] = f
		refs["op://Vault 00/"+it4.ID+"/"+f] = f
	}
	want := map[string]expect{}
	for r, f := range refs {
		want[r] = rightValue(gen{0, 4, f, false}.value()).orValues(map[string]string{"username": "user-0-4-v2", "password": "pw-0-4-v2"}[f])
	}
	vals := e.resolve(deadline10s, want)
	done(n)
	versions := map[bool]int{}
	for r := range refs {
		versions[strings.HasSuffix(string(vals[r]), "-v2")]++
	}
	if len(versions) != 1 {
		t.Errorf("one call returned two versions of one item: %v", versions)
	}
	t.Logf("item changed after its title lookup, named three ways in one call: %d references of the old version, %d of the new", versions[false], versions[true])
}

// serverGone drops the server mid-batch (FaultGoAway closes the listener
// and every connection), then brings it back on the same address.
func serverGone(t *testing.T) {
	t.Parallel()
	// A little latency, so that a batch's requests overlap.
	e := newFaultEnv(t, "server-gone-mid-batch", []emulator.Option{emulator.WithLatency(5 * time.Millisecond)})
	addr := strings.TrimPrefix(e.srv.URL(), "http://")
	restart := func() error {
		var err error
		for range 100 { // the port is ours until someone else takes it: retry briefly
			if _, err = e.srv.Start(addr); err == nil {
				return nil
			}
			time.Sleep(20 * time.Millisecond)
		}
		return err
	}
	big := bigBatch()
	everyRef := func(gen) bool { return true }
	// May fail (as unavailable), or be right had the call succeeded.
	mayFail := func(g gen) expect { return mustFail(unavailable).orValues(g.value()) }
	wantGone := func(mustGo func(gen) bool) map[string]expect {
		w := map[string]expect{}
		for _, g := range big {
			if mustGo(g) {
				w[g.ref(e.data)] = mustFail(unavailable)
			} else {
				w[g.ref(e.data)] = mayFail(g)
			}
		}
		return w
	}

	// 1. Gone while fetching Vault 00's Item 003, in the batch's last
	// round trip, and away for good: that item's references, and any
	// still pending, fail as unavailable, well within the deadline.
	e.fault(emulator.Fault{Kind: emulator.FaultGoAway, Path: e.itemPath(0, 3), Count: 1})
	failedBefore := e.clearErr
	e.resolve(deadline10s, wantGone(isItem(0, 3)))
	t.Logf("server gone mid-batch: %d of %d references failed as unavailable, the others had their values when it went",
		e.clearErr-failedBefore, len(big))
	// 2. Back on the same address: the next call is whole.
	if err := restart(); err != nil {
		t.Fatalf("restarting the emulator: %v", err)
	}
	e.resolve(deadline10s, e.allRight(big))
	// 3. Gone at the call's first request, with a short deadline: every
	// reference fails as unavailable before it. Every request that reaches
	// the server is dropped: a warm plugin sends a batch's lookups and
	// fetches together (connect/warm.go), and an answer sent before the
	// server went away is a right answer.
	e.fault(emulator.Fault{Kind: emulator.FaultGoAway})
	e.resolve(2*time.Second, wantGone(everyRef))
	// 4. Still gone at the next call.
	e.resolve(2*time.Second, wantGone(everyRef))
	e.srv.ClearFaults()
	if err := restart(); err != nil {
		t.Fatalf("restarting the emulator: %v", err)
	}
	// 5. Away for a moment only: back while the plugin is still retrying.
	// Either outcome is fine, as long as it is right or clear.
	var wg sync.WaitGroup
	e.srv.OnRequest(func(r emulator.Request) {
		if r.Fault == emulator.FaultGoAway {
			wg.Go(func() {
				time.Sleep(150 * time.Millisecond)
				if err := restart(); err != nil {
					t.Errorf("restarting the emulator: %v", err)
				}
			})
		}
	})
	e.fault(emulator.Fault{Kind: emulator.FaultGoAway, Path: e.itemPath(1, 2), Count: 1})
	failedBefore = e.clearErr
	e.resolve(deadline10s, wantGone(func(gen) bool { return false }))
	wg.Wait()
	e.srv.OnRequest(nil)
	if n := e.srv.PendingFaults(); n != 0 {
		t.Fatalf("the server never went away (%d faults pending)", n)
	}
	t.Logf("server gone for 150ms mid-batch: %d of %d references failed as unavailable", e.clearErr-failedBefore, len(big))
	// 6. And whole again.
	e.resolve(deadline10s, e.allRight(big))
}
