// Package serviceaccount is the onepassword-sa secrethost provider: op:// references
// resolved with a 1Password service account through the official SDK
// (github.com/1password/onepassword-sdk-go).
//
// The SDK runs 1Password's core as WebAssembly (extism on wazero), which
// costs seconds of CPU and ~150 MB at start-up; living in its own plugin
// process, that cost is paid only by those who use this provider, once per
// process, at the first call that needs 1Password (Resolve or Check).
//
// # Configure
//
//  1. The configuration is parsed: the token through shared/credential
//     (the rule every provider follows), the cache attributes as doco-cd
//     documents them. Errors are invalid_config and name the attribute.
//  2. The token's format is checked offline, as the SDK checks it ("ops_",
//     base64, the credentials JSON); a malformed token fails Configure
//     with invalid_config and the SDK's reason. Configure does not sign
//     in and does not load the SDK's core: validate stays offline and
//     fast. The first Resolve or Check signs in (once, shared by
//     concurrent callers); a token 1Password rejects fails that call with
//     unauthenticated, an outage with unavailable.
//
// # Resolve
//
// References are checked with opref.ValidateSDK: the SDK's own rules,
// without its core (a test runs both side by side over a corpus). A
// reference is sent to the SDK exactly as written. A batch is
// deduplicated, served from the cache where
// possible, and the rest fetched with one Secrets().ResolveAll; a
// reference already being fetched by a concurrent call is waited for
// rather than fetched again.
package serviceaccount

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	onepassword "github.com/1password/onepassword-sdk-go"
	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/shared/provider"
)

// Name is the provider's name in GetInfo.
const Name = "onepassword-sa"

// Provider implements provider.Provider. Create it with New.
type Provider struct {
	factory  clientFactory
	validate refValidator
	now      func() time.Time
	log      hclog.Logger

	verdicts verdictMemo
	st       atomic.Pointer[state]
	closed   atomic.Bool
}

// state is one successful Configure. Calls load it once and work on it, so
// a concurrent Configure or Close never changes it under them.
type state struct {
	cfg     config
	sess    *session
	cache   *cache // nil when the cache is disabled
	flights *group
}

var _ provider.Provider = (*Provider)(nil)

// New returns the provider backed by the real SDK, logging through log
// (main passes the logger plugin.ServeFactory configured; nil means no
// log).
func New(log hclog.Logger) *Provider {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return newProvider(newSDKClient, rulesValidate, time.Now, log)
}

func newProvider(f clientFactory, v refValidator, now func() time.Time, log hclog.Logger) *Provider {
	return &Provider{factory: f, validate: v, now: now, log: log, verdicts: verdictMemo{m: map[string]string{}}}
}

func (p *Provider) GetInfo(context.Context, provider.InfoRequest) (provider.InfoResponse, error) {
	return provider.InfoResponse{
		Name:         Name,
		Version:      version(),
		Schemes:      []string{"op"},
		ConfigSchema: append([]provider.ConfigAttribute(nil), schema...),
		// The SDK talks HTTPS to 1Password through http.DefaultClient
		// (extism's http_request host function), which honours
		// HTTPS_PROXY, NO_PROXY and SSL_CERT_FILE: the host passes them.
		UsesNetwork: true,
	}, nil
}

func (p *Provider) Configure(ctx context.Context, req provider.ConfigureRequest) (provider.ConfigureResponse, error) {
	if p.closed.Load() {
		return provider.ConfigureResponse{}, errClosed
	}
	cfg, warnings, perr := parseConfig(req.Config)
	if perr != nil {
		return provider.ConfigureResponse{}, perr
	}
	st := &state{
		cfg:     cfg,
		sess:    newSession(cfg.token, integration{name: IntegrationName, version: version()}, p.factory, p.log),
		flights: newGroup(),
	}
	if cfg.cacheEnabled {
		st.cache = newCache(cfg.cacheTTL, cfg.cacheMaxSize, p.now)
	}

	// The token's format is checked offline, as the SDK would check it;
	// signing in waits for the first call that needs 1Password (Resolve or
	// Check), so that Configure, and with it validate, never loads the
	// SDK's core or touches the network.
	if err := checkTokenFormat(cfg.token); err != nil {
		return provider.ConfigureResponse{}, provider.Errorf(provider.CodeInvalidConfig, "",
			"%s: not a valid 1Password service account token: %v", cfg.tokenFrom, err)
	}
	p.st.Store(st)
	if p.closed.Load() { // closed while signing in
		p.st.Store(nil)
		return provider.ConfigureResponse{}, errClosed
	}
	p.log.Debug("configured", "token_from", cfg.tokenFrom, "cache", cfg.cacheEnabled,
		"cache_ttl", cfg.cacheTTL, "cache_max_size", cfg.cacheMaxSize)
	return provider.ConfigureResponse{Warnings: warnings}, nil
}

var (
	errClosed        = provider.Errorf(provider.CodeInternal, "", "the provider is closed")
	errNotConfigured = provider.Errorf(provider.CodeInvalidConfig, "", "the provider is not configured: Configure must succeed first")
)

// Validate checks references offline, with opref and then the SDK's own
// validator. It does not need Configure: it uses no credential.
func (p *Provider) Validate(ctx context.Context, req provider.ValidateRequest) (provider.ValidateResponse, error) {
	resp := provider.ValidateResponse{Results: make([]provider.ValidateResult, len(req.References))}
	for i, ref := range req.References {
		_, perr, err := p.check(ctx, ref)
		if err != nil {
			return provider.ValidateResponse{}, p.fatal(err)
		}
		resp.Results[i] = provider.ValidateResult{Reference: ref, Err: perr}
	}
	return resp, nil
}

// fatal converts a failure to check references at all (the SDK core did
// not load, or the caller gave up) into a call error.
func (p *Provider) fatal(err error) error {
	if isContextError(err) {
		return err
	}
	return provider.Errorf(provider.CodeInternal, "", "%v", err)
}

// check returns ref when the SDK accepts it (what the SDK is sent, and the
// cache key), or the SDK's reason ref is invalid. The third result is set
// when the check could not run. The verdict is the SDK's own: service
// account mode accepts exactly the references the SDK does, checked by
// opref.ValidateSDK without the SDK's core.
func (p *Provider) check(ctx context.Context, ref string) (string, *provider.Error, error) {
	sdkErr, fatal := p.sdkVerdict(ctx, ref)
	if fatal != nil {
		return "", nil, fatal
	}
	if sdkErr != "" {
		e := provider.Errorf(provider.CodeInvalidReference, ref, "%s%s", sdkErr, unsupportedHint(ref))
		if !strings.HasPrefix(ref, "op://") {
			// Not a reference at all: it may be a secret pasted in the
			// wrong place, so it is never echoed.
			e.Reference = ""
		}
		return "", e, nil
	}
	// The SDK is sent exactly the reference it accepts.
	return ref, nil, nil
}

// sdkVerdict asks the SDK's validator about ref: "" when valid, else the
// SDK's reason. Verdicts are remembered: they never change, and the SDK
// serialises every call on its core, so an uncached check would wait for
// any ResolveAll in progress, network round trips included.
func (p *Provider) sdkVerdict(ctx context.Context, ref string) (string, error) {
	if v, ok := p.verdicts.get(ref); ok {
		return v, nil
	}
	err := p.validate(ctx, ref)
	switch {
	case err == nil:
		p.verdicts.put(ref, "")
		return "", nil
	case isCoreError(err) || isContextError(err):
		return "", err
	}
	reason := cleanMessage(err, "")
	reason = strings.TrimPrefix(reason, "the secret reference could not be parsed: ")
	if strings.HasSuffix(reason, "}") && !strings.Contains(reason, "{") {
		reason = strings.TrimSuffix(reason, "}") // a stray brace in the v0.4.1 core's message
	}
	p.verdicts.put(ref, reason)
	return reason, nil
}

// verdictMemo remembers the SDK's verdicts, bounded: when full it starts
// over, which is cheap and enough for the few hundred references a
// deployment uses.
type verdictMemo struct {
	mu sync.Mutex
	m  map[string]string
}

const maxVerdicts = 4096

func (v *verdictMemo) get(ref string) (string, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	r, ok := v.m[ref]
	return r, ok
}

func (v *verdictMemo) put(ref, reason string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.m) >= maxVerdicts {
		clear(v.m)
	}
	v.m[ref] = reason
}

func (p *Provider) configured() (*state, error) {
	if p.closed.Load() {
		return nil, errClosed
	}
	st := p.st.Load()
	if st == nil {
		return nil, errNotConfigured
	}
	return st, nil
}

func (p *Provider) Resolve(ctx context.Context, req provider.ResolveRequest) (provider.ResolveResponse, error) {
	st, err := p.configured()
	if err != nil {
		return provider.ResolveResponse{}, err
	}
	results := make([]provider.ResolveResult, len(req.References))
	keys := make([]string, len(req.References))
	var uniq []string
	seen := map[string]bool{}
	for i, ref := range req.References {
		results[i].Reference = ref
		key, perr, err := p.check(ctx, ref)
		if err != nil {
			return provider.ResolveResponse{}, p.fatal(err)
		}
		if perr != nil {
			results[i].Err = perr
			continue
		}
		keys[i] = key
		if !seen[key] {
			seen[key] = true
			uniq = append(uniq, key)
		}
	}

	got := st.lookup(ctx, uniq)
	for i := range results {
		if keys[i] == "" {
			continue
		}
		o := got[keys[i]]
		if o.err != nil {
			e := *o.err
			e.Reference = results[i].Reference
			results[i].Err = &e
			continue
		}
		results[i].Value = []byte(o.value)
	}
	return provider.ResolveResponse{Results: results}, nil
}

// cacheable reports whether a canonical reference's value may be cached:
// not a one-time password, which changes every 30 seconds.
func cacheable(key string) bool {
	return !strings.HasSuffix(key, "?attribute=otp") && !strings.HasSuffix(key, "?attribute=totp")
}

// lookup returns an outcome for each canonical reference in keys.
func (st *state) lookup(ctx context.Context, keys []string) map[string]outcome {
	out := make(map[string]outcome, len(keys))
	var missing []string
	for _, k := range keys {
		if v, ok := st.cached(k); ok {
			out[k] = outcome{value: v}
			continue
		}
		missing = append(missing, k)
	}
	if len(missing) == 0 {
		return out
	}
	for k, o := range st.flights.do(ctx, missing, st.fetch, st.cached, st.store) {
		out[k] = o
	}
	return out
}

func (st *state) cached(key string) (string, bool) {
	if st.cache == nil || !cacheable(key) {
		return "", false
	}
	return st.cache.get(key)
}

func (st *state) store(res map[string]outcome) {
	if st.cache == nil {
		return
	}
	for k, o := range res {
		if o.err == nil && cacheable(k) {
			st.cache.put(k, o.value)
		}
	}
}

// fetch resolves keys with one ResolveAll (two if the session had to be
// renewed) and returns an outcome for every key.
func (st *state) fetch(ctx context.Context, keys []string) map[string]outcome {
	out := make(map[string]outcome, len(keys))
	var resp onepassword.ResolveAllResponse
	err := st.sess.do(ctx, func(c sdkClient) error {
		var err error
		resp, err = c.ResolveAll(ctx, keys)
		return err
	})
	if err != nil {
		e := callError(err, st.cfg.token)
		for _, k := range keys {
			out[k] = outcome{err: e}
		}
		return out
	}
	for _, k := range keys {
		r, ok := resp.IndividualResponses[k]
		switch {
		case !ok:
			out[k] = outcome{err: provider.Errorf(provider.CodeInternal, "", "1Password returned no result for this reference")}
		case r.Error != nil:
			out[k] = outcome{err: refError(*r.Error, st.cfg.token)}
		case r.Content == nil:
			out[k] = outcome{err: provider.Errorf(provider.CodeInternal, "", "1Password returned neither a secret nor an error for this reference")}
		default:
			out[k] = outcome{value: r.Content.Secret}
		}
	}
	return out
}

func (p *Provider) Check(ctx context.Context, _ provider.CheckRequest) (provider.CheckResponse, error) {
	st, err := p.configured()
	if err != nil {
		return provider.CheckResponse{Items: []provider.CheckItem{{Name: "configured", OK: false, Detail: err.(*provider.Error).Message}}}, nil
	}
	items := []provider.CheckItem{{Name: "service account token", OK: true, Detail: "from " + st.cfg.tokenFrom}}

	var vaults int
	err = st.sess.do(ctx, func(c sdkClient) error {
		var err error
		vaults, err = c.ListVaults(ctx)
		return err
	})
	reach := provider.CheckItem{Name: "1Password reachable, token accepted", OK: err == nil}
	if err == nil {
		reach.Detail = fmt.Sprintf("%d vault(s) visible to the service account", vaults)
	} else {
		e := callError(err, st.cfg.token)
		reach.Detail = fmt.Sprintf("%s: %s", e.Code, e.Message)
		if e.RetryAfter > 0 {
			reach.Detail += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
		}
	}
	items = append(items, reach)

	c := provider.CheckItem{Name: "cache", OK: true, Detail: "disabled"}
	if st.cache != nil {
		c.Detail = fmt.Sprintf("enabled: ttl %s, at most %d secrets, %d cached", st.cfg.cacheTTL, st.cfg.cacheMaxSize, st.cache.len())
	}
	items = append(items, c)

	healthy := true
	for _, it := range items {
		healthy = healthy && it.OK
	}
	return provider.CheckResponse{Healthy: healthy, Items: items}, nil
}

// Close drops the client (the SDK releases its session in the core when the
// client is collected) and the cache. Calls other than GetInfo fail
// afterwards.
func (p *Provider) Close(context.Context) error {
	p.closed.Store(true)
	p.st.Store(nil)
	return nil
}
