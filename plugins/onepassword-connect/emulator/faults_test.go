package emulator

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// freshClient never reuses connections, so a fault that kills one cannot leak into the next
// test step.
func freshClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
}

func doGet(t *testing.T, url, token string) (*http.Response, error) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return freshClient().Do(req)
}

func TestFaultStatusCountAndMatching(t *testing.T) {
	fx := newFixture()
	srv := fx.start(t)
	if err := srv.AddFault(Fault{Kind: FaultStatus, Status: 503, Count: 2, Method: "GET", Path: "/v1/vaults"}); err != nil {
		t.Fatal(err)
	}
	// Not matched: another path.
	if status, _, _ := get(t, srv.URL(), "/heartbeat", ""); status != 200 {
		t.Errorf("heartbeat hit by a /v1/vaults fault: %d", status)
	}
	for i := range 2 {
		wantError(t, srv.URL(), "/v1/vaults", testToken, 503, "Service Unavailable")
		if got := srv.Requests()[i+1].Fault; got != FaultStatus {
			t.Errorf("request log fault = %q", got)
		}
	}
	getJSON(t, srv.URL(), "/v1/vaults", testToken, 200, nil) // budget used up
	if srv.PendingFaults() != 0 {
		t.Errorf("%d faults pending", srv.PendingFaults())
	}

	// Match func, unlimited count, realistic default messages.
	err := srv.AddFault(Fault{Kind: FaultStatus, Status: 403, Match: func(r *http.Request) bool {
		return strings.Contains(r.URL.Path, fx.github.ID)
	}})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		wantError(t, srv.URL(), "/v1/vaults/"+fx.demo.ID+"/items/"+fx.github.ID, testToken, 403, msgNoVaultAccess)
	}
	getJSON(t, srv.URL(), "/v1/vaults/"+fx.demo.ID+"/items/"+fx.api.ID, testToken, 200, nil)
	srv.ClearFaults()
	getJSON(t, srv.URL(), "/v1/vaults/"+fx.demo.ID+"/items/"+fx.github.ID, testToken, 200, nil)

	_, _, body := get(t, srv.URL(), "/metrics", "")
	if !strings.Contains(string(body), `connect_emulator_faults_injected_total{kind="status"} 5`) {
		t.Errorf("metrics:\n%s", body)
	}
}

func TestFaultRateLimit(t *testing.T) {
	srv := newFixture().start(t)
	_ = srv.AddFault(Fault{Kind: FaultRateLimit, RetryAfter: 1500 * time.Millisecond, Count: 1})
	status, h, body := get(t, srv.URL(), "/v1/vaults", testToken)
	if status != 429 || h.Get("Retry-After") != "2" || h.Get(versionHeader) != ConnectVersion {
		t.Errorf("%d %v", status, h)
	}
	var e apiError
	if err := json.Unmarshal(body, &e); err != nil || e.Status != 429 {
		t.Errorf("body %s", body)
	}
}

func TestFaultDelay(t *testing.T) {
	srv := newFixture().start(t)
	_ = srv.AddFault(Fault{Kind: FaultDelay, Delay: 100 * time.Millisecond, Count: 1})
	start := time.Now()
	if status, _, _ := get(t, srv.URL(), "/heartbeat", ""); status != 200 {
		t.Errorf("status %d", status)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("took %v, want >= 100ms", d)
	}
	get(t, srv.URL(), "/heartbeat", "")
	if r := srv.Requests(); r[0].Fault != FaultDelay || r[1].Fault != "" {
		t.Errorf("faults in the log: %q, %q; want the delay on the first request only", r[0].Fault, r[1].Fault)
	}
}

func TestFaultReset(t *testing.T) {
	srv := newFixture().start(t)
	_ = srv.AddFault(Fault{Kind: FaultReset, Count: 1})
	resp, err := doGet(t, srv.URL()+"/v1/vaults", testToken)
	if err != nil {
		// The reset may also win the race against the response headers; still a reset.
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("error %v, want a connection reset", err)
		}
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength <= 0 || resp.Header.Get(versionHeader) != ConnectVersion {
		t.Errorf("headers: %d %d %v", resp.StatusCode, resp.ContentLength, resp.Header)
	}
	body, err := io.ReadAll(resp.Body)
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("reading body: %v (got %d of %d bytes), want connection reset", err, len(body), resp.ContentLength)
	}
	if int64(len(body)) >= resp.ContentLength {
		t.Errorf("read the whole body")
	}
	// The server itself is fine afterwards.
	getJSON(t, srv.URL(), "/v1/vaults", testToken, 200, nil)
}

func TestFaultTruncate(t *testing.T) {
	srv := newFixture().start(t)
	_ = srv.AddFault(Fault{Kind: FaultTruncate, Count: 1})
	resp, err := doGet(t, srv.URL()+"/v1/vaults", testToken)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("reading body: %v, want unexpected EOF", err)
	}
	if int64(len(body)) >= resp.ContentLength || len(body) == 0 {
		t.Errorf("got %d of %d bytes", len(body), resp.ContentLength)
	}
	if !strings.HasPrefix(string(body), `[{"id":`) {
		t.Errorf("partial body is not a prefix of the real one: %q", body)
	}
}

func TestFaultMalformedJSONAndHTML(t *testing.T) {
	srv := newFixture().start(t)
	_ = srv.AddFault(Fault{Kind: FaultMalformedJSON, Count: 1})
	_ = srv.AddFault(Fault{Kind: FaultHTML, Status: 502, Count: 1})

	status, h, body := get(t, srv.URL(), "/v1/vaults", testToken)
	if status != 200 || h.Get("Content-Type") != "application/json" || json.Valid(body) {
		t.Errorf("malformed: %d %q %q", status, h.Get("Content-Type"), body)
	}
	status, h, body = get(t, srv.URL(), "/v1/vaults", testToken)
	if status != 502 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !strings.HasPrefix(string(body), "<html>") {
		t.Errorf("html: %d %q %q", status, h.Get("Content-Type"), body)
	}
	if h.Get(versionHeader) != ConnectVersion {
		t.Error("fault reply lacks the version header")
	}
}

func TestFaultGoAway(t *testing.T) {
	srv := newFixture().start(t)
	url := srv.URL()
	_ = srv.AddFault(Fault{Kind: FaultGoAway, Count: 1})
	if resp, err := doGet(t, url+"/v1/vaults", testToken); err == nil {
		resp.Body.Close()
		t.Fatalf("got a response (%d) from a server that went away", resp.StatusCode)
	}
	if _, err := doGet(t, url+"/heartbeat", ""); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("after go-away: %v, want connection refused", err)
	}
	if r := srv.Requests(); len(r) != 1 || r[0].Status != 0 || r[0].Fault != FaultGoAway {
		t.Errorf("log: %+v", r)
	}
	// It can come back on the same address.
	if _, err := srv.Start(strings.TrimPrefix(url, "http://")); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := get(t, url, "/heartbeat", ""); status != 200 {
		t.Errorf("after restart: %d", status)
	}
}

func TestAddFaultValidates(t *testing.T) {
	srv := newFixture().start(t)
	for _, f := range []Fault{
		{Kind: "explode"},
		{Kind: FaultDelay},
		{Kind: FaultStatus, Status: 42},
		{Kind: FaultStatus, Count: -1},
	} {
		if err := srv.AddFault(f); err == nil {
			t.Errorf("AddFault(%+v) succeeded", f)
		}
	}
}

func TestParseFault(t *testing.T) {
	good := map[string]Fault{
		"status=503,count=3,path=/v1/vaults": {Kind: FaultStatus, Status: 503, Count: 3, Path: "/v1/vaults"},
		"status=429,retry-after=2":           {Kind: FaultRateLimit, Status: 429, RetryAfter: 2 * time.Second},
		"kind=ratelimit,retry-after=500ms":   {Kind: FaultRateLimit, RetryAfter: 500 * time.Millisecond},
		"delay=2s, method=get":               {Kind: FaultDelay, Delay: 2 * time.Second, Method: "GET"},
		"kind=RESET,count=1":                 {Kind: FaultReset, Count: 1},
		"kind=truncate":                      {Kind: FaultTruncate},
		"kind=malformed,status=500":          {Kind: FaultMalformedJSON, Status: 500},
		"kind=html":                          {Kind: FaultHTML},
		"kind=goaway,path=/v1/vaults/":       {Kind: FaultGoAway, Path: "/v1/vaults/"},
		"status=500,message=Something broke": {Kind: FaultStatus, Status: 500, Message: "Something broke"},
	}
	for spec, want := range good {
		got, err := ParseFault(spec)
		if err != nil || got.Kind != want.Kind || got.Status != want.Status || got.Count != want.Count ||
			got.Path != want.Path || got.Method != want.Method || got.Delay != want.Delay ||
			got.RetryAfter != want.RetryAfter || got.Message != want.Message {
			t.Errorf("ParseFault(%q) = %+v, %v; want %+v", spec, got, err, want)
		}
	}
	for _, spec := range []string{"", "count=3", "status", "status=abc", "kind=boom", "delay=soon", "color=red", "status=5000", "count=-1"} {
		if f, err := ParseFault(spec); err == nil {
			t.Errorf("ParseFault(%q) = %+v, want an error", spec, f)
		}
	}
}
