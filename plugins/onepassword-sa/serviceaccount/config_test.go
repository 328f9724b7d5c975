package serviceaccount

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secrethost/secrethost/shared/credential"
	"github.com/secrethost/secrethost/shared/provider"
)

func TestConfigDefaults(t *testing.T) {
	c, warnings, err := parseConfig(map[string]string{AttrToken: testToken})
	if err != nil {
		t.Fatal(err)
	}
	if c.token != testToken || c.tokenFrom != AttrToken {
		t.Errorf("token from %q, want %q", c.tokenFrom, AttrToken)
	}
	if c.cacheEnabled || c.cacheTTL != 5*time.Minute || c.cacheMaxSize != 100 {
		t.Errorf("cache defaults = enabled %v, ttl %s, max %d; want false, 5m, 100", c.cacheEnabled, c.cacheTTL, c.cacheMaxSize)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings: %q", warnings)
	}
}

// TestConfigToken: the token follows shared/credential's rule, with its
// messages, for this plugin's three attributes.
func TestConfigToken(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte(testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := []struct {
		name string
		cfg  map[string]string
		from string
	}{
		{"primary", map[string]string{AttrToken: testToken}, AttrToken},
		{"fallback", map[string]string{AttrTokenFallback: testToken}, AttrTokenFallback},
		{"primary wins", map[string]string{AttrToken: testToken, AttrTokenFallback: testToken}, AttrToken},
		{"file", map[string]string{AttrTokenFile: file}, AttrTokenFile},
		{"blank primary falls through", map[string]string{AttrToken: "  ", AttrTokenFallback: testToken}, AttrTokenFallback},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := parseConfig(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if c.token != testToken || c.tokenFrom != tt.from {
				t.Errorf("token from %q, want %q (value matches: %v)", c.tokenFrom, tt.from, c.token == testToken)
			}
		})
	}

	bad := []struct {
		name  string
		cfg   map[string]string
		names []string // attributes the message must name
	}{
		{"missing", map[string]string{}, []string{AttrToken, AttrTokenFallback, AttrTokenFile}},
		{"inline and file", map[string]string{AttrToken: testToken, AttrTokenFile: file}, []string{AttrToken, AttrTokenFile}},
		{"fallback and file", map[string]string{AttrTokenFallback: testToken, AttrTokenFile: file}, []string{AttrTokenFallback, AttrTokenFile}},
		{"file missing", map[string]string{AttrTokenFile: filepath.Join(dir, "nope")}, []string{AttrTokenFile}},
		{"file empty", map[string]string{AttrTokenFile: writeEmpty(t, dir)}, []string{AttrTokenFile}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, _, perr := parseConfig(tt.cfg)
			if perr == nil || perr.Code != provider.CodeInvalidConfig {
				t.Fatalf("want invalid_config, got %v", perr)
			}
			for _, n := range tt.names {
				if !strings.Contains(perr.Message, n) {
					t.Errorf("message does not name %s: %s", n, perr.Message)
				}
			}
			noToken(t, perr.Error())
			// Same words as every provider using shared/credential.
			_, cerr := credential.Load(tt.cfg, tokenSpec)
			if cerr == nil || perr.Message != cerr.Error() {
				t.Errorf("message %q differs from shared/credential's %q", perr.Message, cerr)
			}
		})
	}
}

func writeEmpty(t *testing.T, dir string) string {
	p := filepath.Join(dir, "empty")
	if err := os.WriteFile(p, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigCache(t *testing.T) {
	tests := []struct {
		name    string
		cfg     map[string]string
		enabled bool
		ttl     time.Duration
		max     int
		errAttr string // "" when valid
	}{
		{"enabled", map[string]string{AttrCacheEnabled: "true"}, true, 5 * time.Minute, 100, ""},
		{"enabled as 1", map[string]string{AttrCacheEnabled: "1"}, true, 5 * time.Minute, 100, ""},
		{"disabled", map[string]string{AttrCacheEnabled: "false"}, false, 5 * time.Minute, 100, ""},
		{"blank means default", map[string]string{AttrCacheEnabled: " ", AttrCacheTTL: "", AttrCacheMaxSize: ""}, false, 5 * time.Minute, 100, ""},
		{"ttl and size", map[string]string{AttrCacheEnabled: "TRUE", AttrCacheTTL: "90s", AttrCacheMaxSize: " 7 "}, true, 90 * time.Second, 7, ""},
		{"zero ttl allowed when disabled", map[string]string{AttrCacheTTL: "0s"}, false, 0, 100, ""},
		{"not a boolean", map[string]string{AttrCacheEnabled: "yes"}, false, 0, 0, AttrCacheEnabled},
		{"not a duration", map[string]string{AttrCacheTTL: "5"}, false, 0, 0, AttrCacheTTL},
		{"zero ttl when enabled", map[string]string{AttrCacheEnabled: "true", AttrCacheTTL: "0s"}, false, 0, 0, AttrCacheTTL},
		{"negative ttl when enabled", map[string]string{AttrCacheEnabled: "true", AttrCacheTTL: "-1m"}, false, 0, 0, AttrCacheTTL},
		{"size zero", map[string]string{AttrCacheEnabled: "true", AttrCacheMaxSize: "0"}, false, 0, 0, AttrCacheMaxSize},
		{"size zero while disabled", map[string]string{AttrCacheMaxSize: "0"}, false, 0, 0, AttrCacheMaxSize},
		{"size negative", map[string]string{AttrCacheMaxSize: "-3"}, false, 0, 0, AttrCacheMaxSize},
		{"size not a number", map[string]string{AttrCacheMaxSize: "ten"}, false, 0, 0, AttrCacheMaxSize},
		// A token in the wrong setting is named, not echoed (noToken below).
		{"token as boolean", map[string]string{AttrCacheEnabled: testToken}, false, 0, 0, AttrCacheEnabled},
		{"token as duration", map[string]string{AttrCacheTTL: testToken}, false, 0, 0, AttrCacheTTL},
		{"token as size", map[string]string{AttrCacheMaxSize: testToken}, false, 0, 0, AttrCacheMaxSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg[AttrToken] = testToken
			c, _, perr := parseConfig(tt.cfg)
			if tt.errAttr != "" {
				if perr == nil || perr.Code != provider.CodeInvalidConfig || !strings.Contains(perr.Message, tt.errAttr) {
					t.Fatalf("want invalid_config naming %s, got %v", tt.errAttr, perr)
				}
				noToken(t, perr.Error())
				return
			}
			if perr != nil {
				t.Fatal(perr)
			}
			if c.cacheEnabled != tt.enabled || c.cacheTTL != tt.ttl || c.cacheMaxSize != tt.max {
				t.Errorf("got enabled %v ttl %s max %d, want %v %s %d", c.cacheEnabled, c.cacheTTL, c.cacheMaxSize, tt.enabled, tt.ttl, tt.max)
			}
		})
	}
}

// TestConfigUnknownAttributeIsAnError: a name the schema does not know is
// reported with the closest known one, before anything else (a misspelt
// token name would otherwise read as "no token").
func TestConfigUnknownAttributeIsAnError(t *testing.T) {
	for name, want := range map[string]string{
		"request_timeout":              `unknown configuration attribute "request_timeout"; known: ` + AttrToken,
		"SECRET_PROVIDER_ACCES_TOKEN":  `"SECRET_PROVIDER_ACCES_TOKEN" (did you mean SECRET_PROVIDER_ACCESS_TOKEN?)`,
		"SECRET_PROVIDER_CACHE_ENABLD": `(did you mean SECRET_PROVIDER_CACHE_ENABLED?)`,
	} {
		_, _, err := parseConfig(map[string]string{name: testToken})
		if err == nil || err.Code != provider.CodeInvalidConfig || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), testToken) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestConfigureRejectsBadConfigBeforeSigningIn: configuration errors come
// from Configure as invalid_config, and the SDK is not even asked.
func TestConfigureRejectsBadConfigBeforeSigningIn(t *testing.T) {
	f := newFakeOP()
	p, _ := newTestProvider(t, f)
	_, err := p.Configure(t.Context(), provider.ConfigureRequest{Config: map[string]string{AttrToken: testToken, AttrCacheEnabled: "true", AttrCacheTTL: "0s"}})
	if !isCode(err, provider.CodeInvalidConfig) {
		t.Fatalf("want invalid_config, got %v", err)
	}
	if f.signInCount() != 0 {
		t.Errorf("signed in %d times despite a bad configuration", f.signInCount())
	}
}

func TestSchema(t *testing.T) {
	info, err := New(nil).GetInfo(t.Context(), provider.InfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != Name || info.Version == "" || len(info.Schemes) != 1 || info.Schemes[0] != "op" {
		t.Errorf("info = %+v", info)
	}
	if !info.UsesNetwork {
		t.Error("UsesNetwork = false: the host would not pass HTTPS_PROXY and SSL_CERT_FILE to the SDK")
	}
	sensitive := map[string]bool{}
	for _, a := range info.ConfigSchema {
		sensitive[a.Name] = a.Sensitive
		if a.Description == "" || a.Required {
			t.Errorf("attribute %s: description %q, required %v", a.Name, a.Description, a.Required)
		}
	}
	for _, n := range []string{AttrToken, AttrTokenFallback, AttrTokenFile, AttrCacheEnabled, AttrCacheTTL, AttrCacheMaxSize} {
		s, ok := sensitive[n]
		if !ok {
			t.Errorf("schema lacks %s", n)
		}
		if want := n == AttrToken || n == AttrTokenFallback; s != want {
			t.Errorf("%s: Sensitive = %v, want %v", n, s, want)
		}
	}
}

func isCode(err error, code provider.Code) bool {
	pe := provider.AsError(err)
	return pe != nil && pe.Code == code
}
