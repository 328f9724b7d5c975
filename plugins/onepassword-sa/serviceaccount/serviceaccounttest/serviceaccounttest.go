// Package serviceaccounttest holds test helpers for the service-account
// plugin that its own tests and the end-to-end tests (e2e/onepassword-sa)
// share: a token the SDK accepts offline, a guard for tests that must stay
// offline, the references Validate is checked with, and what the tests of
// the binary need (a malformed token and its reason, a context, a logger).
package serviceaccounttest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/shared/provider"
)

// WellFormedFakeToken builds a token in the service account token format
// (ops_ + base64url of the credentials JSON) with made-up values: the SDK
// accepts its format offline and then tries to sign in at signIn, which is
// the point. It is not, and cannot become, a credential. (An all-zero srpX
// fails the SDK's parsing; an all-zero throttle seed makes its core trap
// with "wasm error: unreachable".)
func WellFormedFakeToken(signIn string) string {
	zeros := func(n int) string { return base64.RawURLEncoding.EncodeToString(make([]byte, n)) }
	creds := map[string]any{
		"signInAddress":  signIn,
		"userAuth":       map[string]any{"method": "SRPg-4096", "alg": "PBES2g-HS256", "iterations": 650000, "salt": zeros(16)},
		"email":          "secrethost-test@1passwordserviceaccounts.com",
		"srpX":           strings.Repeat("0", 63) + "1",
		"muk":            map[string]any{"alg": "A256GCM", "ext": true, "k": zeros(32), "key_ops": []string{"encrypt", "decrypt"}, "kty": "oct", "kid": "mp"},
		"secretKey":      "A3-AAAAAA-AAAAAA-AAAAA-AAAAA-AAAAA-AAAAA",
		"throttleSecret": map[string]any{"seed": strings.Repeat("0", 63) + "2", "uuid": "aaaaaaaaaaaaaaaaaaaaaaaaaa"},
		"deviceUuid":     "aaaaaaaaaaaaaaaaaaaaaaaaaa",
	}
	b, _ := json.Marshal(creds)
	return "ops_" + base64.RawURLEncoding.EncodeToString(b)
}

// SkipIfReachable skips a test that needs host to be out of reach (it
// would otherwise send a made-up token to 1Password).
func SkipIfReachable(t testing.TB, host string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := net.DefaultResolver.LookupHost(ctx, host); err == nil {
		t.Skipf("%s resolves: this test proves offline behaviour and must not send a made-up token to 1Password", host)
	}
}

// ValidateCases are checked through the plugin binary, by the plugin's
// tests and the end-to-end tests: the SDK's own verdicts (see
// TestRulesAgreeWithSDK), without its core.
var ValidateCases = []struct {
	Ref  string
	Want string // "" when valid
}{
	{"op://Production/Database/password", ""},
	{"op://Production/Database/Admin/password?attribute=otp", ""},
	{"OP://Production/Database/password", `not prefixed with "op://"`},
	{"op://Production/Database", "invalid format"},
	{"op://Prödüction/Database/password", "invalid character in secret reference"},
	{"op://Production/Database/password?ssh-format=openssh", ""},
	// Documented by 1Password, not supported by its SDK: the SDK's reason, and why (issue 12, item 3).
	{"op://Production/Database/password?attribute=type", "invalid query parameter value (?attribute=type is documented by 1Password, but its SDK"},
	{"op://Production/Database/cert.pem?attribute=size", "supports only attribute=otp (or totp) and ssh-format=openssh"},
	// Outside 1Password's character set: the SDK's error in service-account mode (issue 12, item 7).
	{"op://Production/My Item (2)/password", "invalid character in secret reference"},
}

// CheckValidate checks Validate's results for ValidateCases' references,
// in order.
func CheckValidate(t testing.TB, results []provider.ValidateResult) {
	t.Helper()
	if len(results) != len(ValidateCases) {
		t.Fatalf("%d results for %d references", len(results), len(ValidateCases))
	}
	for i, c := range ValidateCases {
		r := results[i]
		switch {
		case r.Reference != c.Ref:
			t.Errorf("result %d is for %q, want %q", i, r.Reference, c.Ref)
		case c.Want == "" && r.Err != nil:
			t.Errorf("%q: want valid, got %v", c.Ref, r.Err)
		case c.Want != "" && (r.Err == nil || r.Err.Code != provider.CodeInvalidReference || !strings.Contains(r.Err.Message, c.Want)):
			t.Errorf("%q: want invalid_reference containing %q, got %v", c.Ref, c.Want, r.Err)
		}
	}
}

// MalformedToken is not a service account token; the SDK says so offline,
// with MalformedReason.
const (
	MalformedToken  = "this-is-not-a-service-account-token"
	MalformedReason = "service account token had invalid format"
)

// SkipIfShort skips tests that start the plugin far enough to load the
// SDK's core (seconds of CPU each).
func SkipIfShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the plugin and loads the 1Password SDK's WebAssembly core (slow); skipped with -short")
	}
}

// Context is generous: the plugin compiles the SDK's WebAssembly core
// during Configure, which takes seconds, more on a loaded machine.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

type logWriter struct{ t testing.TB }

func (w logWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// Logger logs at debug level to t.Log.
func Logger(t testing.TB) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: logWriter{t}})
}
