package connect

import (
	"strings"

	"github.com/secrethost/secrethost/plugins/internal/opref"
	"github.com/secrethost/secrethost/shared/provider"
)

// Portability (issue 12, item 7).
//
// Connect looks names up with a title filter that matches any title, so this plugin accepts
// references 1Password's own tools refuse: names with characters outside 1Password's
// documented set (ASCII letters, digits, space, "_", "." and "-"), percent-encoding,
// surrounding whitespace, "OP://". The op CLI and service accounts (whose SDK applies
// exactly opref.ValidateSDK's rules) reject them: 1Password's secret reference syntax
// documents that character set and says to use an ID for a name outside it. Attributes other
// than otp are a different case: op reads every documented one, the SDK only otp/totp. Validate accepts such a reference and
// warns, so that a configuration that works with Connect today does not break silently when
// moved to a service account.

// portabilityWarning is the warning for a reference that parsed, or "" when 1Password's
// SDK accepts it too. It quotes the reference (which names a secret and holds none: it
// parsed as one) and the SDK's reason.
func portabilityWarning(ref string) string {
	err := opref.ValidateSDK(ref)
	if err == nil {
		return ""
	}
	if path, _, ok := strings.Cut(ref, "?"); ok && opref.ValidateSDK(path) == nil {
		// Only the query: an attribute 1Password documents (and op reads) that its SDK
		// does not support, or a spelling the SDK's strict parser refuses.
		return "accepted by 1Password Connect, but service accounts (1Password's SDK) will not accept its query: " + err.Error()
	}
	return "accepted by 1Password Connect, but the op CLI and service accounts (1Password's SDK) will not accept it: " + err.Error()
}

// sdkOnlyWarning is for the other direction: a reference this plugin cannot parse but
// 1Password's SDK validator accepts. The only such references have an empty part
// ("op://vault//field"): the SDK's syntax allows it, so validate accepts it in both modes,
// with a warning that a part that names nothing never resolves, and Resolve answers
// not_found (Validate and Resolve agree on what is malformed, as the provider contract
// requires). It returns "" when the SDK rejects ref too.
func sdkOnlyWarning(ref string, perr *provider.Error) string {
	if opref.ValidateSDK(ref) != nil {
		return ""
	}
	return "reference is valid 1Password syntax but will not resolve: " + perr.Message
}
