// Package host runs secret-provider plugins and resolves secret references
// through them. It has the shape of doco-cd's SecretProvider (Name,
// GetSecret, GetSecrets, ResolveSecretReferences, Close), so doco-cd can
// replace its compiled-in providers with a few lines:
//
//	h, err := host.Open("", host.WithLogger(logger)) // $SECRETHOST_CONFIG, or doco-cd's env
//	...
//	values, err := h.ResolveSecretReferences(ctx, deployConfig.ExternalSecrets)
//
// Plugins start on first use, one process per provider, reused across calls
// and restarted once if they crash. Each provider's process goes through
// one lifecycle (instance.go: stopped, described, configured, or rejected
// for Validate only); a provider block that declares its schemes starts
// only when a call has references of them. Every call is all or nothing: a failed
// reference fails the call with an error that names every failure, and no
// value is returned.
package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/host/config"
	"github.com/secrethost/secrethost/host/plugindir"
	"github.com/secrethost/secrethost/internal/harden"
	"github.com/secrethost/secrethost/shared/launch"
	"github.com/secrethost/secrethost/shared/provider"
)

// ErrClosed is returned by calls on a closed Host.
var ErrClosed = errors.New("secrethost: host is closed")

// Option configures a Host.
type Option func(*options)

type options struct {
	logger       hclog.Logger
	pluginDir    string
	pluginFrom   string // where pluginDir came from, for messages
	configFile   string // OpenDocoCD: a configuration file instead of doco-cd's variables
	lookupEnv    func(string) (string, bool)
	coreDumps    bool
	probeTimeout time.Duration
}

// WithLogger sets the logger; plugin logs are forwarded into it under each
// provider's name. The default discards everything.
func WithLogger(l hclog.Logger) Option { return func(o *options) { o.logger = l } }

// WithPluginDir overrides the plugin directory of the configuration and
// $SECRETHOST_PLUGIN_DIR (see EnvPluginDir).
func WithPluginDir(dir string) Option { return func(o *options) { o.pluginDir = dir } }

// WithPluginDirFrom is WithPluginDir naming where dir came from (the CLI's
// "--plugin-dir", say) for the error when no plugin is found there.
func WithPluginDirFrom(dir, from string) Option {
	return func(o *options) { o.pluginDir, o.pluginFrom = dir, from }
}

// WithLookupEnv replaces os.LookupEnv for config_from_env and for the
// configuration's env() function.
func WithLookupEnv(f func(string) (string, bool)) Option {
	return func(o *options) { o.lookupEnv = f }
}

// AllowCoreDumps leaves the process as it is. By default Open and New make
// the whole process non-dumpable with a soft core size limit of 0 on Linux
// (no core file, no ptrace by other processes of the same user), since it
// holds tokens and resolved secrets; an embedder that needs core dumps or
// an unprivileged debugger can opt out.
func AllowCoreDumps() Option { return func(o *options) { o.coreDumps = true } }

// Host routes references to provider plugins by scheme.
type Host struct {
	log       hclog.Logger
	pluginDir string
	// pluginDirSecret: pluginDir is the configuration's plugin_dir, read
	// with env() or file(), so it must not appear in any message.
	pluginDirSecret bool
	// pluginDirFrom says where pluginDir came from (see pluginDirOrigin).
	pluginDirFrom string
	lookupEnv     func(string) (string, bool)
	probeTimeout  time.Duration
	providers     []*instance
	// net: what plugins that use the network get (netenv.go).
	net netSettings

	mu     sync.Mutex
	closed bool
}

// Open loads the configuration: the file at configPath if not empty, else
// the one $SECRETHOST_CONFIG names, else the built-in doco-cd default. The
// working directory is never searched for a config.hcl: the directory a
// deployment runs in is not a trust boundary. A file that others may change
// is refused (see config.Load). Open then returns a Host.
func Open(configPath string, opts ...Option) (*Host, error) {
	o := collect(opts)
	o.harden() // before the configuration's tokens are read
	var (
		cfg *config.Config
		err error
	)
	if configPath != "" {
		cfg, err = config.Load(configPath, o.lookupEnv)
		if cfg != nil {
			cfg.Origin = "host.Open"
		}
	} else {
		cfg, err = config.FindAndLoad("", o.lookupEnv)
	}
	if err != nil {
		return nil, err
	}
	return New(cfg, opts...)
}

// New returns a Host for cfg. No plugin starts until it is needed.
func New(cfg *config.Config, opts ...Option) (*Host, error) {
	o := collect(opts)
	o.harden()
	// Socket directories of hosts that were killed too hard to clean up.
	launch.SweepStaleSocketDirs(o.logger)
	h := &Host{log: o.logger, lookupEnv: o.lookupEnv, probeTimeout: o.probeTimeout, net: networkSettings(o.lookupEnv)}
	if err := h.choosePluginDir(o, cfg); err != nil {
		return nil, err
	}
	if len(cfg.Providers) == 0 {
		return nil, errors.New("secrethost: no provider configured")
	}
	// The configuration's description names a path given by the caller
	// and where it came from, never a value of the file.
	h.log.Info("configuration in use: " + cfg.Describe())
	if len(h.net.names) > 0 { // names only: a proxy URL may hold a password
		h.log.Debug("network settings for plugins that use the network", "variables", strings.Join(h.net.names, ","))
	}
	for _, p := range cfg.Providers {
		pin, err := launch.ParsePin(p.SHA256)
		if err != nil {
			if p.IsSecret("sha256") {
				err = fmt.Errorf("%w: the value of sha256, read with env() or file(), is not 64 hex digits (not shown)", plugindir.ErrBadPin)
			}
			return nil, fmt.Errorf("provider %q (%s): %w", p.Name, p.Pos, err)
		}
		in := &instance{spec: p, pin: pin, host: h}
		in.staticRaw = append(in.staticSecrets(), h.net.secrets...)
		in.static = secretForms(in.staticRaw...)
		in.log = &scrubLogger{Logger: h.log.Named(p.Name), secrets: in.secretsNow}
		h.providers = append(h.providers, in)
	}
	return h, nil
}

func (o options) harden() {
	if o.coreDumps {
		return
	}
	if err := harden.Process(); err != nil {
		o.logger.Warn("cannot keep secrets out of core dumps", "error", err)
	}
}

func collect(opts []Option) options {
	o := options{}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = hclog.NewNullLogger()
	}
	if o.lookupEnv == nil {
		o.lookupEnv = os.LookupEnv
	}
	if o.probeTimeout <= 0 {
		o.probeTimeout = DefaultProbeTimeout
	}
	return o
}

// Name names the configured providers, as doco-cd's Name does.
func (h *Host) Name() string {
	names := make([]string, len(h.providers))
	for i, p := range h.providers {
		names[i] = p.spec.Name
	}
	return strings.Join(names, "+")
}

// PluginDir is the directory plugins are loaded from. When
// PluginDirSecret reports true, it must not be shown.
func (h *Host) PluginDir() string { return h.pluginDir }

// PluginDirSecret reports whether PluginDir is the configuration's
// plugin_dir read with env() or file(): a secret, like every such value.
func (h *Host) PluginDirSecret() bool { return h.pluginDirSecret }

// ShownPluginDir is PluginDir for a message: a placeholder when it is a
// secret.
func (h *Host) ShownPluginDir() string {
	if h.pluginDirSecret {
		return "(plugin_dir, read with env() or file(), not shown)"
	}
	return h.pluginDir
}

// GetSecret resolves one reference.
func (h *Host) GetSecret(ctx context.Context, ref string) (string, error) {
	vals, err := h.Resolve(ctx, []string{ref})
	if err != nil {
		return "", err
	}
	return string(vals[ref]), nil
}

// GetSecrets resolves references and returns them keyed by reference.
func (h *Host) GetSecrets(ctx context.Context, refs []string) (map[string]string, error) {
	vals, err := h.Resolve(ctx, refs)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(vals))
	for k, v := range vals {
		out[k] = string(v)
	}
	return out, nil
}

// ResolveSecretReferences takes variable name → reference and returns
// variable name → value; on any failure, an error naming every failed
// variable and no values.
func (h *Host) ResolveSecretReferences(ctx context.Context, secrets map[string]string) (map[string]string, error) {
	names := make([]string, 0, len(secrets))
	for name := range secrets {
		names = append(names, name)
	}
	sort.Strings(names)
	refs := make([]string, len(names))
	for i, n := range names {
		refs[i] = secrets[n]
	}
	vals, err := h.resolve(ctx, refs, names)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(names))
	for _, n := range names {
		out[n] = string(vals[secrets[n]])
	}
	return out, nil
}

// Resolve resolves references, all or nothing, keyed by reference.
func (h *Host) Resolve(ctx context.Context, refs []string) (map[string][]byte, error) {
	return h.resolve(ctx, refs, nil)
}

func (h *Host) resolve(ctx context.Context, refs, names []string) (map[string][]byte, error) {
	if err := h.usable(); err != nil {
		return nil, err
	}
	outcomes, err := h.dispatch(ctx, refs, needConfigured, "Resolve",
		func(ctx context.Context, p provider.Provider, batch []string) ([]outcome, error) {
			resp, err := p.Resolve(ctx, provider.ResolveRequest{References: batch})
			out := make([]outcome, len(resp.Results))
			for i, r := range resp.Results {
				out[i] = outcome{ref: r.Reference, value: r.Value, err: r.Err}
				if r.Err == nil && r.Value == nil {
					// Never pass an absent value off as an empty secret.
					out[i].err = provider.Errorf(provider.CodeInternal, r.Reference, "provider returned neither a value nor an error")
				}
			}
			return out, err
		})
	if err != nil {
		return nil, err
	}
	failures := map[string]*provider.Error{}
	out := make(map[string][]byte, len(outcomes))
	for ref, o := range outcomes {
		if o.err != nil {
			failures[ref] = o.err
		} else {
			out[ref] = o.value
		}
	}
	if len(failures) > 0 {
		return nil, newResolveError(refs, names, failures)
	}
	return out, nil
}

// outcome is what became of one reference in a call: a value (Resolve) or
// an error (nil for a valid or resolved reference).
type outcome struct {
	ref   string
	value []byte
	err   *provider.Error
}

// batchCall is one provider call for a batch of references, through the
// redaction layer; the client adapter has already checked one result per
// reference, in order.
type batchCall func(ctx context.Context, p provider.Provider, batch []string) ([]outcome, error)

// dispatch is the one fan-out of Resolve and Validate: it routes the
// distinct references to their providers (starting only the providers the
// call needs, see schemeMap), calls each provider with its batch
// concurrently, the process brought to n first, and returns every
// reference's outcome, routing failures included. The error joins the
// calls that could not be made at all.
func (h *Host) dispatch(ctx context.Context, refs []string, n need, method string, call batchCall) (map[string]outcome, error) {
	uniq := unique(refs)
	schemes, err := h.schemeMap(ctx, n)
	if err != nil {
		return nil, err
	}
	out := make(map[string]outcome, len(uniq))
	groups := routeWith(schemes, uniq, out)
	var mu sync.Mutex
	errs := make(chan error, len(groups))
	for in, batch := range groups {
		go func() {
			var results []outcome
			err := in.call(ctx, n, method, func(p provider.Provider) error {
				var err error
				results, err = call(ctx, p, batch)
				return err
			})
			if err == nil {
				mu.Lock()
				for _, r := range results {
					out[r.ref] = r
				}
				mu.Unlock()
			}
			errs <- err
		}()
	}
	var all []error
	for range groups {
		all = append(all, <-errs)
	}
	return out, errors.Join(all...)
}

// routeWith groups refs by the provider of their scheme; a reference with
// no provider fails as invalid_reference (an outcome in failed).
func routeWith(schemes map[string]*instance, refs []string, failed map[string]outcome) map[*instance][]string {
	groups := map[*instance][]string{}
	fail := func(ref string, e *provider.Error) { failed[ref] = outcome{ref: ref, err: e} }
	for _, ref := range refs {
		scheme, ok := provider.SchemeOf(ref)
		in := schemes[scheme]
		switch {
		case !utf8.ValidString(ref):
			// Caught here, before the wire (gRPC cannot marshal it and
			// would fail the whole batch), and never shown: it may be a
			// secret put where a reference belongs.
			fail(ref, provider.Errorf(provider.CodeInvalidReference, SafeReference(ref),
				"not valid UTF-8 text, so not a secret reference (its bytes are not shown)"))
		case !ok:
			// Not shown either: a value that is not a reference may be a
			// secret pasted in place of one.
			fail(ref, provider.Errorf(provider.CodeInvalidReference, SafeReference(ref),
				"not a secret reference (the value is not shown): expected <scheme>://…, where scheme is one of %s", schemeList(schemes)))
		case in == nil:
			// Not shown: a value with a scheme no provider handles did
			// not parse as a reference either (a URL holding a token,
			// https://oauth2:ghp_…@github.com/…, say).
			fail(ref, provider.Errorf(provider.CodeInvalidReference, unknownSchemeRef,
				"not a reference of a configured scheme (the value is not shown); configured schemes: %s", schemeList(schemes)))
		default:
			groups[in] = append(groups[in], ref)
		}
	}
	return groups
}

// schemeMap maps each scheme to its provider. A provider whose block
// declares its schemes (schemes = ["op"]) is taken at its word and not
// started here: it starts when a reference of one of them is routed to it
// (and fails then if the plugin handles other schemes). Every other
// provider is brought to n, concurrently, to learn its schemes: with one
// provider, that is simply its first start.
func (h *Host) schemeMap(ctx context.Context, n need) (map[string]*instance, error) {
	errs := make([]error, len(h.providers))
	declared := make([][]string, len(h.providers))
	var wg sync.WaitGroup
	for i, in := range h.providers {
		if len(in.spec.Schemes) > 0 {
			declared[i] = lowered(in.spec.Schemes)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := in.ready(ctx, n)
			if err == nil {
				declared[i] = lowered(p.info.Schemes)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := map[string]*instance{}
	for i, in := range h.providers {
		for _, s := range declared[i] {
			if prev, dup := out[s]; dup {
				return nil, &ConfigError{fmt.Errorf("providers %q (%s) and %q (%s) both handle %q references; configure only one of them",
					prev.spec.Name, prev.spec.Pos, in.spec.Name, in.spec.Pos, s)}
			}
			out[s] = in
		}
	}
	return out, nil
}

// Close stops every plugin. The Host is unusable afterwards.
func (h *Host) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	h.mu.Unlock()
	var wg sync.WaitGroup
	for _, in := range h.providers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in.stop()
		}()
	}
	wg.Wait()
}

func (h *Host) usable() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return ErrClosed
	}
	return nil
}

func schemeList(m map[string]*instance) string {
	s := make([]string, 0, len(m))
	for k := range m {
		s = append(s, k)
	}
	return provider.SchemeList(s)
}

func unique(refs []string) []string {
	seen := make(map[string]bool, len(refs))
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}
