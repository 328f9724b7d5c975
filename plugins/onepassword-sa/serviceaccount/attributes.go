package serviceaccount

import (
	"strings"

	"github.com/secrethost/secrethost/plugins/internal/opref"
)

// Attributes (issue 12, item 3). 1Password documents more query attributes than its SDK
// (v0.4.1) accepts: the SDK takes only attribute=otp|totp and ssh-format=openssh (see
// opref.ValidateSDK), so type, value, id, purpose, title, content, size and name are the
// SDK's "invalid query parameter value" here. unsupportedHint adds, to that reason, what
// the reader needs: that the attribute is a real one, and where it works.

// unsupportedHint is "" unless ref asks for an attribute 1Password documents but its SDK
// does not support.
func unsupportedHint(ref string) string {
	r, err := opref.Parse(ref)
	if err != nil || r.Attribute == opref.AttrOTP {
		return ""
	}
	_, q, ok := strings.Cut(ref, "?")
	if !ok || !strings.Contains(strings.ToLower(q), "attr") {
		return ""
	}
	return " (?attribute=" + r.Attribute.String() + " is documented by 1Password, but its SDK, which service accounts use, " +
		"supports only attribute=otp (or totp) and ssh-format=openssh; the onepassword-connect plugin supports every documented attribute)"
}
