package serviceaccount

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	onepassword "github.com/1password/onepassword-sdk-go"

	"github.com/secrethost/secrethost/shared/provider"
)

// wasmPanic is how the SDK reports a failed HTTP request: the Go error,
// wazero's remark, and the WebAssembly stack (abridged).
const wasmPanic = `Post "https://my.1password.com/api/v3/auth/start?": dial tcp: lookup my.1password.com on 10.255.255.53:53: no such host (recovered by wazero)
wasm stack trace:
	extism:host/env.http_request(i64,i64) i64
	op_extism_core.wasm.init_client() i32`

func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		want provider.Code
	}{
		// Messages of the v0.4.1 core, as seen offline.
		{errors.New("error initializing client: invalid user input: encountered the following errors: service account token had invalid format"), provider.CodeInvalidConfig},
		{errors.New("error initializing client: invalid user input: encountered the following errors: service account token was not specified"), provider.CodeInvalidConfig},
		{errors.New("error initializing client: invalid service account token, please make sure you provide a valid service account token as parameter:  service account token base64 decoding failed, please create another token"), provider.CodeInvalidConfig},
		{errors.New("error initializing client: invalid service account token, please make sure you provide a valid service account token as parameter:  service account deserialization failed, please create another token"), provider.CodeInvalidConfig},
		{errors.New("error initializing client: " + wasmPanic), provider.CodeUnavailable},
		// Phrases of the core for server answers.
		{errors.New("bad service account token, please rotate it: signature mismatch"), provider.CodeUnauthenticated},
		{errors.New("you are not authenticated"), provider.CodeUnauthenticated},
		{errors.New("service account token's throttle token is invalid. please create a new service account token: x"), provider.CodeUnauthenticated},
		{errors.New("account couldn't be found"), provider.CodeUnauthenticated},
		{errors.New("you don't have the right permissions to access this resource"), provider.CodePermissionDenied},
		{errors.New("resource not found"), provider.CodeNotFound},
		{errors.New("request timeout"), provider.CodeUnavailable},
		{errors.New("rate limit exceeded"), provider.CodeRateLimited},
		{&onepassword.RateLimitExceededError{}, provider.CodeRateLimited},
		{fmt.Errorf("wrapped: %w", &onepassword.RateLimitExceededError{}), provider.CodeRateLimited},
		{fmt.Errorf("Post \"https://x.1password.com\": %w (recovered by wazero)", context.DeadlineExceeded), provider.CodeUnavailable},
		{errors.New("Post \"https://my.1password.com/api/v1/x\": tls: failed to verify certificate: x509: certificate signed by unknown authority"), provider.CodeUnavailable},
		{errors.New("an internal error occurred, please contact 1Password at support@1password.com"), provider.CodeInternal},
		{&coreError{errors.New("failed to initialize plugin: out of memory")}, provider.CodeInternal},
		{&coreError{fmt.Errorf("gave up waiting: %w", context.DeadlineExceeded)}, provider.CodeUnavailable},
	}
	for _, tt := range tests {
		if got := classify(tt.err); got != tt.want {
			t.Errorf("classify(%q) = %s, want %s", tt.err, got, tt.want)
		}
	}
}

func TestCleanMessage(t *testing.T) {
	got := cleanMessage(errors.New("error initializing client: "+wasmPanic), "")
	want := `Post "https://my.1password.com/api/v3/auth/start?": dial tcp: lookup my.1password.com on 10.255.255.53:53: no such host`
	if got != want {
		t.Errorf("cleanMessage = %q\nwant %q", got, want)
	}
	if got := cleanMessage(errors.New("bad token "+testToken+" here"), testToken); strings.Contains(got, testToken) || !strings.Contains(got, "[redacted]") {
		t.Errorf("token not redacted: %q", got)
	}
}

func TestRetryAfter(t *testing.T) {
	tests := map[string]time.Duration{
		"rate limit exceeded":                           0, // what v0.4.1 says
		"rate limit exceeded, retry after 30s":          30 * time.Second,
		"rate limit exceeded; Retry-After: 12":          12 * time.Second,
		"rate limit exceeded (retry after 1.5 minutes)": 90 * time.Second,
		"retry after 250ms":                             250 * time.Millisecond,
	}
	for msg, want := range tests {
		if got := retryAfter(msg); got != want {
			t.Errorf("retryAfter(%q) = %s, want %s", msg, got, want)
		}
	}
	e := sdkError("1Password request failed", errors.New("rate limit exceeded, retry after 30s"), "")
	if e.Code != provider.CodeRateLimited || e.RetryAfter != 30*time.Second {
		t.Errorf("sdkError = %+v", e)
	}
}

// TestRefErrorMapping: every per-reference error type of the SDK maps to a
// contract code, and the message keeps the SDK's type (and its message,
// for the types that carry one).
func TestRefErrorMapping(t *testing.T) {
	tests := []struct {
		json string
		code provider.Code
		has  []string
	}{
		{`{"type":"parsing","message":"secret reference has invalid format"}`, provider.CodeInvalidReference, []string{"parsing: secret reference has invalid format"}},
		{`{"type":"vaultNotFound"}`, provider.CodeNotFound, []string{"vaultNotFound", "no vault"}},
		{`{"type":"itemNotFound"}`, provider.CodeNotFound, []string{"itemNotFound"}},
		{`{"type":"noMatchingSections"}`, provider.CodeNotFound, []string{"noMatchingSections"}},
		{`{"type":"fieldNotFound"}`, provider.CodeNotFound, []string{"fieldNotFound"}},
		{`{"type":"tooManyVaults"}`, provider.CodeAmbiguous, []string{"tooManyVaults", "by its ID"}},
		{`{"type":"tooManyItems"}`, provider.CodeAmbiguous, []string{"tooManyItems"}},
		{`{"type":"tooManyMatchingFields"}`, provider.CodeAmbiguous, []string{"tooManyMatchingFields"}},
		{`{"type":"incompatibleTOTPQueryParameterField"}`, provider.CodeInvalidReference, []string{"one-time password"}},
		{`{"type":"incompatibleSshKeyQueryParameterField"}`, provider.CodeInvalidReference, []string{"SSH key"}},
		{`{"type":"sSHKeyMetadataNotFound"}`, provider.CodeNotFound, []string{"sSHKeyMetadataNotFound"}},
		{`{"type":"unableToGenerateTotpCode","message":"secret is not base32"}`, provider.CodeNotFound, []string{"unableToGenerateTotpCode: secret is not base32"}},
		{`{"type":"unsupportedFileFormat"}`, provider.CodeInternal, []string{"not text"}},
		{`{"type":"unableToParsePrivateKey"}`, provider.CodeInternal, []string{"unableToParsePrivateKey"}},
		{`{"type":"unableToFormatPrivateKeyToOpenSsh"}`, provider.CodeInternal, []string{"OpenSSH"}},
		{`{"type":"other"}`, provider.CodeInternal, []string{"other"}},
		// A type this SDK version does not know. (Without a message the
		// SDK's UnmarshalJSON fails, and with it the whole ResolveAll.)
		{`{"type":"somethingNew","message":"details"}`, provider.CodeInternal, []string{"somethingNew: details"}},
	}
	for _, tt := range tests {
		var e onepassword.ResolveReferenceError
		if err := json.Unmarshal([]byte(tt.json), &e); err != nil {
			t.Fatalf("%s: %v", tt.json, err)
		}
		got := refError(e, testToken)
		if got.Code != tt.code {
			t.Errorf("%s: code %s, want %s", tt.json, got.Code, tt.code)
		}
		for _, h := range tt.has {
			if !strings.Contains(got.Message, h) {
				t.Errorf("%s: message %q lacks %q", tt.json, got.Message, h)
			}
		}
	}
}

// TestResolveMapsEveryError runs each mapping through Resolve: per-result
// errors, each with its own reference, the others unaffected.
func TestResolveMapsEveryError(t *testing.T) {
	f := newFakeOP()
	f.secrets["op://v/i/ok"] = "value"
	f.refErrs["op://v/i/ambiguous"] = `{"type":"tooManyItems"}`
	f.refErrs["op://nope/i/f"] = `{"type":"vaultNotFound"}`
	p, _ := newTestProvider(t, f)
	configure(t, p, nil)
	res := resolve(t, p, "op://v/i/ok", "op://v/i/ambiguous", "op://nope/i/f", "op://v/missing/f", "op://v/i")
	want := []provider.Code{provider.CodeUnspecified, provider.CodeAmbiguous, provider.CodeNotFound, provider.CodeNotFound, provider.CodeInvalidReference}
	for i, r := range res {
		if want[i] == provider.CodeUnspecified {
			if r.Err != nil || string(r.Value) != "value" {
				t.Errorf("%s: %v %q", r.Reference, r.Err, r.Value)
			}
			continue
		}
		if r.Err == nil || r.Err.Code != want[i] {
			t.Errorf("%s: got %v, want %s", r.Reference, r.Err, want[i])
			continue
		}
		if r.Err.Reference != r.Reference {
			t.Errorf("%s: error is about %q", r.Reference, r.Err.Reference)
		}
	}
}

// TestResolveCallFailures: when ResolveAll fails as a whole, every
// reference of the batch gets the mapped error, the SDK's message kept.
func TestResolveCallFailures(t *testing.T) {
	tests := []struct {
		err   error
		code  provider.Code
		has   string
		after time.Duration
	}{
		{errors.New("rate limit exceeded"), provider.CodeRateLimited, "rate limit exceeded", 0},
		{errors.New("rate limit exceeded, retry after 20s"), provider.CodeRateLimited, "rate limit exceeded", 20 * time.Second},
		{&onepassword.RateLimitExceededError{}, provider.CodeRateLimited, "1Password request failed", 0},
		{errors.New("you are not authenticated"), provider.CodeUnauthenticated, "you are not authenticated", 0},
		{errors.New("you don't have the right permissions to access this resource"), provider.CodePermissionDenied, "right permissions", 0},
		{errors.New(wasmPanic), provider.CodeUnavailable, "no such host", 0},
		{errors.New("something odd"), provider.CodeInternal, "something odd", 0},
		// A token-format phrase outside sign-in is the SDK complaining
		// about what we sent, not about the configuration.
		{errors.New("invalid user input: encountered the following errors: x"), provider.CodeInternal, "invalid user input", 0},
	}
	for _, tt := range tests {
		f := newFakeOP()
		p, _ := newTestProvider(t, f)
		configure(t, p, nil)
		f.callErr = tt.err
		for _, r := range resolve(t, p, "op://v/i/a", "op://v/i/b") {
			if r.Err == nil || r.Err.Code != tt.code || !strings.Contains(r.Err.Message, tt.has) || r.Err.RetryAfter != tt.after {
				t.Errorf("%q: %s got %+v, want %s containing %q, retry after %s", tt.err, r.Reference, r.Err, tt.code, tt.has, tt.after)
			}
			if strings.Contains(r.Err.Message, "wasm stack trace") {
				t.Errorf("message keeps the wasm stack trace: %q", r.Err.Message)
			}
		}
	}
}
