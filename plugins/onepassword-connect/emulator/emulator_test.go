package emulator

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secrethost/secrethost/internal/syncbuf"

	"github.com/pquerna/otp/totp"
)

func TestUnauthenticatedEndpoints(t *testing.T) {
	srv := newFixture().start(t)

	status, h, body := get(t, srv.URL(), "/heartbeat", "")
	if status != 200 || string(body) != "." || h.Get("Content-Type") != "text/plain" {
		t.Errorf("heartbeat: %d %q %q", status, h.Get("Content-Type"), body)
	}

	var health struct {
		Name         string `json:"name"`
		Version      string `json:"version"`
		Dependencies []struct{ Service, Status string }
	}
	getJSON(t, srv.URL(), "/health", "", 200, &health)
	if health.Name != "1Password Connect API" || health.Version != ConnectVersion || len(health.Dependencies) != 2 {
		t.Errorf("health: %+v", health)
	}

	status, h, body = get(t, srv.URL(), "/metrics", "")
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics: %d %q", status, h.Get("Content-Type"))
	}
	for _, want := range []string{
		`connect_emulator_requests_total{method="GET",route="/heartbeat",code="200"} 1`,
		`connect_emulator_requests_total{method="GET",route="/health",code="200"} 1`,
		"# TYPE connect_emulator_requests_total counter",
		"connect_emulator_requests_in_flight_max 1",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lacks %q:\n%s", want, body)
		}
	}
}

func TestAuthentication(t *testing.T) {
	srv := newFixture().start(t)
	for name, header := range map[string]string{
		"missing":       "",
		"not bearer":    "Basic dXNlcjpwYXNz",
		"empty bearer":  "Bearer ",
		"no space":      "Bearertest-token",
		"unknown token": "Bearer wrong-token",
	} {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL()+"/v1/vaults", nil)
			if header != "" {
				req.Header.Set("Authorization", header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e apiError
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 401 || e != (apiError{401, "Invalid bearer token"}) {
				t.Errorf("got %d %+v", resp.StatusCode, e)
			}
			if resp.Header.Get(versionHeader) != ConnectVersion {
				t.Error("401 lacks the version header")
			}
		})
	}
	// The scheme is case-insensitive.
	req, _ := http.NewRequest(http.MethodGet, srv.URL()+"/v1/vaults", nil)
	req.Header.Set("Authorization", "bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("lowercase bearer: %d", resp.StatusCode)
	}
}

func TestListVaults(t *testing.T) {
	fx := newFixture()
	srv := fx.start(t)

	var vaults []map[string]any
	getJSON(t, srv.URL(), "/v1/vaults", "admin", 200, &vaults)
	if len(vaults) != 2 {
		t.Fatalf("admin sees %d vaults, want 2", len(vaults))
	}
	getJSON(t, srv.URL(), "/v1/vaults", testToken, 200, &vaults)
	if len(vaults) != 1 || vaults[0]["id"] != fx.demo.ID {
		t.Fatalf("test token sees %v, want only Demo", vaults)
	}
	v := vaults[0]
	for _, k := range []string{"name", "attributeVersion", "contentVersion", "items", "type", "createdAt", "updatedAt"} {
		if _, ok := v[k]; !ok {
			t.Errorf("vault lacks %q: %v", k, v)
		}
	}
	if v["items"] != float64(3) || v["type"] != "USER_CREATED" {
		t.Errorf("vault: %v", v)
	}

	tests := []struct {
		query string
		want  int // number of vaults, for the admin token
	}{
		{`?filter=title+eq+%22Demo%22`, 1},     // the SDK's encoding: + for space
		{`?filter=title%20eq%20%22demo%22`, 1}, // case-insensitive
		{`?filter=name+eq+%22DEMO%22`, 1},      // documented attribute
		{`?filter=title+eq+%22Nope%22`, 0},
		{`?filter=name+co+%22p%22`, 1}, // "Ops"; "Demo" has no p
		{`?filter=`, 2},                // empty filter: no filter
	}
	for _, tt := range tests {
		status, _, body := get(t, srv.URL(), "/v1/vaults"+tt.query, "admin")
		if err := json.Unmarshal(body, &vaults); status != 200 || err != nil || len(vaults) != tt.want {
			t.Errorf("%s: %d %s, want %d vaults", tt.query, status, body, tt.want)
		}
		if tt.want == 0 && string(body) != "[]" {
			t.Errorf("%s: empty result %q, want []", tt.query, body)
		}
	}
	// Filters never reveal ungranted vaults.
	getJSON(t, srv.URL(), `/v1/vaults?filter=title+eq+%22Ops%22`, testToken, 200, &vaults)
	if len(vaults) != 0 {
		t.Errorf("test token found Ops through a filter")
	}
	for _, bad := range []string{
		`?filter=title+eq+Demo`, `?filter=title+eq+'Demo'`, `?filter=tag+eq+%22x%22`, `?filter=title+sw+%22D%22`,
		`?filter=%22Demo%22`, `?filter=title`, `?filter=%zz`,
	} {
		wantError(t, srv.URL(), "/v1/vaults"+bad, testToken, 400, "Invalid")
	}
}

func TestGetVault(t *testing.T) {
	fx := newFixture()
	srv := fx.start(t)
	var v map[string]any
	getJSON(t, srv.URL(), "/v1/vaults/"+fx.demo.ID, testToken, 200, &v)
	if v["id"] != fx.demo.ID || v["name"] != "Demo" {
		t.Errorf("vault: %v", v)
	}
	wantError(t, srv.URL(), "/v1/vaults/Demo", testToken, 400, "Invalid Vault UUID")
	wantError(t, srv.URL(), "/v1/vaults/"+strings.ToUpper(fx.demo.ID), testToken, 400, "Invalid Vault UUID")
	wantError(t, srv.URL(), "/v1/vaults/"+fx.ops.ID, testToken, 403, msgNoVaultAccess)
	unknown := NewID("nope")
	wantError(t, srv.URL(), "/v1/vaults/"+unknown, testToken, 404, "vault "+unknown+" not found")
	wantError(t, srv.URL(), "/v1/vaults/"+fx.demo.ID, "", 401, msgInvalidToken)
}

func TestListItems(t *testing.T) {
	fx := newFixture()
	srv := fx.start(t)
	base := "/v1/vaults/" + fx.demo.ID + "/items"

	var items []map[string]any
	getJSON(t, srv.URL(), base, testToken, 200, &items)
	if len(items) != 3 {
		t.Fatalf("%d items, want 3", len(items))
	}
	pg := items[0]
	if pg["title"] != "Postgres" || pg["vault"].(map[string]any)["id"] != fx.demo.ID {
		t.Errorf("summary: %v", pg)
	}
	for _, k := range []string{"id", "category", "version", "createdAt", "updatedAt", "tags", "lastEditedBy"} {
		if _, ok := pg[k]; !ok {
			t.Errorf("summary lacks %q", k)
		}
	}
	for _, k := range []string{"fields", "sections", "files"} {
		if _, ok := pg[k]; ok {
			t.Errorf("summary has %q", k)
		}
	}
	if _, ok := items[1]["urls"]; !ok {
		t.Errorf("GitHub summary lacks urls")
	}

	count := func(query string) int {
		t.Helper()
		var got []Item
		getJSON(t, srv.URL(), base+query, testToken, 200, &got)
		return len(got)
	}
	for query, want := range map[string]int{
		`?filter=title+eq+%22Postgres%22`: 1,
		`?filter=title+eq+%22postgres%22`: 0, // item titles are case-sensitive
		`?filter=tag+eq+%22prod%22`:       1,
		`?filter=tag+eq+%22Prod%22`:       0,
		`?filter=title+co+%22G%22`:        1, // GitHub
		`?filter=title+co+%22%22`:         3,
	} {
		if got := count(query); got != want {
			t.Errorf("%s: %d items, want %d", query, got, want)
		}
	}
	status, _, body := get(t, srv.URL(), base+`?filter=title+eq+%22zzz%22`, testToken)
	if status != 200 || string(body) != "[]" {
		t.Errorf("no match: %d %q, want []", status, body)
	}
	wantError(t, srv.URL(), base+`?filter=name+eq+%22x%22`, testToken, 400, "Invalid filter")
	wantError(t, srv.URL(), base+`?filter=tag+co+%22x%22`, testToken, 400, "Invalid filter")
	wantError(t, srv.URL(), "/v1/vaults/"+fx.ops.ID+"/items", testToken, 403, msgNoVaultAccess)
	wantError(t, srv.URL(), "/v1/vaults/bad/items", testToken, 400, "Invalid Vault UUID")
}

func TestGetItem(t *testing.T) {
	fx := newFixture()
	srv := fx.start(t)

	var pg map[string]any
	getJSON(t, srv.URL(), "/v1/vaults/"+fx.demo.ID+"/items/"+fx.postgres.ID, testToken, 200, &pg)
	fields := pg["fields"].([]any)
	if len(fields) != 4 || len(pg["sections"].([]any)) != 1 {
		t.Fatalf("item: %v", pg)
	}
	empty := fields[2].(map[string]any)
	if _, ok := empty["value"]; ok {
		t.Errorf("empty value is sent: %v", empty)
	}
	replica := fields[3].(map[string]any)
	if sec := replica["section"].(map[string]any); sec["id"] != fx.replica.ID || len(sec) != 1 {
		t.Errorf("field section should be {id} only: %v", sec)
	}
	file := pg["files"].([]any)[0].(map[string]any)
	wantPath := "/v1/vaults/" + fx.demo.ID + "/items/" + fx.postgres.ID + "/files/" + fx.caFile.ID + "/content"
	if file["content_path"] != wantPath || file["size"] != float64(28) {
		t.Errorf("file: %v", file)
	}
	if _, ok := file["content"]; ok {
		t.Errorf("full item inlines file content")
	}

	var gh Item
	getJSON(t, srv.URL(), "/v1/vaults/"+fx.demo.ID+"/items/"+fx.github.ID, testToken, 200, &gh)
	want, err := totp.GenerateCode(GeneratedOTPSecret, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	if gh.Fields[0].TOTP != want {
		t.Errorf("totp = %q, want %q", gh.Fields[0].TOTP, want)
	}
	if gh.Fields[1].TOTP != "" {
		t.Errorf("malformed seed got a totp %q", gh.Fields[1].TOTP)
	}
	if gh.Vault.ID != fx.demo.ID || gh.CreatedAt.IsZero() {
		t.Errorf("item: %+v", gh)
	}

	unknown := NewID("nope")
	wantError(t, srv.URL(), "/v1/vaults/"+fx.demo.ID+"/items/"+unknown, testToken, 404, "item "+unknown+" not found")
	wantError(t, srv.URL(), "/v1/vaults/"+fx.demo.ID+"/items/Postgres", testToken, 400, "Invalid Item UUID")
	wantError(t, srv.URL(), "/v1/vaults/"+fx.ops.ID+"/items/"+fx.ops.Items[0].ID, testToken, 403, msgNoVaultAccess)
	// An item in another vault is not found through this one.
	wantError(t, srv.URL(), "/v1/vaults/"+fx.demo.ID+"/items/"+fx.ops.Items[0].ID, "admin", 404, "item ")
}

func TestTOTPFollowsTheClock(t *testing.T) {
	fx := newFixture()
	var mu sync.Mutex
	now := fixedNow
	srv := NewTestServer(t, fx.data, WithClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now }))
	code := func() string {
		var it Item
		getJSON(t, srv.URL(), "/v1/vaults/"+fx.demo.ID+"/items/"+fx.github.ID, testToken, 200, &it)
		return it.Fields[0].TOTP
	}
	first := code()
	mu.Lock()
	now = now.Add(30 * time.Second)
	mu.Unlock()
	second := code()
	want, _ := totp.GenerateCode(GeneratedOTPSecret, fixedNow.Add(30*time.Second))
	if first == second || second != want {
		t.Errorf("codes %q then %q, want a new code %q", first, second, want)
	}
}

func TestFiles(t *testing.T) {
	fx := newFixture()
	big := fx.api.AddFile("big.bin", bytes.Repeat([]byte{0xff}, 64))
	srv := fx.start(t, WithInlineFileLimit(32))
	pgFiles := "/v1/vaults/" + fx.demo.ID + "/items/" + fx.postgres.ID + "/files"

	var files []map[string]any
	getJSON(t, srv.URL(), pgFiles, testToken, 200, &files)
	if len(files) != 1 || files[0]["name"] != "ca.pem" || files[0]["content"] != nil {
		t.Errorf("files: %v", files)
	}
	for _, q := range []string{"?inline_files=true", "?inline_content=true"} {
		getJSON(t, srv.URL(), pgFiles+q, testToken, 200, &files)
		got, _ := base64.StdEncoding.DecodeString(files[0]["content"].(string))
		if string(got) != "-----BEGIN CERTIFICATE-----\n" {
			t.Errorf("%s: content %q", q, got)
		}
	}
	var one map[string]any
	getJSON(t, srv.URL(), pgFiles+"/"+fx.caFile.ID, testToken, 200, &one)
	if one["id"] != fx.caFile.ID || one["content"] != nil || !strings.HasPrefix(one["content_path"].(string), "/v1/") {
		t.Errorf("file: %v", one)
	}

	apiFiles := "/v1/vaults/" + fx.demo.ID + "/items/" + fx.api.ID + "/files"
	wantError(t, srv.URL(), apiFiles+"?inline_files=true", testToken, 413, "File is too large to inline")
	wantError(t, srv.URL(), apiFiles+"/"+big.ID+"?inline_files=true", testToken, 413, "File is too large to inline")
	getJSON(t, srv.URL(), apiFiles+"/"+big.ID, testToken, 200, nil) // metadata only is fine

	status, h, body := get(t, srv.URL(), pgFiles+"/"+fx.caFile.ID+"/content", testToken)
	if status != 200 || string(body) != "-----BEGIN CERTIFICATE-----\n" {
		t.Errorf("content: %d %q", status, body)
	}
	if h.Get("Content-Type") != "application/octet-stream" || h.Get("Content-Length") != "28" ||
		h.Get("Content-Disposition") != "attachment; filename=ca.pem" || h.Get(versionHeader) != ConnectVersion {
		t.Errorf("content headers: %v", h)
	}

	nofile := NewID("nofile")
	wantError(t, srv.URL(), pgFiles+"/"+nofile, testToken, 404, "file "+nofile+" not found")
	wantError(t, srv.URL(), pgFiles+"/"+nofile+"/content", testToken, 404, "file "+nofile+" not found")
	// File IDs are checked like vault and item IDs.
	wantError(t, srv.URL(), pgFiles+"/nofile", testToken, 400, "Invalid File UUID")
	wantError(t, srv.URL(), pgFiles+"/nofile/content", testToken, 400, "Invalid File UUID")
	// A trailing slash on a collection path, as connect-sdk-js sends it, is the collection.
	getJSON(t, srv.URL(), pgFiles+"/", testToken, 200, nil)
	getJSON(t, srv.URL(), "/v1/vaults/", testToken, 200, nil)
	wantError(t, srv.URL(), "/v1/vaults/"+fx.ops.ID+"/items/"+fx.ops.Items[0].ID+"/files", testToken, 403, msgNoVaultAccess)
	getJSON(t, srv.URL(), "/v1/vaults/"+fx.demo.ID+"/items/"+fx.github.ID+"/files", testToken, 200, &files)
	if len(files) != 0 {
		t.Errorf("GitHub has files: %v", files)
	}
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	srv := newFixture().start(t)
	wantError(t, srv.URL(), "/nope", "", 404, "Not Found")
	// /v1 needs a token first. (/v1/activity, once the unknown route here, is served now: see spec_test.go.)
	wantError(t, srv.URL(), "/v1/nope", "", 401, msgInvalidToken)
	wantError(t, srv.URL(), "/v1/nope", testToken, 404, "Not Found")
	wantError(t, srv.URL(), "/v1/activity", "", 401, msgInvalidToken)
	wantError(t, srv.URL(), "//v1/vaults", testToken, 404, "Not Found")

	req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/v1/vaults", strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("POST: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestTracingHeadersIgnored(t *testing.T) {
	fx := newFixture()
	srv := fx.start(t)
	req, _ := http.NewRequest(http.MethodGet, srv.URL()+"/v1/vaults/"+fx.demo.ID, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("X-B3-Traceid", "garbage")
	req.Header.Set("X-B3-Sampled", "maybe")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("status %d", resp.StatusCode)
	}
}

func TestRequestLog(t *testing.T) {
	fx := newFixture()
	var logBuf syncbuf.Buffer
	srv := fx.start(t, WithLogger(&logBuf))
	get(t, srv.URL(), "/v1/vaults?filter=title+eq+%22Demo%22", testToken)
	get(t, srv.URL(), "/v1/vaults", "")

	reqs := srv.Requests()
	if len(reqs) != 2 || srv.RequestCount() != 2 {
		t.Fatalf("requests: %+v", reqs)
	}
	r := reqs[0]
	if r.Method != "GET" || r.Path != "/v1/vaults" || r.RawQuery != "filter=title+eq+%22Demo%22" ||
		r.Status != 200 || !r.TokenPresent || r.Route != routeVaults || r.Time.IsZero() {
		t.Errorf("request: %+v", r)
	}
	if reqs[1].TokenPresent || reqs[1].Status != 401 {
		t.Errorf("request: %+v", reqs[1])
	}
	if strings.Contains(fmt.Sprintf("%+v", reqs), testToken) || strings.Contains(logBuf.String(), testToken) {
		t.Error("the token leaked into the request log")
	}
	if !strings.Contains(logBuf.String(), "GET /v1/vaults?filter=title+eq+%22Demo%22 -> 200") {
		t.Errorf("log: %s", logBuf.String())
	}
	srv.ResetRequests()
	if srv.RequestCount() != 0 {
		t.Error("ResetRequests kept requests")
	}
}

func TestMaxInFlightAndLatency(t *testing.T) {
	// A long latency keeps the four requests overlapping even on a loaded machine.
	srv := newFixture().start(t, WithLatency(200*time.Millisecond))
	start := time.Now()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { get(t, srv.URL(), "/heartbeat", "") })
	}
	wg.Wait()
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("4 requests took %v despite 200ms latency", d)
	}
	if m := srv.MaxInFlight(); m < 2 || m > 4 {
		t.Errorf("MaxInFlight = %d, want 2..4 for 4 concurrent slow requests", m)
	}
	srv.ResetRequests()
	get(t, srv.URL(), "/heartbeat", "")
	if m := srv.MaxInFlight(); m != 1 {
		t.Errorf("after reset MaxInFlight = %d, want 1", m)
	}
}

func TestPutAndDeleteItem(t *testing.T) {
	fx := newFixture()
	srv := fx.start(t)
	itemPath := "/v1/vaults/" + fx.demo.ID + "/items/" + fx.api.ID

	it, ok := srv.Item(fx.demo.ID, fx.api.ID)
	if !ok {
		t.Fatal("Item: not found")
	}
	it.Fields[0].Value = "rotated"
	if err := srv.PutItem(fx.demo.ID, it); err != nil {
		t.Fatal(err)
	}
	var got Item
	getJSON(t, srv.URL(), itemPath, testToken, 200, &got)
	if got.Fields[0].Value != "rotated" || got.Version != 2 {
		t.Errorf("after PutItem: value %q version %d", got.Fields[0].Value, got.Version)
	}

	added := &Item{ID: NewID("new"), Title: "New", Category: "PASSWORD"}
	if err := srv.PutItem(fx.demo.ID, added); err != nil {
		t.Fatal(err)
	}
	var items []Item
	getJSON(t, srv.URL(), "/v1/vaults/"+fx.demo.ID+"/items", testToken, 200, &items)
	if len(items) != 4 || items[3].Version != 1 || items[3].Vault.ID != fx.demo.ID {
		t.Errorf("after adding: %+v", items)
	}

	if err := srv.DeleteItem(fx.demo.ID, fx.api.ID); err != nil {
		t.Fatal(err)
	}
	wantError(t, srv.URL(), itemPath, testToken, 404, "item ")

	if err := srv.PutItem(fx.demo.ID, &Item{ID: "bad", Title: "x", Category: "LOGIN"}); err == nil {
		t.Error("PutItem accepted a bad ID")
	}
	if err := srv.PutItem(fx.demo.ID, fx.ops.Items[0]); err == nil {
		t.Error("PutItem moved an item between vaults")
	}
	if err := srv.DeleteItem(fx.demo.ID, fx.api.ID); err == nil {
		t.Error("DeleteItem of a deleted item succeeded")
	}
}

// TestOnRequestMutatesBetweenListAndFetch simulates an item being deleted after a client has
// listed it but before it fetches it: the hook runs before the list response is sent.
func TestOnRequestMutatesBetweenListAndFetch(t *testing.T) {
	fx := newFixture()
	srv := fx.start(t)
	srv.OnRequest(func(r Request) {
		if r.Route == routeItems {
			if err := srv.DeleteItem(fx.demo.ID, fx.postgres.ID); err != nil {
				t.Error(err)
			}
			srv.OnRequest(nil)
		}
	})
	var items []Item
	getJSON(t, srv.URL(), "/v1/vaults/"+fx.demo.ID+"/items?filter=title+eq+%22Postgres%22", testToken, 200, &items)
	if len(items) != 1 {
		t.Fatalf("list: %+v", items)
	}
	wantError(t, srv.URL(), "/v1/vaults/"+fx.demo.ID+"/items/"+items[0].ID, testToken, 404, "item ")
}

func TestServeHTTPWithoutListener(t *testing.T) {
	fx := newFixture()
	srv, err := New(fx.data)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/v1/vaults/"+fx.demo.ID, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	srv.ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Header().Get(versionHeader) != ConnectVersion {
		t.Errorf("%d %v", rec.Code, rec.Header())
	}
	if srv.URL() != "" {
		t.Errorf("URL() = %q before Start", srv.URL())
	}
}

func TestStartCloseRestart(t *testing.T) {
	srv, err := New(newFixture().data)
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Start("127.0.0.1:0"); err == nil {
		t.Error("second Start succeeded")
	}
	get(t, url, "/heartbeat", "")
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := http.Get(url + "/heartbeat"); err == nil {
		t.Error("request after Close succeeded")
	}
	url2, err := srv.Start(strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatalf("restart on the same address: %v", err)
	}
	defer srv.Close()
	if url2 != url {
		t.Errorf("restarted on %s, want %s", url2, url)
	}
	get(t, url, "/heartbeat", "")
}

func TestNewRejects(t *testing.T) {
	fx := newFixture()
	for name, opt := range map[string]Option{
		"unknown vault grant": WithToken("t", NewID("nope")),
		"empty token":         WithToken("", AllVaults),
		"negative latency":    WithLatency(-time.Second),
		"nil clock":           WithClock(nil),
		"negative limit":      WithInlineFileLimit(-1),
	} {
		if _, err := New(fx.data, opt); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	bad := newFixture()
	bad.demo.ID = "x"
	if _, err := New(bad.data); err == nil {
		t.Error("New accepted an invalid vault ID")
	}
	if _, err := New(nil); err != nil {
		t.Errorf("New(nil): %v", err)
	}
}

// New must copy the data: changing the fixture afterwards does not change responses.
func TestNewCopiesData(t *testing.T) {
	fx := newFixture()
	srv := fx.start(t)
	fx.api.Fields[0].Value = "changed after New"
	var it Item
	getJSON(t, srv.URL(), "/v1/vaults/"+fx.demo.ID+"/items/"+fx.api.ID, testToken, 200, &it)
	if it.Fields[0].Value != "api-token" {
		t.Errorf("server shares memory with the fixture: %q", it.Fields[0].Value)
	}
}

// TestAndOrFilters: the item filter from 1Password's API reference (`title eq "…" or tag eq
// "…"`) and an `and` reach the list endpoints and select what they say; an unparsable
// expression is a 400, never a silently empty list.
func TestAndOrFilters(t *testing.T) {
	fx := newFixture()
	srv := fx.start(t)
	items := "/v1/vaults/" + fx.demo.ID + "/items?filter="
	for filter, want := range map[string][]string{
		`title eq "GitHub" or tag eq "db"`:    {fx.postgres.ID, fx.github.ID},
		`title eq "Postgres" and tag eq "db"`: {fx.postgres.ID},
		`title eq "Postgres" and tag eq "no"`: {},
		`tag eq "no" or title co "AP"`:        {fx.api.ID},
	} {
		var got []Item
		getJSON(t, srv.URL(), items+url.QueryEscape(filter), testToken, 200, &got)
		ids := []string{}
		for _, it := range got {
			ids = append(ids, it.ID)
		}
		slices.Sort(ids)
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			t.Errorf("%s: got %v, want %v", filter, ids, want)
		}
	}
	var vs []vaultView
	getJSON(t, srv.URL(), "/v1/vaults?filter="+url.QueryEscape(`name eq "nope" or name eq "demo"`), testToken, 200, &vs)
	if len(vs) != 1 || vs[0].ID != fx.demo.ID {
		t.Errorf("vault or-filter: %+v", vs)
	}
	wantError(t, srv.URL(), items+url.QueryEscape(`title eq "a" and tag sw "b"`), testToken, 400, "Invalid filter")
	wantError(t, srv.URL(), "/v1/vaults?filter="+url.QueryEscape(`name eq "a" or tag eq "b"`), testToken, 400, "Invalid filter")
}
