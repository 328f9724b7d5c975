// Package connect is the onepassword-connect provider: it resolves
// op://vault/item/[section/]field[?attribute=otp] references through a
// self-hosted 1Password Connect server, using connect-sdk-go v1.5.3.
//
// Users run Connect to avoid rate limits and cut latency, so request count
// and latency are part of correctness here: a Resolve batch looks each
// vault and item up once and fetches each item once, concurrently (see
// resolve.go), and every request runs under the caller's deadline with a
// per-attempt timeout, a concurrency limit and retries of transient
// failures (see transport.go).
package connect

import (
	"context"
	"sync"
	"time"

	sdk "github.com/1Password/connect-sdk-go/connect"
	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/plugins/internal/opref"
	"github.com/secrethost/secrethost/shared/provider"
)

// Name is the provider's name; Version is set at build time
// (-ldflags "-X github.com/secrethost/secrethost/plugins/onepassword-connect/connect.Version=...").
const Name = "onepassword-connect"

var Version = "0.1.0"

// Provider implements provider.Provider. It is safe for concurrent use
// after Configure.
type Provider struct {
	log hclog.Logger
	t   *transport
	now nowFunc

	mu  sync.RWMutex
	s   *settings
	pol *policy
	mem *idMemory // title -> ID guesses from earlier calls (warm.go)
}

var _ provider.Provider = (*Provider)(nil)

// New returns an unconfigured provider that logs through log (main passes
// the logger plugin.ServeFactory configured; nil means no log). It makes
// this package's transport http.DefaultClient's (see transport.go): the
// SDK sends through it.
func New(log hclog.Logger) *Provider {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Provider{log: log, t: install(), now: time.Now}
}

// userAgent is what Connect's activity log shows for this plugin.
func userAgent() string {
	return "secrethost-" + Name + "/" + Version + " connect-sdk-go/" + sdk.SDKVersion
}

func (p *Provider) GetInfo(context.Context, provider.InfoRequest) (provider.InfoResponse, error) {
	return provider.InfoResponse{
		Name:         Name,
		Version:      Version,
		Schemes:      []string{"op"},
		ConfigSchema: append([]provider.ConfigAttribute(nil), schema...),
		// Connect is reached over HTTP(S): the host gives the plugin its
		// proxy and CA settings (HTTPS_PROXY, SSL_CERT_FILE, ...).
		UsesNetwork: true,
	}, nil
}

func (p *Provider) Configure(_ context.Context, req provider.ConfigureRequest) (provider.ConfigureResponse, error) {
	s, warnings, err := parseConfig(req.Config)
	if err != nil {
		return provider.ConfigureResponse{}, err
	}
	pol := newPolicy(s, p.log)
	p.mu.Lock()
	p.s, p.pol = s, pol
	p.mem = newIDMemory(maxRemembered) // another server or token: guess nothing from before
	p.mu.Unlock()
	p.log.Debug("configured", "host", s.host, "token_from", s.tokenFrom, "request_timeout", s.timeout.String(),
		"max_concurrency", s.concurrent, "max_retries", s.retries, "ca_file", s.caFile)
	return provider.ConfigureResponse{Warnings: warnings}, nil
}

func (p *Provider) current() (*settings, *policy, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.s == nil {
		return nil, nil, provider.Errorf(provider.CodeInvalidConfig, "", "the provider is not configured: Configure must succeed first")
	}
	return p.s, p.pol, nil
}

func (p *Provider) memory() *idMemory {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.mem
}

// newResolver prepares one call: the token is read again if it comes from
// a file, so a rotated secret is used without a restart.
func (p *Provider) newResolver(ctx context.Context) (*resolver, error) {
	s, pol, err := p.current()
	if err != nil {
		return nil, err
	}
	token, terr := s.reloadToken()
	if terr != nil {
		p.log.Warn("cannot read the Connect token file again; using the token read before", "error", terr)
	}
	return &resolver{s: s, token: token, t: p.t, pol: pol, ua: userAgent(), ctx: ctx, now: p.now}, nil
}

// Validate parses each reference; it never touches the network. A valid
// reference that 1Password's other tools refuse gets a warning in the log
// (portability.go).
func (p *Provider) Validate(_ context.Context, req provider.ValidateRequest) (provider.ValidateResponse, error) {
	resp := provider.ValidateResponse{Results: make([]provider.ValidateResult, len(req.References))}
	for i, ref := range req.References {
		resp.Results[i] = provider.ValidateResult{Reference: ref}
		if _, err := parse(ref); err != nil {
			if w := sdkOnlyWarning(ref, err); w != "" {
				p.log.Warn(w, "reference", ref)
				continue
			}
			resp.Results[i].Err = err
		} else if w := portabilityWarning(ref); w != "" {
			p.log.Warn("reference "+w, "reference", ref)
		}
	}
	return resp, nil
}

func parse(ref string) (opref.Ref, *provider.Error) {
	r, err := opref.Parse(ref)
	if err != nil {
		msg := err.Error()
		if pe, ok := err.(*opref.Error); ok {
			msg = pe.Reason
		}
		return opref.Ref{}, &provider.Error{Code: provider.CodeInvalidReference, Reference: ref, Message: msg}
	}
	return r, nil
}

// Resolve resolves a batch: see resolve.go for the plan. One reference's
// failure never fails the others.
func (p *Provider) Resolve(ctx context.Context, req provider.ResolveRequest) (provider.ResolveResponse, error) {
	start := time.Now()
	ctx, cancel := callContext(ctx)
	defer cancel()
	r, err := p.newResolver(ctx)
	if err != nil {
		return provider.ResolveResponse{}, err
	}
	r.mem = p.memory()

	results := make([]provider.ResolveResult, len(req.References))
	refs := make([]opref.Ref, len(req.References))
	plan := map[string]map[string]bool{}
	r.refsOf = map[itemKey][]opref.Ref{}
	for i, raw := range req.References {
		results[i].Reference = raw
		ref, perr := parse(raw)
		if perr != nil {
			if sdkOnlyWarning(raw, perr) != "" {
				// Valid 1Password syntax that names nothing (portability.go).
				perr = &provider.Error{Code: provider.CodeNotFound, Reference: raw, Message: perr.Message + ": the reference names nothing, so nothing is found"}
			}
			results[i].Err = perr
			continue
		}
		refs[i] = ref
		if plan[ref.Vault] == nil {
			plan[ref.Vault] = map[string]bool{}
		}
		plan[ref.Vault][ref.Item] = true
		k := itemKey{ref.Vault, ref.Item}
		r.refsOf[k] = append(r.refsOf[k], ref)
	}

	items := r.resolveAll(plan)
	defer r.bg.Wait() // every download is awaited by its reference; this is a safety net

	failed := 0
	for i := range results {
		if results[i].Err == nil {
			results[i].Value, results[i].Err = r.value(items, refs[i], results[i].Reference)
		}
		if results[i].Err != nil {
			failed++
			results[i].Value = nil
		}
	}
	nItems := 0
	for _, m := range plan {
		nItems += len(m)
	}
	p.log.Debug("resolved batch", "references", len(req.References), "failed", failed, "vaults", len(plan),
		"items", nItems, "requests", r.stats.requests.Load(), "retries", r.stats.retries.Load(), "shared", r.stats.shared.Load(),
		"guessed", r.guessed.Load(),
		"duration", time.Since(start).Round(time.Microsecond).String())
	return provider.ResolveResponse{Results: results}, nil
}

// value picks one reference's value out of its fetched item.
func (r *resolver) value(items map[itemKey]itemResult, ref opref.Ref, raw string) ([]byte, *provider.Error) {
	res, ok := items[itemKey{ref.Vault, ref.Item}]
	switch {
	case !ok:
		return nil, provider.Errorf(provider.CodeInternal, raw, "item was not looked up (a bug in the plugin)")
	case res.fail != nil:
		return nil, res.fail.forRef(raw)
	}
	v, fl := r.targetValue(ref.Vault, res.item, ref)
	if fl != nil {
		return nil, fl.forRef(raw)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// Close releases idle connections. In-flight calls finish on their own.
func (p *Provider) Close(context.Context) error {
	if t, ok := p.t.base.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
	p.mu.RLock()
	pol := p.pol
	p.mu.RUnlock()
	if pol != nil {
		if t, ok := pol.base.(interface{ CloseIdleConnections() }); ok {
			t.CloseIdleConnections()
		}
	}
	return nil
}
