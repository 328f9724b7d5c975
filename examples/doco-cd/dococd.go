// Package dococd shows secrethost as a drop-in for doco-cd's secret
// providers: the host library has the shape of doco-cd's SecretProvider
// interface (internal/secretprovider in github.com/kimdre/doco-cd), so
// doco-cd can run its providers as plugins with a few lines.
//
// In doco-cd, replace
//
//	provider, err := secretprovider.Initialize(ctx, c.SecretProvider, version)
//
// with
//
//	provider, err := dococd.Open(logger) // or host.Open("", ...) directly
//
// Everything else stays: deploy configurations keep their
// external_secrets mapping, and doco-cd's container keeps its environment
// (SECRET_PROVIDER=1password, SECRET_PROVIDER_CONNECT_HOST,
// SECRET_PROVIDER_CONNECT_TOKEN or SECRET_PROVIDER_CONNECT_TOKEN_FILE),
// which secrethost's built-in default configuration reads. The plugins live
// in a "plugins" directory next to the doco-cd binary (or wherever
// plugin_dir in the file $SECRETHOST_CONFIG names points).
package dococd

import (
	"context"

	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/host"
)

// ResolvedSecrets is doco-cd's secrettypes.ResolvedSecrets: variable name
// to secret value.
type ResolvedSecrets map[string]string

// SecretProvider is doco-cd's interface, repeated here so that this
// example compiles without doco-cd; *Provider satisfies it.
type SecretProvider interface {
	// GetSecret retrieves one secret by reference.
	GetSecret(ctx context.Context, id string) (string, error)
	// Name returns the name of the secret provider.
	Name() string
	// GetSecrets retrieves several secrets, keyed by reference.
	GetSecrets(ctx context.Context, ids []string) (map[string]string, error)
	// ResolveSecretReferences maps variable names to references, and
	// returns variable names to values.
	ResolveSecretReferences(ctx context.Context, secrets map[string]string) (ResolvedSecrets, error)
	// Close cleans up resources used by the provider.
	Close()
}

// Provider adapts *host.Host to doco-cd's SecretProvider. The only
// difference is the named map type ResolveSecretReferences returns.
type Provider struct {
	*host.Host
}

var _ SecretProvider = (*Provider)(nil)

// ResolveSecretReferences resolves all references or none: on any failure
// the error (a *host.ResolveError) names every failed variable and
// reference, and no value is returned.
func (p *Provider) ResolveSecretReferences(ctx context.Context, secrets map[string]string) (ResolvedSecrets, error) {
	values, err := p.Host.ResolveSecretReferences(ctx, secrets)
	if err != nil {
		return nil, err
	}
	return ResolvedSecrets(values), nil
}

// Open is doco-cd's secretprovider.Initialize for plugins: it loads the
// file $SECRETHOST_CONFIG names, or else the built-in default that reads
// doco-cd's environment (never a config.hcl in the working directory, which
// a deploy repository could supply), and returns the provider. No plugin starts until
// the first secret is needed. opts may set the plugin directory, the
// logger or the environment lookup.
func Open(logger hclog.Logger, opts ...host.Option) (*Provider, error) {
	if logger != nil {
		opts = append([]host.Option{host.WithLogger(logger)}, opts...)
	}
	h, err := host.Open("", opts...)
	if err != nil {
		return nil, err
	}
	return &Provider{Host: h}, nil
}
