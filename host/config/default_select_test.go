package config

import (
	"reflect"
	"testing"
)

// TestDefaultSelectsConnectForAConnectToken: with a Connect token and no
// Connect host, the built-in default uses Connect (whose error then says
// the host is missing), unless a service account token is set too; the
// two 1Password providers are never both or neither enabled.
func TestDefaultSelectsConnectForAConnectToken(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"SECRET_PROVIDER_CONNECT_TOKEN": "t"}, "onepassword-connect"},
		{map[string]string{"SECRET_PROVIDER_CONNECT_TOKEN_FILE": "/run/secrets/t"}, "onepassword-connect"},
		{map[string]string{"OP_CONNECT_TOKEN": "t"}, "onepassword-connect"},
		// doco-cd: a Connect token without a host is an error, whatever
		// else is set; Connect's plugin reports the missing host.
		{map[string]string{"SECRET_PROVIDER_CONNECT_TOKEN": "t", "SECRET_PROVIDER_ACCESS_TOKEN": "ops_x"}, "onepassword-connect"},
		{map[string]string{"SECRET_PROVIDER_CONNECT_TOKEN": "t", "SECRET_PROVIDER_ACCESS_TOKEN_FILE": "/f"}, "onepassword-connect"},
		{map[string]string{"SECRET_PROVIDER_CONNECT_TOKEN": "t", "OP_SERVICE_ACCOUNT_TOKEN": "ops_x"}, "onepassword-connect"},
		// A leftover OP_CONNECT_HOST does not override doco-cd's service
		// account (issue 11); alone, 1Password's own names still work.
		{map[string]string{"OP_CONNECT_HOST": "http://c", "SECRET_PROVIDER_ACCESS_TOKEN": "ops_x"}, "onepassword-sa"},
		{map[string]string{"OP_CONNECT_HOST": "http://c", "SECRET_PROVIDER_ACCESS_TOKEN_FILE": "/f"}, "onepassword-sa"},
		{map[string]string{"OP_CONNECT_HOST": "http://c"}, "onepassword-connect"},
		{map[string]string{"OP_CONNECT_TOKEN": "t", "OP_SERVICE_ACCOUNT_TOKEN": "ops_x"}, "onepassword-sa"},
		{map[string]string{"SECRET_PROVIDER_CONNECT_TOKEN": "", "SECRET_PROVIDER_ACCESS_TOKEN": ""}, "onepassword-sa"},
		{map[string]string{}, "onepassword-sa"},
		{map[string]string{"SECRET_PROVIDER_CONNECT_HOST": "http://c", "SECRET_PROVIDER_ACCESS_TOKEN": "ops_x"}, "onepassword-connect"},
	} {
		tt.env["SECRET_PROVIDER"] = "1password"
		cfg, err := LoadDefault(lookup(tt.env))
		if err != nil {
			t.Fatalf("%v: %v", tt.env, err)
		}
		if got := providerNames(cfg); !reflect.DeepEqual(got, []string{tt.want}) {
			t.Errorf("%v: providers %v, want %s", tt.env, got, tt.want)
		}
	}
}
