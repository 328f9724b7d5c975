package serviceaccount

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	onepassword "github.com/1password/onepassword-sdk-go"

	"github.com/secrethost/secrethost/shared/provider"
)

// The SDK (v0.4.1) has two typed errors, RateLimitExceededError and
// DesktopSessionExpiredError (desktop app only); everything else from its
// core arrives as errors.New(message). Failures of the HTTP requests the
// core asks the host to make (DNS, TCP, TLS, context) are Go panics
// recovered by wazero, whose message is the Go error followed by " (recovered
// by wazero)" and a WebAssembly stack trace. So classification is by type
// where there is one, and by the core's fixed English messages otherwise.
// The phrases below are taken from the v0.4.1 core.
var (
	// The token is not a service account token: the SDK says so offline,
	// before any request.
	tokenFormatPhrases = []string{
		"invalid user input",
		"invalid service account token",
		"service account token had invalid format",
		"service account token was not specified",
		"service account token base64 decoding failed",
		"service account deserialization failed",
		"service account token is invalid",
		"did not contain device uuid",
		"invalid sign-in address",
	}
	// 1Password refused the token, or the session behind it.
	authPhrases = []string{
		"bad service account token",
		"you are not authenticated",
		"failed to authenticate",
		"bad credentials",
		"throttle token is invalid",
		"account couldn't be found",
		"invalid user auth parameters",
		"session expired",
	}
	permissionPhrases = []string{"you don't have the right permissions"}
	notFoundPhrases   = []string{"resource not found"}
	rateLimitPhrases  = []string{"rate limit exceeded"}
	// 1Password could not be reached, or did not answer in time.
	networkPhrases = []string{
		"dial tcp", "no such host", "connection refused", "connection reset",
		"network is unreachable", "host is unreachable", "no route to host",
		"i/o timeout", "tls handshake", "tls:", "x509:", "server misbehaving",
		"request timeout", "context deadline exceeded", "context canceled",
		"unexpected eof", "broken pipe", "a conflict occurred on the server",
		"503 service unavailable", "502 bad gateway", "504 gateway timeout",
	}
)

// errInvalidClientID is the core's answer when the client's session is
// gone from the core; the cure is a new client.
const invalidClientIDPhrase = "invalid client id"

func isInvalidClientID(err error) bool {
	return err != nil && strings.Contains(strings.ToLower(err.Error()), invalidClientIDPhrase)
}

func containsAny(s string, phrases []string) bool {
	for _, p := range phrases {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// classify maps an SDK error to a contract code. The order matters: a
// message can contain several phrases (a sign-in that timed out mentions
// the request), and the most specific wins.
func classify(err error) provider.Code {
	var rl *onepassword.RateLimitExceededError
	if errors.As(err, &rl) {
		return provider.CodeRateLimited
	}
	if isCoreError(err) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return provider.CodeUnavailable
		}
		return provider.CodeInternal
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return provider.CodeUnavailable
	}
	msg := strings.ToLower(err.Error())
	switch {
	case containsAny(msg, rateLimitPhrases):
		return provider.CodeRateLimited
	case containsAny(msg, tokenFormatPhrases):
		return provider.CodeInvalidConfig
	case containsAny(msg, authPhrases):
		return provider.CodeUnauthenticated
	case containsAny(msg, permissionPhrases):
		return provider.CodePermissionDenied
	case containsAny(msg, notFoundPhrases):
		return provider.CodeNotFound
	case containsAny(msg, networkPhrases):
		return provider.CodeUnavailable
	}
	return provider.CodeInternal
}

// cleanMessage makes an SDK error fit for a one-line message: the
// WebAssembly stack trace and wazero's remark go, whitespace is collapsed,
// the SDK's "error initializing client: " prefix goes (callers say what
// was being done), and the token, should it ever appear, is redacted.
func cleanMessage(err error, token string) string {
	msg := err.Error()
	if i := strings.Index(msg, "wasm stack trace:"); i >= 0 {
		msg = msg[:i]
	}
	msg = strings.ReplaceAll(msg, "(recovered by wazero)", "")
	msg = strings.Join(strings.Fields(msg), " ")
	msg = strings.TrimPrefix(msg, "error initializing client: ")
	if token != "" {
		msg = strings.ReplaceAll(msg, token, "[redacted]")
	}
	if msg == "" {
		msg = "no message"
	}
	return msg
}

// retryAfterRE finds a wait the backend asked for, as "retry after 30s",
// "Retry-After: 30" (seconds) and the like. The v0.4.1 core says only "rate
// limit exceeded", without a delay; this is for cores that say more.
var retryAfterRE = regexp.MustCompile(`(?i)retry[- ]after[:= ]*(\d+(?:\.\d+)?)\s*(ms|s|m|h|seconds?|minutes?)?`)

func retryAfter(msg string) time.Duration {
	m := retryAfterRE.FindStringSubmatch(msg)
	if m == nil {
		return 0
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil || n <= 0 {
		return 0
	}
	unit := time.Second
	switch strings.ToLower(m[2]) {
	case "ms":
		unit = time.Millisecond
	case "m", "minute", "minutes":
		unit = time.Minute
	case "h":
		unit = time.Hour
	}
	return time.Duration(n * float64(unit))
}

// sdkError converts an SDK error into a contract error, its message
// prefixed with what was being done.
func sdkError(doing string, err error, token string) *provider.Error {
	code := classify(err)
	msg := cleanMessage(err, token)
	e := &provider.Error{Code: code, Message: doing + ": " + msg}
	if code == provider.CodeRateLimited {
		e.RetryAfter = retryAfter(msg)
	}
	return e
}

// refErrorKinds maps the SDK's per-reference error types to contract codes
// and to a sentence for users; the SDK's own type name (and message, when
// it has one) follow in the message.
var refErrorKinds = map[onepassword.ResolveReferenceErrorTypes]struct {
	code provider.Code
	text string
}{
	onepassword.ResolveReferenceErrorTypeVariantParsing: {provider.CodeInvalidReference,
		"1Password could not parse the reference"},
	onepassword.ResolveReferenceErrorTypeVariantVaultNotFound: {provider.CodeNotFound,
		"no vault matches the reference, or the service account has no access to it"},
	onepassword.ResolveReferenceErrorTypeVariantItemNotFound: {provider.CodeNotFound,
		"no item in the vault matches the reference"},
	onepassword.ResolveReferenceErrorTypeVariantNoMatchingSections: {provider.CodeNotFound,
		"no section of the item matches the reference"},
	onepassword.ResolveReferenceErrorTypeVariantFieldNotFound: {provider.CodeNotFound,
		"no field of the item matches the reference"},
	onepassword.ResolveReferenceErrorTypeVariantTooManyVaults: {provider.CodeAmbiguous,
		"more than one vault matches the reference; refer to the vault by its ID"},
	onepassword.ResolveReferenceErrorTypeVariantTooManyItems: {provider.CodeAmbiguous,
		"more than one item in the vault matches the reference; refer to the item by its ID"},
	onepassword.ResolveReferenceErrorTypeVariantTooManyMatchingFields: {provider.CodeAmbiguous,
		"more than one field matches the reference; name the field's section, or refer to the field by its ID"},
	// The reference asks for something its field cannot give. The
	// Connect plugin answers invalid_reference for the same case, so both
	// 1Password providers do.
	onepassword.ResolveReferenceErrorTypeVariantIncompatibleTOTPQueryParameterField: {provider.CodeInvalidReference,
		"?attribute=otp needs a one-time password field, and this field is not one"},
	onepassword.ResolveReferenceErrorTypeVariantIncompatibleSSHKeyQueryParameterField: {provider.CodeInvalidReference,
		"an SSH key format was asked for a field that is not an SSH key"},
	onepassword.ResolveReferenceErrorTypeVariantSSHKeyMetadataNotFound: {provider.CodeNotFound,
		"the field has no SSH key attributes"},
	// As the Connect plugin: a one-time password field without a current
	// code is a code that is not there.
	onepassword.ResolveReferenceErrorTypeVariantUnableToGenerateTOTPCode: {provider.CodeNotFound,
		"the one-time password field has no current code: 1Password could not compute one from it"},
	onepassword.ResolveReferenceErrorTypeVariantUnsupportedFileFormat: {provider.CodeInternal,
		"the reference names a file that is not text, which the 1Password SDK cannot return"},
	onepassword.ResolveReferenceErrorTypeVariantUnableToParsePrivateKey: {provider.CodeInternal,
		"1Password could not parse the private key in the field"},
	onepassword.ResolveReferenceErrorTypeVariantUnableToFormatPrivateKeyToOpenSSH: {provider.CodeInternal,
		"1Password could not format the private key as OpenSSH"},
	onepassword.ResolveReferenceErrorTypeVariantOther: {provider.CodeInternal,
		"1Password could not resolve the reference"},
}

// refError converts one reference's error from ResolveAll.
func refError(e onepassword.ResolveReferenceError, token string) *provider.Error {
	kind, ok := refErrorKinds[e.Type]
	if !ok {
		kind.code, kind.text = provider.CodeInternal, "1Password could not resolve the reference"
	}
	detail := string(e.Type)
	if detail == "" {
		detail = "unknown error"
	}
	if m := refErrorMessage(e); m != "" {
		detail += ": " + m
	}
	msg := fmt.Sprintf("%s (1Password SDK: %s)", kind.text, detail)
	if token != "" {
		msg = strings.ReplaceAll(msg, token, "[redacted]")
	}
	return &provider.Error{Code: kind.code, Message: msg}
}

// refErrorMessage returns the message the SDK attached to a reference
// error, if any. The SDK's accessors (Parsing, UnableToGenerateTOTPCode)
// dereference a pointer that is nil for every other type, so the message
// is read back through the SDK's own MarshalJSON instead.
func refErrorMessage(e onepassword.ResolveReferenceError) string {
	b, err := json.Marshal(e)
	if err != nil {
		return ""
	}
	var v struct {
		Message json.RawMessage `json:"message"`
	}
	if json.Unmarshal(b, &v) != nil || len(v.Message) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(v.Message, &s) == nil {
		return strings.Join(strings.Fields(s), " ")
	}
	return strings.Join(strings.Fields(string(v.Message)), " ")
}
