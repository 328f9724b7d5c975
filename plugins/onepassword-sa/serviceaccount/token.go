package serviceaccount

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"github.com/secrethost/secrethost/plugins/internal/opref"
)

// rulesValidate is the real refValidator: the SDK's rules, checked by
// opref.ValidateSDK without loading the SDK's core (TestRulesAgreeWithSDK
// runs both side by side).
func rulesValidate(_ context.Context, ref string) error {
	return opref.ValidateSDK(ref)
}

// tokenFields are the members a service account token's JSON must have.
var tokenFields = []string{"signInAddress", "userAuth", "email", "srpX", "muk", "secretKey", "deviceUuid"}

// checkTokenFormat checks a service account token's format as the SDK
// does before it signs in: "ops_" followed by base64 of a JSON object
// with the members the SDK needs. The reasons are the SDK's; none quotes the
// token.
func checkTokenFormat(token string) error {
	payload, ok := strings.CutPrefix(token, "ops_")
	if !ok {
		return errors.New("service account token had invalid format")
	}
	var raw []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding} {
		if raw, err = enc.DecodeString(payload); err == nil {
			break
		}
	}
	if err != nil {
		return errors.New("service account token base64 decoding failed, please create another token")
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return errors.New("service account deserialization failed, please create another token")
	}
	for _, f := range tokenFields {
		if v := fields[f]; len(v) == 0 || string(v) == "null" {
			return errors.New("service account deserialization failed, please create another token")
		}
	}
	return nil
}
