package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/secrethost/secrethost/host/config"
	"github.com/secrethost/secrethost/internal/bounded"
	"github.com/secrethost/secrethost/shared/credential"
	"github.com/secrethost/secrethost/shared/provider"
)

// DocoCDName is doco-cd's name of its 1Password provider, the value of its
// SECRET_PROVIDER that OpenDocoCD serves, and what DocoCD.Name returns.
const DocoCDName = "1password"

// doco-cd's variables (internal/secretprovider/1password/config.go).
const (
	docoAccessToken      = "SECRET_PROVIDER_ACCESS_TOKEN"
	docoAccessTokenFile  = "SECRET_PROVIDER_ACCESS_TOKEN_FILE"
	docoConnectHost      = "SECRET_PROVIDER_CONNECT_HOST"
	docoConnectToken     = "SECRET_PROVIDER_CONNECT_TOKEN"
	docoConnectTokenFile = "SECRET_PROVIDER_CONNECT_TOKEN_FILE"
	docoCacheEnabled     = "SECRET_PROVIDER_CACHE_ENABLED"
	docoCacheTTL         = "SECRET_PROVIDER_CACHE_TTL"
	docoCacheMaxSize     = "SECRET_PROVIDER_CACHE_MAX_SIZE"
)

// ErrDocoCDConfig is wrapped by every error of OpenDocoCD about doco-cd's
// variables (doco-cd wraps its own config.ErrParseConfigFailed around it).
var ErrDocoCDConfig = errors.New("doco-cd 1Password configuration")

// ErrUnknownDocoCDProvider: OpenDocoCD serves only DocoCDName.
var ErrUnknownDocoCDProvider = errors.New("secrethost serves only doco-cd's SECRET_PROVIDER=" + DocoCDName)

// WithConfigFile makes OpenDocoCD load this configuration file (see Open)
// instead of deriving its provider from doco-cd's variables.
func WithConfigFile(path string) Option { return func(o *options) { o.configFile = path } }

// DocoCD is a Host in doco-cd mode: it has doco-cd's SecretProvider method
// set (ResolveSecretReferences returns a plain map, which doco-cd's
// secrettypes.ResolvedSecrets takes as it is), Name is "1password", and
// its errors carry "rate limit" whenever a backend asked to slow down, so
// that doco-cd's retry wrapper (which matches "429", "too many requests",
// "rate limit" and "rate-limit" in the message) retries exactly those.
type DocoCD struct {
	*Host
}

// OpenDocoCD is the host for doco-cd's secretprovider.Initialize. provider
// is the caller's SECRET_PROVIDER value; only "1password" is served. It
// reads no configuration file (unless WithConfigFile gives one; not even
// $SECRETHOST_CONFIG) and chooses between 1Password Connect and a service
// account exactly as doco-cd's GetConfig does, from doco-cd's variables
// only (SECRET_PROVIDER_CONNECT_HOST with SECRET_PROVIDER_CONNECT_TOKEN or
// its _FILE: Connect; one of host and token alone: an error; otherwise
// SECRET_PROVIDER_ACCESS_TOKEN or its _FILE: service account). OP_CONNECT_HOST,
// OP_CONNECT_TOKEN and OP_SERVICE_ACCOUNT_TOKEN change nothing.
//
// It starts and configures the plugin before it returns, so that a missing
// plugin or a configuration it rejects fails start-up, as doco-cd's own
// Initialize does; the service-account plugin then signs in in the
// background, so that the first deployment does not wait for 1Password's
// core to load. logger may be nil (nothing is logged).
func OpenDocoCD(ctx context.Context, providerName string, logger *slog.Logger, opts ...Option) (*DocoCD, error) {
	if providerName != DocoCDName {
		return nil, fmt.Errorf("%w: SECRET_PROVIDER is %q", ErrUnknownDocoCDProvider, providerName)
	}
	opts = append([]Option{WithSlog(logger)}, opts...)
	o := collect(opts)
	var (
		h   *Host
		err error
	)
	if o.configFile != "" {
		h, err = Open(o.configFile, opts...)
	} else {
		var cfg *config.Config
		if cfg, err = DocoCDConfig(o.lookupEnv); err != nil {
			return nil, err
		}
		h, err = New(cfg, opts...)
	}
	if err != nil {
		return nil, err
	}
	d := &DocoCD{Host: h}
	if err := d.start(ctx); err != nil {
		h.Close()
		return nil, err
	}
	return d, nil
}

// start starts and configures every plugin now; the service-account one
// then signs in in the background.
func (d *DocoCD) start(ctx context.Context) error {
	var errs []error
	for _, in := range d.providers {
		if _, err := in.ready(ctx, needConfigured); err != nil {
			errs = append(errs, err)
			continue
		}
		if in.spec.Plugin == "onepassword-sa" {
			go d.warm(context.WithoutCancel(ctx), in)
		}
	}
	return errors.Join(errs...)
}

// warmTimeout bounds the background sign-in of OpenDocoCD.
const warmTimeout = 2 * time.Minute

// warm signs the plugin in (its Check lists the vaults), which loads the
// SDK's core; a failure is only logged: the first deployment reports it.
func (d *DocoCD) warm(ctx context.Context, in *instance) {
	ctx, cancel := context.WithTimeout(ctx, warmTimeout)
	defer cancel()
	start := time.Now()
	var resp provider.CheckResponse
	err := in.call(ctx, needConfigured, "Check", func(p provider.Provider) error {
		var err error
		resp, err = p.Check(ctx, provider.CheckRequest{})
		return err
	})
	switch {
	case err != nil:
		in.log.Debug("background sign-in failed", "error", err)
	case !resp.Healthy:
		in.log.Warn("background sign-in: 1Password not reachable or the token was not accepted; deployments will report why")
	default:
		in.log.Debug("signed in in the background", "took", time.Since(start).Round(time.Millisecond))
	}
}

// Name is doco-cd's name of the provider: "1password".
func (d *DocoCD) Name() string { return DocoCDName }

// GetSecret resolves one reference.
func (d *DocoCD) GetSecret(ctx context.Context, ref string) (string, error) {
	v, err := d.Host.GetSecret(ctx, ref)
	return v, docoError(err)
}

// GetSecrets resolves references, keyed by reference.
func (d *DocoCD) GetSecrets(ctx context.Context, refs []string) (map[string]string, error) {
	v, err := d.Host.GetSecrets(ctx, refs)
	return v, docoError(err)
}

// ResolveSecretReferences maps variable names to values, all or nothing.
func (d *DocoCD) ResolveSecretReferences(ctx context.Context, secrets map[string]string) (map[string]string, error) {
	v, err := d.Host.ResolveSecretReferences(ctx, secrets)
	return v, docoError(err)
}

// RateLimitError is an error of a call in which a backend asked to slow
// down (provider.CodeRateLimited). Its message starts with "rate limit",
// which doco-cd's retry wrapper classifies as retryable.
type RateLimitError struct{ Err error }

func (e *RateLimitError) Error() string {
	return "rate limit: the 1Password backend asked to slow down (too many requests): " + e.Err.Error()
}

func (e *RateLimitError) Unwrap() error { return e.Err }

func docoError(err error) error {
	if err != nil && errors.Is(err, provider.ErrRateLimited) {
		return &RateLimitError{Err: err}
	}
	return err
}

// DocoCDConfig is the configuration doco-cd's variables describe, chosen
// by doco-cd's GetConfig rule (see OpenDocoCD). lookupEnv reads them.
func DocoCDConfig(lookupEnv func(string) (string, bool)) (*config.Config, error) {
	get := func(k string) string {
		v, _ := lookupEnv(k)
		return v
	}
	cerr := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrDocoCDConfig}, args...)...)
	}
	// doco-cd reads each _FILE first (a file it cannot read is an
	// error), then refuses a value set both ways, then uses the file's
	// content without surrounding whitespace.
	accessSet, err := docoTokenSet(get(docoAccessToken), get(docoAccessTokenFile), docoAccessToken, cerr)
	if err != nil {
		return nil, err
	}
	connectSet, err := docoTokenSet(get(docoConnectToken), get(docoConnectTokenFile), docoConnectToken, cerr)
	if err != nil {
		return nil, err
	}
	hostSet := get(docoConnectHost) != ""
	if hostSet != connectSet {
		return nil, cerr("%s and %s (or %s) must be set together", docoConnectHost, docoConnectToken, docoConnectTokenFile)
	}
	network := true // both 1Password plugins say so: one start, with the proxy/CA settings
	p := config.ProviderBlock{
		Select:       DocoCDName,
		Schemes:      []string{"op"},
		Network:      &network,
		Config:       map[string]string{},
		SecretConfig: map[string]bool{},
		Pos:          "doco-cd's variables (SECRET_PROVIDER=" + DocoCDName + ")",
	}
	pass := func(names ...string) {
		for _, n := range names {
			if v := get(n); v != "" {
				p.Config[n] = v
			}
		}
	}
	if hostSet {
		p.Name, p.Plugin = "onepassword-connect", "onepassword-connect"
		pass(docoConnectHost, docoConnectToken, docoConnectTokenFile)
		p.SecretConfig[docoConnectToken] = p.Config[docoConnectToken] != ""
	} else {
		if !accessSet {
			return nil, cerr("%s (or %s) is required when %s/%s are not set", docoAccessToken, docoAccessTokenFile, docoConnectHost, docoConnectToken)
		}
		p.Name, p.Plugin = "onepassword-sa", "onepassword-sa"
		pass(docoAccessToken, docoAccessTokenFile, docoCacheEnabled, docoCacheTTL, docoCacheMaxSize)
		p.SecretConfig[docoAccessToken] = p.Config[docoAccessToken] != ""
	}
	return &config.Config{
		Source:    "doco-cd's variables",
		Origin:    "host.OpenDocoCD",
		Providers: []config.ProviderBlock{p},
	}, nil
}

// docoTokenSet reports whether doco-cd would see the token set: its value,
// or the non-blank content of its _FILE (never both).
func docoTokenSet(value, file, name string, cerr func(string, ...any) error) (bool, error) {
	if file == "" {
		return value != "", nil
	}
	f, err := os.Open(file)
	if err != nil {
		return false, cerr("%s_FILE: cannot read the file: %v", name, errors.Unwrap(err))
	}
	defer f.Close()
	content, err := bounded.ReadAll(f, credential.MaxFileSize)
	if err != nil {
		return false, cerr("%s_FILE: cannot read the file: %v", name, err)
	}
	if value != "" {
		return false, cerr("both secrets are set, please use one or the other: %s or %s_FILE", name, name)
	}
	return strings.TrimSpace(string(content)) != "", nil
}
