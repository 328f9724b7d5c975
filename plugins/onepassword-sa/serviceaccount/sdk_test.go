package serviceaccount

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/internal/testbin"
	"github.com/secrethost/secrethost/shared/provider"
)

// The tests in this file use the real SDK, offline: its validator, and its
// offline token check at sign-in. Loading the SDK's WebAssembly core takes
// seconds (a minute or more under the race detector), once per process, so
// they share one test.

const sdkModule = "github.com/1password/onepassword-sdk-go"

// TestSDKVersion: the module pins the SDK at v0.4.1. (Test binaries carry
// no dependency list in their build information; the plugin binary's is
// checked by TestPluginBinaryLinksSDK.)
func TestSDKVersion(t *testing.T) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Version}} {{.Replace}}", sdkModule)
	cmd.Dir = testbin.Root()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "v0.4.1 <nil>" {
		t.Errorf("%s is at %q, want v0.4.1 without replacement", sdkModule, got)
	}
}

func TestRealSDKOffline(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the 1Password SDK's WebAssembly core (slow); skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	start := time.Now()
	if err := loadCore(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("SDK core loaded in %s", time.Since(start).Round(time.Millisecond))
	newReal := func() *Provider {
		return newProvider(newSDKClient, sdkValidate, time.Now, hclog.NewNullLogger())
	}

	t.Run("Validate", func(t *testing.T) {
		tests := []struct {
			ref  string
			want string // "" valid, else a substring of the message
		}{
			{"op://vault/item/field", ""},
			{"op://vault/item/section/field", ""},
			{"op://My Vault/item/field", ""},
			{"op://vault/item/field?attribute=otp", ""},
			// The SDK's verdict, and its reason, on the reference as
			// written: no trimming, no case folding, no aliases.
			{"op://vault/item/field?ssh-format=openssh", ""},
			{"op://vault//field", ""},
			{"OP://vault/item/field", `secret reference is not prefixed with "op://"`},
			{" op://vault/item/field\n", `secret reference is not prefixed with "op://"`},
			{"op://vault/item/field?attr=TOTP", "invalid query parameter key"},
			{"op://väult/item/field", "invalid character in secret reference"},
			{"op://va%2Fult/item/field", "invalid character in secret reference"},
			{"op://vault/item", "invalid format"},
			{"op://vault/item/field#x", "invalid character in secret reference"},
			{"vault/item/field", `not prefixed with "op://"`},
		}
		p := newReal()
		refs := make([]string, len(tests))
		for i, tt := range tests {
			refs[i] = tt.ref
		}
		resp, err := p.Validate(ctx, provider.ValidateRequest{References: refs})
		if err != nil {
			t.Fatal(err)
		}
		for i, tt := range tests {
			e := resp.Results[i].Err
			switch {
			case tt.want == "" && e != nil:
				t.Errorf("%q: want valid, got %v", tt.ref, e)
			case tt.want != "" && (e == nil || e.Code != provider.CodeInvalidReference || !strings.Contains(e.Message, tt.want)):
				t.Errorf("%q: want invalid_reference containing %q, got %v", tt.ref, tt.want, e)
			}
		}
	})

	// A malformed token fails Configure with the SDK's reason, found
	// offline: the SDK parses the token before it makes any request.
	t.Run("MalformedToken", func(t *testing.T) {
		tests := []struct {
			attr, token, reason string
		}{
			{AttrToken, "not-a-service-account-token", "service account token had invalid format"},
			{AttrTokenFallback, "ops_%%%not-base64%%%", "service account token base64 decoding failed"},
			{AttrToken, "ops_e30", "service account deserialization failed"}, // ops_ + base64("{}")
		}
		for _, tt := range tests {
			p := newReal()
			start := time.Now()
			_, err := p.Configure(ctx, provider.ConfigureRequest{Config: map[string]string{tt.attr: tt.token}})
			took := time.Since(start)
			pe := provider.AsError(err)
			if pe == nil || pe.Code != provider.CodeInvalidConfig {
				t.Errorf("%s: want invalid_config, got %v", tt.reason, err)
				continue
			}
			for _, want := range []string{tt.attr, "not a valid 1Password service account token", tt.reason} {
				if !strings.Contains(pe.Message, want) {
					t.Errorf("message lacks %q: %s", want, pe.Message)
				}
			}
			if strings.Contains(pe.Message, tt.token) {
				t.Errorf("message echoes the token: %s", pe.Message)
			}
			// The SDK lists every input problem; integration info is not
			// one of them, so the plugin passed a name and a version.
			if strings.Contains(pe.Message, "integration") {
				t.Errorf("the SDK complains about the integration info: %s", pe.Message)
			}
			t.Logf("%s: rejected in %s: %s", tt.reason, took.Round(time.Microsecond), pe.Message)
		}
	})

	// A token of the right format, with 1Password out of reach: Configure
	// succeeds without signing in, and the outage shows as unavailable at
	// the first Resolve.
	t.Run("WellFormedTokenOffline", func(t *testing.T) {
		skipIfReachable(t, "my.1password.com")
		p := newReal()
		resp, err := p.Configure(ctx, provider.ConfigureRequest{Config: map[string]string{AttrToken: wellFormedFakeToken("my.1password.com")}})
		if err != nil {
			t.Fatalf("Configure: %v", err)
		}
		if len(resp.Warnings) != 0 {
			t.Fatalf("warnings = %q", resp.Warnings)
		}
		r := resolve(t, p, "op://vault/item/field")[0]
		if r.Err == nil || r.Err.Code != provider.CodeUnavailable || strings.Contains(r.Err.Message, "wasm") {
			t.Errorf("Resolve: %+v", r.Err)
		}
		c, err := p.Check(ctx, provider.CheckRequest{})
		if err != nil || c.Healthy || !strings.Contains(checkDetail(c), "unavailable: signing in to 1Password") {
			t.Errorf("Check = %v\n%s", err, checkDetail(c))
		}
	})
}
