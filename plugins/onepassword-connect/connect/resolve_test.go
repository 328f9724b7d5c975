package connect

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/secrethost/secrethost/plugins/onepassword-connect/emulator"
	"github.com/secrethost/secrethost/plugins/onepassword-connect/emulator/fixture"
	"github.com/secrethost/secrethost/shared/provider"
)

func configured(t *testing.T, url, token string, kv ...string) *Provider {
	t.Helper()
	cfg := map[string]string{AttrHost: url, AttrToken: token}
	for i := 0; i < len(kv); i += 2 {
		cfg[kv[i]] = kv[i+1]
	}
	p := New(nil)
	if _, err := p.Configure(context.Background(), provider.ConfigureRequest{Config: cfg}); err != nil {
		t.Fatal(err)
	}
	return p
}

func resolve(t *testing.T, p *Provider, refs ...string) []provider.ResolveResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := p.Resolve(ctx, provider.ResolveRequest{References: refs})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Results) != len(refs) {
		t.Fatalf("%d results for %d references", len(resp.Results), len(refs))
	}
	for i, r := range resp.Results {
		if r.Reference != refs[i] {
			t.Fatalf("result %d is for %q, want %q", i, r.Reference, refs[i])
		}
	}
	return resp.Results
}

// routes summarises the request log, e.g. {"vaults?filter": 2, "item": 10}.
func routes(srv *emulator.Server) map[string]int {
	out := map[string]int{}
	for _, r := range srv.Requests() {
		k := strings.TrimPrefix(r.Route, "/v1/vaults")
		switch k {
		case "":
			k = "vaults"
		case "/{vaultUuid}/items":
			k = "items"
		case "/{vaultUuid}/items/{itemUuid}":
			k = "item"
		}
		if r.RawQuery != "" {
			k += "?filter"
		}
		out[k]++
	}
	return out
}

func TestBatchRequestCounts(t *testing.T) {
	data := emulator.Generate(2, 5)
	srv := emulator.NewTestServer(t, data)
	p := configured(t, srv.URL(), emulator.GeneratedToken)
	vaultTitle, itemTitle := fixture.VaultTitle, fixture.ItemTitle
	vaultID := func(v int) string { return data.Vaults[v].ID }
	itemID := func(v, i int) string { return data.Vaults[v].Items[i].ID }
	mixed := func(v, i int) string { // the same item by title and by ID
		if i%2 == 0 {
			return itemTitle(v, i)
		}
		return itemID(v, i)
	}

	cases := []struct {
		name string
		refs []string
		want map[string]int
	}{
		{"all titles", fixture.Batch100(vaultTitle, itemTitle), map[string]int{"vaults?filter": 2, "items?filter": 10, "item": 10}},
		{"all IDs skip lookups", fixture.Batch100(vaultID, itemID), map[string]int{"item": 10}},
		{"vault titles, item IDs", fixture.Batch100(vaultTitle, itemID), map[string]int{"vaults?filter": 2, "item": 10}},
		{"vault IDs, item titles", fixture.Batch100(vaultID, itemTitle), map[string]int{"items?filter": 10, "item": 10}},
		{"an item by title and by ID is fetched once", append(fixture.Batch100(vaultTitle, itemTitle), fixture.Batch100(vaultTitle, itemID)...),
			map[string]int{"vaults?filter": 2, "items?filter": 10, "item": 10}},
		{"a vault by title and by ID shares lookups", append(fixture.Batch100(vaultTitle, itemTitle), fixture.Batch100(vaultID, itemTitle)...),
			map[string]int{"vaults?filter": 2, "items?filter": 10, "item": 10}},
		{"mixed", fixture.Batch100(vaultTitle, mixed), map[string]int{"vaults?filter": 2, "items?filter": 6, "item": 10}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv.ResetRequests()
			p.forgetIDs() // the cold plan
			results := resolve(t, p, c.refs...)
			for _, r := range results {
				if r.Err != nil {
					t.Errorf("%v", r.Err)
				}
			}
			if got := routes(srv); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("requests %v, want %v", got, c.want)
			}
			if !bytes.Equal(results[0].Value, []byte("user-0-0")) || !bytes.Equal(results[6].Value, []byte("details-pw-0-0")) {
				t.Errorf("values: %q %q", results[0].Value, results[6].Value)
			}
		})
	}
}

func TestBatchRoundTrips(t *testing.T) {
	// Large enough that CPU stalls (-race, parallel test binaries, few
	// cores) rarely reorder requests; and timing is best of 3: a
	// structural regression fails every attempt, a busy machine does not
	// stall every one.
	const latency = 200 * time.Millisecond
	srv := emulator.NewTestServer(t, emulator.Generate(2, 5), emulator.WithLatency(latency))
	p := configured(t, srv.URL(), emulator.GeneratedToken)
	refs := fixture.Batch100(fixture.VaultTitle, fixture.ItemTitle)
	resolve(t, p, refs...) // warm up connections
	var report []string
	for attempt := 1; attempt <= 3; attempt++ {
		srv.ResetRequests()
		p.forgetIDs() // the cold plan (warm_test.go has the warm one)
		start := time.Now()
		resolve(t, p, refs...)
		took := time.Since(start)
		// vault lookup → item lookup → item fetch: 3 round trips;
		// serially, 22 requests would take 22 × latency.
		depth := chainDepth(srv.Requests())
		if depth == 3 && took <= 5*latency && srv.MaxInFlight() >= 10 {
			return
		}
		report = append(report, fmt.Sprintf("attempt %d: %s (%.1f round trips of %s), longest sequential chain %d (want 3), max %d in flight (want >= 10); request timeline:\n%s",
			attempt, took, float64(took)/float64(latency), latency, depth, srv.MaxInFlight(), timeline(srv.Requests(), start)))
	}
	t.Errorf("not about 3 round trips:\n%s", strings.Join(report, "\n"))
}

// chainDepth is the number of round trips the requests needed: the longest
// chain of requests each starting after the previous one ended.
func chainDepth(reqs []emulator.Request) int {
	depth := make([]int, len(reqs))
	best := 0
	for i := range reqs { // the log is in order of completion
		depth[i] = 1
		for j := range i {
			if !reqs[j].Time.Add(reqs[j].Duration).After(reqs[i].Time) && depth[j]+1 > depth[i] {
				depth[i] = depth[j] + 1
			}
		}
		best = max(best, depth[i])
	}
	return best
}

func TestConcurrencyLimitHolds(t *testing.T) {
	data := emulator.Generate(1, 12)
	srv := emulator.NewTestServer(t, data, emulator.WithLatency(10*time.Millisecond))
	p := configured(t, srv.URL(), emulator.GeneratedToken, AttrMaxConcurrency, "3")
	var refs []string
	for _, it := range data.Vaults[0].Items {
		refs = append(refs, "op://"+data.Vaults[0].ID+"/"+it.ID+"/password")
	}
	resolve(t, p, refs...)
	if m := srv.MaxInFlight(); m != 3 {
		t.Errorf("max in flight %d, want 3", m)
	}
}

type wantErr struct {
	code provider.Code
	has  []string
}

func TestResolveFixture(t *testing.T) {
	fx := fixture.New()
	fixed := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	srv := emulator.NewTestServer(t, fx.Data, emulator.WithClock(func() time.Time { return fixed }))
	p := configured(t, srv.URL(), fixture.Token)
	serverCode, _ := totp.GenerateCode(fixture.OTPSecret, fixed)

	ok := map[string]string{
		"op://Production/Postgres/username":                              fixture.PGUser,
		"op://Production/Postgres/password":                              fixture.PGPassword,
		"op://Production/Postgres/Details/password":                      fixture.PGDetailsPW,
		"op://Production/Postgres/host":                                  fixture.PGHost,
		"op://production/Postgres/password":                              fixture.PGPassword, // vault case-insensitively
		"op://Production/mixed case/password":                            fixture.MixedValue, // item case-insensitively (listing fallback)
		"op://" + fx.Production.ID + "/" + fx.Postgres.ID + "/password":  fixture.PGPassword,
		"op://Production/" + fixture.IDShapedTitle + "/password":         fixture.IDTitleValue,
		"op://Production/GitHub/one-time password?attribute=otp":         serverCode,
		"op://Production/API/Primary/key":                                fixture.APIKey1,
		"op://Production/API/" + fx.APIKeyFields[1].ID:                   fixture.APIKey2,
		"op://Production/" + fx.Dup2.ID + "/password":                    fixture.DupValue,
		"op://" + fx.Team2.ID + "/Wiki/password":                         "w2",
		"op://Production/Postgres/" + fx.DetailsSection.ID + "/password": fixture.PGDetailsPW,
		"op://Production/GitHub/one-time password":                       "otpauth://totp/GitHub:octocat?secret=" + fixture.OTPSecret + "&issuer=GitHub",
		"  op://Production/Postgres/username  ":                          fixture.PGUser,
		"op://Production/Postgres/Details/host":                          fixture.PGHost,
		"OP://Production/Postgres/username":                              fixture.PGUser,
		"op://Production/Postgres/Username":                              fixture.PGUser,
		"op://Production/Postgres/DETAILS/password":                      fixture.PGDetailsPW,
		"op://Production/GitHub/one-time password?attribute=totp":        serverCode,
		"op://Production/GitHub/TOTP_github?attribute=otp":               serverCode,
		"op://Production/Postgres/Details/" + fx.Postgres.Fields[2].ID:   fixture.PGDetailsPW,
	}
	bad := map[string]wantErr{
		"op://Team/Wiki/password":                              {provider.CodeAmbiguous, []string{fx.Team1.ID, fx.Team2.ID, "by its ID"}},
		"op://Production/Duplicate/password":                   {provider.CodeAmbiguous, []string{fx.Dup1.ID, fx.Dup2.ID, "by its ID"}},
		"op://Production/API/key":                              {provider.CodeAmbiguous, []string{fx.APIKeyFields[0].ID, fx.APIKeyFields[1].ID}},
		"op://Secret Ops/Launch Codes/password":                {provider.CodeNotFound, []string{`"Secret Ops"`, "may not have access", `"Production"`}},
		"op://" + fx.Secret.ID + "/" + fx.Ops.ID + "/password": {provider.CodePermissionDenied, []string{fx.Secret.ID, "may not have access", "403"}},
		"op://Nope/Postgres/password":                          {provider.CodeNotFound, []string{`"Nope"`, "may not have access"}},
		"op://Production/Nope/password":                        {provider.CodeNotFound, []string{`item "Nope"`, "Production"}},
		"op://Production/bbbbbbbbbbbbbbbbbbbbbbbbbb/password":  {provider.CodeNotFound, []string{"bbbbbbbbbbbbbbbbbbbbbbbbbb", "not found"}},
		"op://cccccccccccccccccccccccccc/Postgres/password":    {provider.CodeNotFound, []string{"vault cccccccccccccccccccccccccc", "may not have access"}},
		"op://Production/Postgres/Nope/password":               {provider.CodeNotFound, []string{`no section "Nope"`, `"Details"`}},
		"op://Production/Postgres/nope":                        {provider.CodeNotFound, []string{`no field "nope"`}},
		"op://Production/GitHub/broken otp?attribute=otp":      {provider.CodeNotFound, []string{"no current code", "otpauth"}},
		"op://Production/Postgres/password?attribute=otp":      {provider.CodeInvalidReference, []string{"one-time password field", "CONCEALED"}},
		"op://Production/Postgres":                             {provider.CodeInvalidReference, []string{"expected op://"}},
		"vault://x/y":                                          {provider.CodeInvalidReference, []string{`"op://"`}},
	}
	var refs []string
	for r := range ok {
		refs = append(refs, r)
	}
	for r := range bad {
		refs = append(refs, r)
	}
	refs = append(refs, "op://Production/Postgres/password") // a duplicate
	for _, r := range resolve(t, p, refs...) {
		if want, isOK := ok[r.Reference]; isOK || r.Reference == "op://Production/Postgres/password" {
			if isOK && (r.Err != nil || string(r.Value) != want) {
				t.Errorf("%s: got %q, %v; want %q", r.Reference, r.Value, r.Err, want)
			}
			continue
		}
		want := bad[r.Reference]
		checkErr(t, r, want)
	}
}

func checkErr(t *testing.T, r provider.ResolveResult, want wantErr) {
	t.Helper()
	if r.Err == nil {
		t.Errorf("%s: got %q, want a %s error", r.Reference, r.Value, want.code)
		return
	}
	if r.Err.Code != want.code {
		t.Errorf("%s: code %s, want %s: %s", r.Reference, r.Err.Code, want.code, r.Err.Message)
	}
	for _, s := range want.has {
		if !strings.Contains(r.Err.Message, s) {
			t.Errorf("%s: message lacks %q: %s", r.Reference, s, r.Err.Message)
		}
	}
	for _, s := range fixture.Secrets() {
		if strings.Contains(r.Err.Error(), s) {
			t.Errorf("%s: message leaks a secret: %s", r.Reference, r.Err.Message)
		}
	}
}

func TestWrongToken(t *testing.T) {
	fx := fixture.New()
	srv := emulator.NewTestServer(t, fx.Data)
	p := configured(t, srv.URL(), "wrong-token-value")
	for _, r := range resolve(t, p, "op://Production/Postgres/password", "op://"+fx.Production.ID+"/"+fx.Postgres.ID+"/password") {
		checkErr(t, r, wantErr{provider.CodeUnauthenticated, []string{"rejected the token", AttrToken, "401"}})
		if strings.Contains(r.Err.Message, "wrong-token-value") {
			t.Errorf("token echoed")
		}
	}
	if n := srv.RequestCount(); n != 2 {
		t.Errorf("%d requests; a 401 must not be retried", n)
	}
}

func TestRateLimitedAndUnavailable(t *testing.T) {
	fx := fixture.New()
	srv := emulator.NewTestServer(t, fx.Data)
	p := configured(t, srv.URL(), fixture.Token, AttrMaxRetries, "2")
	itemPath := "/v1/vaults/" + fx.Production.ID + "/items/" + fx.Postgres.ID
	srv.AddFault(emulator.Fault{Kind: emulator.FaultRateLimit, Path: itemPath, RetryAfter: time.Minute})
	srv.AddFault(emulator.Fault{Kind: emulator.FaultStatus, Status: 502, Path: "/v1/vaults/" + fx.Production.ID + "/items/" + fx.GitHub.ID})
	res := resolve(t, p,
		"op://"+fx.Production.ID+"/"+fx.Postgres.ID+"/password",
		"op://"+fx.Production.ID+"/"+fx.GitHub.ID+"/password",
		"op://"+fx.Production.ID+"/"+fx.API.ID+"/Primary/key")
	checkErr(t, res[0], wantErr{provider.CodeRateLimited, []string{"429"}})
	if res[0].Err != nil && res[0].Err.RetryAfter != time.Minute {
		t.Errorf("RetryAfter %s", res[0].Err.RetryAfter)
	}
	checkErr(t, res[1], wantErr{provider.CodeUnavailable, []string{"502"}})
	if res[2].Err != nil || string(res[2].Value) != fixture.APIKey1 {
		t.Errorf("an unrelated item failed too: %v", res[2].Err)
	}
	counts := map[string]int{}
	for _, r := range srv.Requests() {
		counts[r.Path]++
	}
	if counts[itemPath] != 1 {
		t.Errorf("429 with a minute's Retry-After: %d requests, want 1", counts[itemPath])
	}
	if n := counts["/v1/vaults/"+fx.Production.ID+"/items/"+fx.GitHub.ID]; n != 3 {
		t.Errorf("persistent 502: %d requests, want 3 (1 + max_retries 2)", n)
	}
}

func TestTimeoutStaysWithinDeadline(t *testing.T) {
	fx := fixture.New()
	srv := emulator.NewTestServer(t, fx.Data)
	srv.AddFault(emulator.Fault{Kind: emulator.FaultDelay, Delay: 10 * time.Second, Path: "/v1/vaults/" + fx.Production.ID + "/items/" + fx.Postgres.ID})
	p := configured(t, srv.URL(), fixture.Token) // request_timeout 10s: the caller's deadline must win
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	resp, err := p.Resolve(ctx, provider.ResolveRequest{References: []string{
		"op://" + fx.Production.ID + "/" + fx.Postgres.ID + "/password",
		"op://" + fx.Production.ID + "/" + fx.GitHub.ID + "/password",
	}})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d >= time.Second {
		t.Errorf("returned after %s, past the caller's 1s deadline", d)
	}
	checkErr(t, resp.Results[0], wantErr{provider.CodeUnavailable, []string{"deadline"}})
	if resp.Results[1].Err != nil {
		t.Errorf("the fast item failed: %v", resp.Results[1].Err)
	}

	// A short request_timeout: retried, then unavailable, well within the
	// deadline. (A fresh server: the first one may still log the request
	// abandoned above.)
	srv = emulator.NewTestServer(t, fx.Data)
	srv.AddFault(emulator.Fault{Kind: emulator.FaultDelay, Delay: 10 * time.Second, Path: "/v1/vaults/" + fx.Production.ID + "/items/" + fx.Postgres.ID})
	p = configured(t, srv.URL(), fixture.Token, AttrRequestTimeout, "150ms", AttrMaxRetries, "1")
	start = time.Now()
	res := resolve(t, p, "op://"+fx.Production.ID+"/"+fx.Postgres.ID+"/password")
	checkErr(t, res[0], wantErr{provider.CodeUnavailable, []string{"150ms", "request_timeout", "2 attempts"}})
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s", d)
	}
	if n := settledCount(srv, 2); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s", d)
	}
}

// stripTOTP serves the emulator with every "totp" key removed, like a
// Connect server older than 1.4.0.
func stripTOTP(h http.Handler) http.Handler {
	re := regexp.MustCompile(`,?"totp":"[0-9]*"`)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		body := re.ReplaceAll(rec.Body.Bytes(), nil)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		w.Write(body)
	})
}

func TestOTPComputedWhenServerSendsNone(t *testing.T) {
	fx := fixture.New()
	em, err := emulator.New(fx.Data)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(stripTOTP(em))
	defer srv.Close()
	p := configured(t, srv.URL, fixture.Token)
	now := time.Date(2030, 1, 1, 0, 0, 10, 0, time.UTC)
	p.now = func() time.Time { return now }
	want, _ := totp.GenerateCode(fixture.OTPSecret, now)
	res := resolve(t, p, "op://Production/GitHub/one-time password?attribute=otp", "op://Production/GitHub/broken otp?attribute=otp")
	if res[0].Err != nil || string(res[0].Value) != want {
		t.Errorf("got %q, %v; want %s", res[0].Value, res[0].Err, want)
	}
	checkErr(t, res[1], wantErr{provider.CodeNotFound, []string{"no current code"}})
}

func TestCheck(t *testing.T) {
	fx := fixture.New()
	srv := emulator.NewTestServer(t, fx.Data)
	c, err := configured(t, srv.URL(), fixture.Token).Check(context.Background(), provider.CheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	text := fmt.Sprintf("%+v", c)
	if !c.Healthy {
		t.Errorf("unhealthy: %s", text)
	}
	for _, s := range []string{"/heartbeat", "/health", "sync ACTIVE", "token accepted", `vault "Production"`, `vault "Team"`, fx.Team2.ID, "3 vaults visible"} {
		if !strings.Contains(text, s) {
			t.Errorf("check lacks %q: %s", s, text)
		}
	}
	if strings.Contains(text, "Secret Ops") {
		t.Errorf("lists a vault the token cannot see: %s", text)
	}

	c, _ = configured(t, srv.URL(), "bad-token").Check(context.Background(), provider.CheckRequest{})
	if c.Healthy || !strings.Contains(fmt.Sprint(c.Items), "unauthenticated") || strings.Contains(fmt.Sprint(c.Items), "bad-token") {
		t.Errorf("bad token: %+v", c)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _ = configured(t, "http://127.0.0.1:1", fixture.Token, AttrMaxRetries, "0").Check(ctx, provider.CheckRequest{})
	if c.Healthy || !strings.Contains(fmt.Sprint(c.Items), "cannot reach Connect") {
		t.Errorf("unreachable: %+v", c)
	}
}

// settledCount waits (briefly) for the emulator to log requests the client
// abandoned: it logs a request when its handler returns, which for an
// abandoned one is whenever the server notices the closed connection.
func settledCount(srv *emulator.Server, want int) int {
	deadline := time.Now().Add(2 * time.Second)
	for srv.RequestCount() < want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // and no more than that arrive
	return srv.RequestCount()
}

// timeline renders the server's request log relative to start.
func timeline(reqs []emulator.Request, start time.Time) string {
	var b strings.Builder
	for _, r := range reqs {
		fmt.Fprintf(&b, "  %8.1fms %+8.1fms %d %s?%s\n", float64(r.Time.Sub(start).Microseconds())/1000,
			float64(r.Duration.Microseconds())/1000, r.Status, r.Path, r.RawQuery)
	}
	return b.String()
}
