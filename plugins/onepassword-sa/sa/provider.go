// Package sa is the onepassword-sa secrethost provider: op:// references
// resolved with a 1Password service account through the official SDK
// (github.com/1password/onepassword-sdk-go).
//
// The SDK runs 1Password's core as WebAssembly (extism on wazero), which
// costs seconds of CPU and ~150 MB at start-up; living in its own plugin
// process, that cost is paid only by those who use this provider, once per
// process, during Configure.
//
// # Configure
//
//  1. The configuration is parsed: the token through shared/credential
//     (the rule every provider follows), the cache attributes as doco-cd
//     documents them. Errors are invalid_config and name the attribute.
//  2. The SDK signs in. It first checks the token's format offline; a
//     token that is not a service account token fails Configure with
//     invalid_config and the SDK's reason, without any request. A token
//     1Password rejects fails Configure with unauthenticated.
//  3. If 1Password cannot be reached (or rate-limits the sign-in),
//     Configure succeeds with a warning saying so (code unavailable): the
//     token's format is known to be valid, offline validation works, and
//     the plugin signs in on first use. Failing instead would make the
//     host kill the process and pay for the SDK core again on every retry
//     during an outage, and would block offline validation on the network.
//     Everything the user can fix (a malformed or rejected token) still
//     fails at start; Check reports the outage too.
//
// # Resolve
//
// References are parsed with plugins/internal/opref (the syntax shared
// with the Connect plugin) and then checked with the SDK's own offline
// validator, in their canonical form, which is also what the SDK is sent.
// A batch is deduplicated by canonical form, served from the cache where
// possible, and the rest fetched with one Secrets().ResolveAll; a
// reference already being fetched by a concurrent call is waited for
// rather than fetched again.
package sa

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	onepassword "github.com/1password/onepassword-sdk-go"
	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/plugins/internal/opref"
	"github.com/secrethost/secrethost/shared/plugin"
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

// New returns the provider backed by the real SDK.
func New() *Provider {
	return newProvider(newSDKClient, sdkValidate, time.Now, plugin.Logger())
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

	deferred := false
	if _, _, err := st.sess.newer(ctx, 0); err != nil {
		cause := err
		if se := (*signInError)(nil); errors.As(err, &se) {
			cause = se.err
		}
		code := classify(cause)
		msg := cleanMessage(cause, cfg.token)
		switch {
		case code == provider.CodeInvalidConfig:
			return provider.ConfigureResponse{}, provider.Errorf(code, "",
				"%s: not a valid 1Password service account token: %s", cfg.tokenFrom, msg)
		case code == provider.CodeUnauthenticated || code == provider.CodePermissionDenied:
			return provider.ConfigureResponse{}, provider.Errorf(code, "",
				"%s: 1Password rejected the service account token: %s", cfg.tokenFrom, msg)
		case (code == provider.CodeUnavailable || code == provider.CodeRateLimited) && ctx.Err() == nil && !isCoreError(cause):
			// The host logs Configure's warnings; logging it here too
			// would print it twice.
			deferred = true
			warnings = append(warnings, fmt.Sprintf("cannot sign in to 1Password now (%s): %s; the token's format is valid, so the provider starts and signs in on first use", code, msg))
		default:
			e := sdkError("signing in to 1Password", cause, cfg.token)
			if e.Code == provider.CodeInvalidConfig {
				e.Code = provider.CodeInternal
			}
			return provider.ConfigureResponse{}, e
		}
	}
	p.st.Store(st)
	if p.closed.Load() { // closed while signing in
		p.st.Store(nil)
		return provider.ConfigureResponse{}, errClosed
	}
	p.log.Debug("configured", "token_from", cfg.tokenFrom, "cache", cfg.cacheEnabled,
		"cache_ttl", cfg.cacheTTL, "cache_max_size", cfg.cacheMaxSize, "signed_in", !deferred)
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

// check returns the canonical form of ref (what the SDK is sent, and the
// cache key), or the reason ref is invalid. The third result is set when
// the check could not run.
//
// Verdicts: opref's message comes first, as it is the syntax every
// secrethost 1Password provider shares. When opref accepts a reference
// that the SDK rejects, the SDK's reason is given; when opref rejects one
// that the SDK would accept, the message says so (a doco-cd user may have
// relied on it).
func (p *Provider) check(ctx context.Context, ref string) (string, *provider.Error, error) {
	parsed, err := opref.Parse(ref)
	if err != nil {
		var oe *opref.Error
		if !errors.As(err, &oe) {
			return "", provider.Errorf(provider.CodeInvalidReference, "", "%v", err), nil
		}
		e := &provider.Error{Code: provider.CodeInvalidReference, Message: oe.Reason}
		if oe.Ref != "" {
			// opref leaves Ref empty for input that is not op:// at all,
			// which may be a secret pasted in the wrong place: never
			// echo it, and never show it to the SDK either.
			e.Reference = ref
			sdkErr, fatal := p.sdkVerdict(ctx, oe.Ref)
			if fatal != nil {
				return "", nil, fatal
			}
			if sdkErr == "" {
				e.Message += " (the 1Password SDK alone would accept this reference, but secrethost's 1Password providers share one reference syntax)"
			}
		}
		return "", e, nil
	}
	key := parsed.String()
	sdkErr, fatal := p.sdkVerdict(ctx, key)
	if fatal != nil {
		return "", nil, fatal
	}
	if sdkErr != "" {
		return "", provider.Errorf(provider.CodeInvalidReference, ref,
			"the 1Password SDK cannot use this reference: %s", sdkErr), nil
	}
	return key, nil, nil
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
	return !strings.HasSuffix(key, "?attribute="+opref.AttrOTP.String())
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
