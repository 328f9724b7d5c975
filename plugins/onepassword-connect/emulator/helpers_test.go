package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

const testToken = "test-token"

// fixedNow is the clock for tests that check TOTP codes.
var fixedNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// fixture is a small data set covering every route: vault "Demo" (granted to testToken) with
// items Postgres (sectioned duplicate label, a file), GitHub (OTP) and API; vault "Ops" (not
// granted); and an "admin" token for all vaults.
type fixture struct {
	data                  *Data
	demo, ops             *Vault
	postgres, github, api *Item
	caFile                *File
	replica               *Section
}

func newFixture() *fixture {
	fx := &fixture{data: NewData()}
	fx.demo = fx.data.AddVault("Demo")
	fx.ops = fx.data.AddVault("Ops")

	fx.postgres = fx.demo.AddItem("Postgres", "DATABASE")
	fx.postgres.Tags = []string{"db", "prod"}
	fx.postgres.AddField(Field{ID: "username", Purpose: "USERNAME", Label: "username", Value: "app"})
	fx.postgres.AddField(Field{ID: "password", Type: "CONCEALED", Purpose: "PASSWORD", Label: "password", Value: "primary-pw"})
	fx.postgres.AddField(Field{ID: "empty", Label: "empty"})
	fx.replica = fx.postgres.AddSection("Replica")
	fx.postgres.AddField(Field{Section: fx.replica.Ref(), Type: "CONCEALED", Label: "password", Value: "replica-pw"})
	fx.caFile = fx.postgres.AddFile("ca.pem", []byte("-----BEGIN CERTIFICATE-----\n"))

	fx.github = fx.demo.AddItem("GitHub", "LOGIN")
	fx.github.URLs = []URL{{Href: "https://github.com", Primary: true}}
	fx.github.AddField(Field{ID: "TOTP_abc", Type: "OTP", Label: "one-time password",
		Value: "otpauth://totp/GitHub:bot?secret=" + GeneratedOTPSecret + "&issuer=GitHub"})
	fx.github.AddField(Field{ID: "bad_otp", Type: "OTP", Label: "broken", Value: "not a seed!"})

	fx.api = fx.demo.AddItem("API", "API_CREDENTIAL")
	fx.api.AddField(Field{Type: "CONCEALED", Label: "token", Value: "api-token"})

	deploy := fx.ops.AddItem("Deploy Key", "PASSWORD")
	deploy.AddField(Field{ID: "password", Type: "CONCEALED", Purpose: "PASSWORD", Label: "password", Value: "ops-secret"})

	fx.data.Grant(testToken, fx.demo.ID)
	fx.data.Grant("admin", AllVaults)
	return fx
}

// start serves the fixture on a loopback port with a fixed clock.
func (fx *fixture) start(t *testing.T, opts ...Option) *Server {
	t.Helper()
	return NewTestServer(t, fx.data, append([]Option{WithClock(func() time.Time { return fixedNow })}, opts...)...)
}

// get sends GET base+path with the token (none if token is "") and returns status, headers
// and body.
func get(t *testing.T, base, path, token string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", path, err)
	}
	return resp.StatusCode, resp.Header, body
}

// getJSON is get plus decoding into out, failing unless the status is want.
func getJSON(t *testing.T, base, path, token string, want int, out any) http.Header {
	t.Helper()
	status, h, body := get(t, base, path, token)
	if status != want {
		t.Fatalf("GET %s: status %d, want %d; body %s", path, status, want, body)
	}
	if ct := h.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET %s: Content-Type %q", path, ct)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("GET %s: decoding %s: %v", path, body, err)
		}
	}
	return h
}

// wantError checks a Connect error reply.
func wantError(t *testing.T, base, path, token string, status int, msgPrefix string) {
	t.Helper()
	var e apiError
	h := getJSON(t, base, path, token, status, &e)
	if e.Status != status || !strings.HasPrefix(e.Message, msgPrefix) {
		t.Errorf("GET %s: got %+v, want status %d and a message starting %q", path, e, status, msgPrefix)
	}
	if h.Get(versionHeader) != ConnectVersion {
		t.Errorf("GET %s: error reply lacks %s", path, versionHeader)
	}
}
