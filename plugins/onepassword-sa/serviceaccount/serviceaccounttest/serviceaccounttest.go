// Package serviceaccounttest holds test helpers for the service-account plugin that its
// own tests and the end-to-end tests (e2e/onepassword-sa) share: a token
// the SDK accepts offline, and a guard for tests that must stay offline.
package serviceaccounttest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"
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
