package serviceaccount

import (
	"errors"
	"math"
	"time"

	"github.com/secrethost/secrethost/plugins/internal/attrs"
	"github.com/secrethost/secrethost/shared/credential"
	"github.com/secrethost/secrethost/shared/provider"
)

// Configuration attributes. The names are doco-cd's, so that its
// environment works unchanged with config_from_env.
const (
	AttrToken         = "SECRET_PROVIDER_ACCESS_TOKEN"
	AttrTokenFallback = "OP_SERVICE_ACCOUNT_TOKEN" // the name 1Password's own tools use
	AttrTokenFile     = "SECRET_PROVIDER_ACCESS_TOKEN_FILE"
	AttrCacheEnabled  = "SECRET_PROVIDER_CACHE_ENABLED"
	AttrCacheTTL      = "SECRET_PROVIDER_CACHE_TTL"
	AttrCacheMaxSize  = "SECRET_PROVIDER_CACHE_MAX_SIZE"
)

// Cache defaults, as doco-cd documents them.
const (
	DefaultCacheTTL     = 5 * time.Minute
	DefaultCacheMaxSize = 100
)

// tokenSpec is the credential rule for the service account token, applied
// by shared/credential exactly as the Connect plugin applies it to its own
// token, so both report the same problems in the same words.
var tokenSpec = credential.Spec{
	Inline: []string{AttrToken, AttrTokenFallback},
	File:   AttrTokenFile,
	What:   "service account token",
}

// schema is the configuration schema GetInfo publishes. No attribute is
// required on its own: the token must come from exactly one of the three
// token attributes, which Configure checks.
var schema = []provider.ConfigAttribute{
	{Name: AttrToken, Sensitive: true,
		Description: "1Password service account token (ops_...). Set this, or " + AttrTokenFallback + ", or " + AttrTokenFile + "."},
	{Name: AttrTokenFallback, Sensitive: true,
		Description: "Fallback for " + AttrToken + ", under the name 1Password's own tools use; ignored when " + AttrToken + " is set."},
	{Name: AttrTokenFile, SecretFile: true,
		Description: "Path of a file holding the service account token (a Docker or Kubernetes secret); exclusive with the inline token attributes."},
	{Name: AttrCacheEnabled,
		Description: "Cache resolved secrets in the plugin's memory: true or false (default false). One-time passwords are never cached."},
	{Name: AttrCacheTTL,
		Description: "How long a cached secret is used, as a Go duration such as 5m or 1h (default 5m); must be greater than 0 when the cache is enabled."},
	{Name: AttrCacheMaxSize,
		Description: "Maximum number of cached secrets; the least recently used is evicted first (default 100, at least 1)."},
}

// config is a parsed, valid configuration.
type config struct {
	token     string
	tokenFrom string // the attribute that supplied the token

	cacheEnabled bool
	cacheTTL     time.Duration
	cacheMaxSize int
}

// parseConfig validates cfg. Errors are *provider.Error with
// CodeInvalidConfig; their messages name attributes and may quote the
// value of a non-sensitive one, never a token. Warnings contain no value.
func parseConfig(cfg map[string]string) (config, []string, *provider.Error) {
	var c config
	var warnings []string

	// First: a misspelt name would otherwise be reported as the attribute
	// it was meant to be, missing.
	known := make([]string, len(schema))
	for i, a := range schema {
		known[i] = a.Name
	}
	if err := attrs.Check(cfg, known); err != nil {
		return c, nil, invalidConfig(err)
	}

	cred, err := credential.Load(cfg, tokenSpec)
	if err != nil {
		var ce *credential.Error
		if !errors.As(err, &ce) {
			// A Spec naming no variables: our bug, not the user's.
			return c, nil, provider.Errorf(provider.CodeInternal, "", "%v", err)
		}
		return c, nil, provider.Errorf(provider.CodeInvalidConfig, "", "%s", ce.Error())
	}
	c.token, c.tokenFrom = cred.Value, cred.From
	warnings = append(warnings, cred.Warnings...)

	if c.cacheEnabled, err = attrs.Bool(cfg, AttrCacheEnabled, false); err != nil {
		return c, nil, invalidConfig(err)
	}
	if c.cacheTTL, err = attrs.Duration(cfg, AttrCacheTTL, DefaultCacheTTL); err != nil {
		return c, nil, invalidConfig(err)
	}
	if c.cacheEnabled && c.cacheTTL <= 0 {
		return c, nil, provider.Errorf(provider.CodeInvalidConfig, "",
			"%s must be greater than 0 when %s is true, got %s", AttrCacheTTL, AttrCacheEnabled, c.cacheTTL)
	}
	// Checked even when the cache is disabled, as doco-cd does: a value
	// that would be rejected later should not wait for the cache to be
	// switched on to be noticed.
	if c.cacheMaxSize, err = attrs.Int(cfg, AttrCacheMaxSize, DefaultCacheMaxSize, 1, math.MaxInt); err != nil {
		return c, nil, invalidConfig(err)
	}
	return c, warnings, nil
}

func invalidConfig(err error) *provider.Error {
	return provider.Errorf(provider.CodeInvalidConfig, "", "%v", err)
}
