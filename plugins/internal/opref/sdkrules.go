package opref

import (
	"errors"
	"strings"
)

// SDKError is why [ValidateSDK] rejects a reference. Its message is the
// reason 1Password's SDK (onepassword-sdk-go v0.4.1) gives; it never
// quotes the reference.
type SDKError struct{ Reason string }

func (e *SDKError) Error() string { return e.Reason }

// The SDK's reasons, as its core words them.
const (
	sdkNoPrefix    = `secret reference is not prefixed with "op://"`
	sdkBadFormat   = `secret reference has invalid format - must be "op://<vault>/<item>/[section/]field[?attribute=<attribute-value>]"`
	sdkBadChar     = "invalid character in secret reference: secret references must only contain alphanumeric, _, . or - characters"
	sdkBadQueryKey = "secret reference has invalid query parameter key"
	sdkBadQueryVal = "secret reference has invalid query parameter value"
)

// ValidateSDK checks ref exactly as the 1Password SDK's offline validator
// (Secrets.ValidateSecretReference, which runs in its WebAssembly core)
// does, without loading that core. The rules were established by running
// the SDK's validator over a corpus, and a test runs both side by side
// (plugins/onepassword-sa) so that any difference fails:
//
//   - the reference starts with "op://", lower case, nothing before it
//     (no whitespace is trimmed);
//   - at most one "?"; what follows it is one key=value pair of ASCII
//     letters, digits, space, "_", "." and "-"; the key is "attribute"
//     (value "otp" or "totp") or "ssh-format" (value "openssh"), all case
//     sensitive;
//   - the path holds only ASCII letters, digits, space, "_", "." and "-"
//     besides "/" (no percent-encoding, no control characters: a trailing
//     newline is an error, a trailing space is not);
//   - the path has three or four segments, which may be empty.
func ValidateSDK(ref string) error {
	rest, ok := strings.CutPrefix(ref, "op://")
	if !ok {
		return &SDKError{sdkNoPrefix}
	}
	if strings.Count(rest, "?") > 1 {
		return &SDKError{sdkBadChar}
	}
	path, query, hasQuery := strings.Cut(rest, "?")
	if hasQuery {
		k, v, ok := strings.Cut(query, "=")
		if !ok || strings.Contains(v, "=") || !sdkChars(k) || !sdkChars(v) {
			return &SDKError{sdkBadFormat}
		}
		switch k {
		case "attribute":
			if v != "otp" && v != "totp" {
				return &SDKError{sdkBadQueryVal}
			}
		case "ssh-format":
			if v != "openssh" {
				return &SDKError{sdkBadQueryVal}
			}
		default:
			return &SDKError{sdkBadQueryKey}
		}
	}
	if !sdkChars(strings.ReplaceAll(path, "/", "")) {
		return &SDKError{sdkBadChar}
	}
	if n := strings.Count(path, "/") + 1; n != 3 && n != 4 {
		return &SDKError{sdkBadFormat}
	}
	return nil
}

// IsSDKError reports whether err came from [ValidateSDK].
func IsSDKError(err error) bool {
	var e *SDKError
	return errors.As(err, &e)
}

func sdkChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == ' ', c == '_', c == '.', c == '-':
		default:
			return false
		}
	}
	return true
}
