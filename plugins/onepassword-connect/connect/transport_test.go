package connect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/opentracing/opentracing-go"

	"github.com/secrethost/secrethost/plugins/onepassword-connect/emulator"
)

// testTransport is a private transport (not http.DefaultClient's), so
// these tests run in parallel without sharing state.
type testTransport struct {
	t     *transport
	pol   *policy
	stats *callState
}

func newTestTransport(timeout time.Duration, retries, concurrent int) *testTransport {
	return &testTransport{
		t: &transport{base: newBaseTransport(), ops: map[string]*op{}},
		pol: &policy{timeout: timeout, retries: retries, sem: make(chan struct{}, concurrent), log: hclog.NewNullLogger(),
			backoff: func(int) time.Duration { return 10 * time.Millisecond }},
		stats: &callState{},
	}
}

// get sends a GET the way the SDK does: a background context, the op's ID
// in the User-Agent.
func (tt *testTransport) get(ctx context.Context, url string) (*op, *http.Response, error) {
	o, ua, end := tt.t.begin(ctx, tt.pol, tt.stats, "test-agent/1")
	defer end()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("User-Agent", ua)
	resp, err := (&http.Client{Transport: tt.t}).Do(req)
	return o, resp, err
}

// script answers requests with the given statuses in order, then 200.
func script(t *testing.T, statuses ...int) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i < len(statuses) {
			if statuses[i] == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "1")
			}
			w.WriteHeader(statuses[i])
			io.WriteString(w, `{"status":0,"message":"scripted"}`)
			return
		}
		io.WriteString(w, `[]`)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestTransportRetriesTransientStatuses(t *testing.T) {
	t.Parallel()
	for _, status := range []int{500, 502, 503, 504} {
		srv, n := script(t, status, status)
		tt := newTestTransport(time.Second, 3, 4)
		o, resp, err := tt.get(context.Background(), srv.URL)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%d: got %v, %v", status, resp, err)
		}
		if n.Load() != 3 || tt.stats.requests.Load() != 3 || tt.stats.retries.Load() != 2 {
			t.Errorf("%d: %d requests (stats %d, retries %d), want 3", status, n.Load(), tt.stats.requests.Load(), tt.stats.retries.Load())
		}
		if out := o.outcome(); out.status != 200 || out.failed {
			t.Errorf("op recorded %+v", out)
		}
	}
}

func TestTransportGivesUpAfterMaxRetries(t *testing.T) {
	t.Parallel()
	srv, n := script(t, 503, 503, 503, 503, 503)
	tt := newTestTransport(time.Second, 2, 4)
	o, resp, err := tt.get(context.Background(), srv.URL)
	if err != nil || resp.StatusCode != 503 {
		t.Fatalf("got %v, %v", resp, err)
	}
	if n.Load() != 3 {
		t.Errorf("%d requests, want 3 (1 + max_retries 2)", n.Load())
	}
	if out := o.outcome(); out.status != 503 || !out.failed {
		t.Errorf("op recorded %+v", out)
	}
}

func TestTransportDoesNotRetryClientErrors(t *testing.T) {
	t.Parallel()
	for _, status := range []int{400, 401, 403, 404, 409} {
		srv, n := script(t, status, status)
		tt := newTestTransport(time.Second, 3, 4)
		_, resp, err := tt.get(context.Background(), srv.URL)
		if err != nil || resp.StatusCode != status {
			t.Fatalf("%d: got %v, %v", status, resp, err)
		}
		if n.Load() != 1 {
			t.Errorf("%d: %d requests, want 1 (no retry)", status, n.Load())
		}
	}
}

func TestTransportHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	srv, n := script(t, http.StatusTooManyRequests)
	tt := newTestTransport(time.Second, 3, 4)
	start := time.Now()
	_, resp, err := tt.get(context.Background(), srv.URL)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("got %v, %v", resp, err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("retried after %s, before Retry-After: 1", d)
	}
	if n.Load() != 2 {
		t.Errorf("%d requests, want 2", n.Load())
	}
}

func TestTransportNeverWaitsPastTheDeadline(t *testing.T) {
	t.Parallel()
	// Retry-After 1s but only 300ms left: answer 429 now, with the hint.
	srv, n := script(t, http.StatusTooManyRequests)
	tt := newTestTransport(time.Second, 3, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	o, resp, err := tt.get(ctx, srv.URL)
	if err != nil || resp.StatusCode != 429 {
		t.Fatalf("got %v, %v", resp, err)
	}
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Errorf("took %s: it waited although the wait could not fit", d)
	}
	if out := o.outcome(); out.retryAfter != time.Second {
		t.Errorf("retry-after recorded as %s", out.retryAfter)
	}
	if n.Load() != 1 {
		t.Errorf("%d requests", n.Load())
	}

	// Endless 503s with a long backoff: the deadline bounds the call.
	srv2, _ := script(t, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503)
	tt2 := newTestTransport(time.Second, 10, 4)
	tt2.pol.backoff = func(int) time.Duration { return 150 * time.Millisecond }
	ctx2, cancel2 := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel2()
	start = time.Now()
	_, resp, err = tt2.get(ctx2, srv2.URL)
	if d := time.Since(start); d > 400*time.Millisecond {
		t.Errorf("took %s, past the 400ms deadline", d)
	}
	if err != nil || resp.StatusCode != 503 {
		t.Errorf("want the last 503, got %v, %v", resp, err)
	}
}

func TestTransportLongRetryAfterIsNotWaitedFor(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	tt := newTestTransport(time.Second, 3, 4)
	start := time.Now()
	o, resp, err := tt.get(context.Background(), srv.URL)
	if err != nil || resp.StatusCode != 429 || time.Since(start) > time.Second {
		t.Fatalf("got %v, %v after %s", resp, err, time.Since(start))
	}
	if out := o.outcome(); out.retryAfter != 120*time.Second {
		t.Errorf("retry-after %s", out.retryAfter)
	}
}

func TestTransportAttemptTimeout(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	tt := newTestTransport(100*time.Millisecond, 2, 4)
	start := time.Now()
	o, _, err := tt.get(context.Background(), srv.URL)
	var te *transportError
	if !errors.As(err, &te) || te.kind != failTimeout || te.attempts != 3 {
		t.Fatalf("want a timeout after 3 attempts, got %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s", d)
	}
	if f := o.outcome().fail; f == nil || f.kind != failTimeout {
		t.Errorf("op did not record the timeout")
	}
	if !strings.Contains(err.Error(), "request_timeout") {
		t.Errorf("message: %v", err)
	}
}

func TestTransportCallerCancel(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	tt := newTestTransport(10*time.Second, 3, 4)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, _, err := tt.get(ctx, srv.URL)
	var te *transportError
	if !errors.As(err, &te) || te.kind != failCanceled {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %s after cancel", d)
	}
}

func TestTransportRetriesRefusedConnections(t *testing.T) {
	t.Parallel()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	tt := newTestTransport(time.Second, 2, 4)
	_, _, err := tt.get(context.Background(), "http://"+addr)
	var te *transportError
	if !errors.As(err, &te) || te.kind != failUnreachable || te.attempts != 3 {
		t.Fatalf("want unreachable after 3 attempts, got %v", err)
	}
}

func TestTransportRetriesBrokenResponses(t *testing.T) {
	t.Parallel()
	for _, kind := range []emulator.FaultKind{emulator.FaultReset, emulator.FaultTruncate} {
		srv := emulator.NewTestServer(t, emulator.Generate(1, 1))
		srv.AddFault(emulator.Fault{Kind: kind, Count: 1})
		tt := newTestTransport(time.Second, 2, 4)
		_, resp, err := tt.get(context.Background(), srv.URL()+"/health")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: got %v, %v", kind, resp, err)
		}
		body, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(body), "1Password Connect") {
			t.Errorf("%s: body %q", kind, body)
		}
		if srv.RequestCount() != 2 {
			t.Errorf("%s: %d requests, want 2", kind, srv.RequestCount())
		}
	}
}

// A success from the JSON API whose body is not JSON (a proxy's page, a
// damaged answer) is a failed attempt: retried, then reported as such, so
// the SDK never decodes it nor falls back to another request in its place.
func TestTransportRejectsNonJSONSuccess(t *testing.T) {
	t.Parallel()
	for _, kind := range []emulator.FaultKind{emulator.FaultMalformedJSON, emulator.FaultHTML} {
		srv := emulator.NewTestServer(t, emulator.Generate(1, 1))
		srv.AddFault(emulator.Fault{Kind: kind, Path: "/v1/vaults", Count: 1})
		tt := newTestTransport(time.Second, 2, 4)
		_, resp, err := tt.get(context.Background(), srv.URL()+"/v1/vaults")
		if err != nil || resp.StatusCode != 401 || srv.RequestCount() != 2 {
			t.Fatalf("%s once: got %v, %v after %d requests; want the retry's 401", kind, resp, err, srv.RequestCount())
		}
		srv.ResetRequests()
		srv.AddFault(emulator.Fault{Kind: kind, Path: "/v1/vaults"})
		tt = newTestTransport(time.Second, 2, 4) // a new call: identical GETs of one call are sent once
		o, _, err := tt.get(context.Background(), srv.URL()+"/v1/vaults")
		var te *transportError
		if !errors.As(err, &te) || te.kind != failBadBody || te.attempts != 3 || !strings.Contains(err.Error(), "not valid JSON") {
			t.Errorf("%s always: got %v, want a bad body after 3 attempts", kind, err)
		}
		if out := o.outcome(); !out.failed || out.fail == nil || out.fail.kind != failBadBody {
			t.Errorf("%s always: the op did not record the failure: %+v", kind, out)
		}
		// Outside the JSON API, bodies are not checked: /heartbeat is text.
		srv.ClearFaults()
		if _, resp, err := tt.get(context.Background(), srv.URL()+"/heartbeat"); err != nil || resp.StatusCode != 200 {
			t.Errorf("heartbeat: %v, %v", resp, err)
		}
	}
}

func TestTransportLimitsConcurrency(t *testing.T) {
	t.Parallel()
	var cur, peak atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := cur.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(20 * time.Millisecond)
		cur.Add(-1)
	}))
	defer srv.Close()
	tt := newTestTransport(time.Second, 0, 3)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() { tt.get(context.Background(), fmt.Sprintf("%s/?i=%d", srv.URL, i)) })
	}
	wg.Wait()
	if peak.Load() != 3 {
		t.Errorf("peak in flight %d, want 3", peak.Load())
	}
}

func TestTransportRestoresUserAgentAndCarriesContext(t *testing.T) {
	t.Parallel()
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.UserAgent())
		time.Sleep(300 * time.Millisecond)
	}))
	defer srv.Close()
	tt := newTestTransport(time.Second, 0, 4)
	// The op's context, not the request's (background) one, governs.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, _, err := tt.get(ctx, srv.URL)
	if err == nil {
		t.Fatal("the op's deadline did not reach the request")
	}
	if ua := got.Load(); ua != "test-agent/1" {
		t.Errorf("server saw User-Agent %q", ua)
	}
	if len(tt.t.ops) != 0 {
		t.Errorf("ops leak: %d registered", len(tt.t.ops))
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"": 0, "3": 3 * time.Second, " 0 ": 0, "-5": 0, "soon": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestBackoffIsCappedAndJittered(t *testing.T) {
	seen := map[time.Duration]bool{}
	for attempt := 1; attempt <= 30; attempt++ {
		for range 20 {
			d := backoff(attempt)
			step := min(backoffBase<<min(attempt-1, 10), backoffCap)
			if d < step/2 || d > step {
				t.Fatalf("attempt %d: %s outside [%s, %s]", attempt, d, step/2, step)
			}
			seen[d] = true
		}
	}
	if len(seen) < 50 {
		t.Errorf("little jitter: %d distinct delays", len(seen))
	}
}

func TestTransportSharesIdenticalGETsOfOneCall(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		time.Sleep(20 * time.Millisecond)
		if r.URL.Query().Get("fail") != "" {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"status":404,"message":"item x not found"}`)
			return
		}
		io.WriteString(w, `{"id":"x"}`)
	}))
	defer srv.Close()
	tt := newTestTransport(time.Second, 0, 4)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			_, resp, err := tt.get(context.Background(), srv.URL+"/a")
			if err != nil {
				t.Error(err)
				return
			}
			if b, _ := io.ReadAll(resp.Body); string(b) != `{"id":"x"}` {
				t.Errorf("body %q", b)
			}
		})
		wg.Go(func() {
			o, resp, err := tt.get(context.Background(), srv.URL+"/b?fail=1")
			if err != nil || resp.StatusCode != 404 {
				t.Errorf("got %v, %v", resp, err)
				return
			}
			if out := o.outcome(); !out.failed || out.message != "item x not found" {
				t.Errorf("shared failure not recorded: %+v", out)
			}
		})
	}
	wg.Wait()
	if n.Load() != 2 || tt.stats.shared.Load() != 18 {
		t.Errorf("%d requests (%d shared), want 2 (18)", n.Load(), tt.stats.shared.Load())
	}
	// Another call sends its own.
	other := newTestTransport(time.Second, 0, 4)
	other.t = tt.t
	other.get(context.Background(), srv.URL+"/a")
	if n.Load() != 3 {
		t.Errorf("a second call reused the first call's response")
	}
}

func TestTransportAbortsAnOpAfterItsFirstFailure(t *testing.T) {
	t.Parallel()
	srv, n := script(t, 404)
	tt := newTestTransport(time.Second, 0, 4)
	o, ua, end := tt.t.begin(context.Background(), tt.pol, tt.stats, "ua")
	defer end()
	client := &http.Client{Transport: tt.t}
	for i, want := range []int{404, 0} {
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/%d", srv.URL, i), nil)
		req.Header.Set("User-Agent", ua)
		resp, err := client.Do(req)
		if want == 0 {
			var te *transportError
			if !errors.As(err, &te) || te.kind != failAborted {
				t.Errorf("second request of a failed op: %v, %v", resp, err)
			}
		} else if err != nil || resp.StatusCode != want {
			t.Errorf("got %v, %v", resp, err)
		}
	}
	if n.Load() != 1 {
		t.Errorf("%d requests sent, want 1", n.Load())
	}
	if out := o.outcome(); out.status != 404 || out.path != "/0" {
		t.Errorf("first failure not kept: %+v", out)
	}
}

func TestNewInstallsTransportAndNoopTracer(t *testing.T) {
	New(nil)
	if http.DefaultClient.Transport != shared {
		t.Error("http.DefaultClient does not use the plugin's transport")
	}
	if _, ok := opentracing.GlobalTracer().(opentracing.NoopTracer); !ok {
		t.Errorf("global tracer is %T; connect-sdk-go would start Jaeger", opentracing.GlobalTracer())
	}
}
