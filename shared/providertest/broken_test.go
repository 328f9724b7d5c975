package providertest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/secrethost/secrethost/examples/file-provider/fileprovider"
	"github.com/secrethost/secrethost/shared/provider"
	"github.com/secrethost/secrethost/shared/providertest/internal/broken"
)

// Each broken provider wraps a good file provider and breaks one rule, in
// a way that only the check for that rule can see. Where a bug would
// naturally show in several checks, the breakage is narrowed to the
// situation that check creates (a multi-reference batch, a second
// instance, ...), so that each check is shown to fail on its own.

// brokenCase is a provider that breaks one rule, and the check that must
// catch it.
type brokenCase struct {
	name  string
	fails string // the only check that must fail
	wrap  func(p *fileprovider.Provider, f *fixture) provider.Provider
	// suite adjusts the suite, for breakages that need particular data or
	// a different Suite.New.
	suite func(s *Suite, f *fixture)
}

var brokenCases = []brokenCase{
	// Info
	{name: "declares no scheme", fails: "Info", wrap: func(p *fileprovider.Provider, _ *fixture) provider.Provider { return noSchemes{p} }},
	{name: "config attribute without description", fails: "Info", wrap: func(p *fileprovider.Provider, _ *fixture) provider.Provider { return undocumentedAttr{p} }},
	{name: "GetInfo needs Configure", fails: "Info", wrap: func(p *fileprovider.Provider, _ *fixture) provider.Provider {
		return &infoNeedsConfigure{tracksConfigure{Provider: p}}
	}},
	{name: "served without the plugin adapters", fails: "Info", suite: func(s *Suite, f *fixture) {
		s.New = func(testing.TB) provider.Provider { return f.provider() }
	}},
	// Configure
	{name: "accepts a bad config", fails: "Configure", wrap: func(p *fileprovider.Provider, _ *fixture) provider.Provider { return acceptsBadConfig{p} }},
	{name: "rejects a bad config without a typed error", fails: "Configure", wrap: func(p *fileprovider.Provider, _ *fixture) provider.Provider { return untypedConfigError{p} }},
	// NoSecretsInErrors
	{name: "echoes its config in not_found errors", fails: "NoSecretsInErrors", wrap: func(p *fileprovider.Provider, _ *fixture) provider.Provider { return &echoesConfig{Provider: p} }},
	{name: "echoes a sensitive attribute when rejecting a config", fails: "NoSecretsInErrors",
		wrap: func(p *fileprovider.Provider, _ *fixture) provider.Provider { return echoesToken{p} },
		suite: func(s *Suite, _ *fixture) {
			s.BadConfig = map[string]string{"dir": s.BadConfig["dir"], "token": "tok-bad-config-0042"}
		}},
	// EmptyBatch
	{name: "fails an empty Resolve", fails: "EmptyBatch", wrap: func(p *fileprovider.Provider, _ *fixture) provider.Provider { return rejectsEmptyBatch{p} }},
	// OneResultPerReference
	{name: "drops the results of failed references", fails: "OneResultPerReference", wrap: func(p *fileprovider.Provider, _ *fixture) provider.Provider { return dropsFailures{p} }},
	{name: "fails the whole batch on one bad reference", fails: "OneResultPerReference", wrap: func(p *fileprovider.Provider, _ *fixture) provider.Provider { return failsBatch{p} }},
	{name: "puts failures last", fails: "OneResultPerReference", wrap: func(p *fileprovider.Provider, _ *fixture) provider.Provider { return failuresLast{p} }},
	{name: "answers internal for a missing secret", fails: "OneResultPerReference", wrap: func(p *fileprovider.Provider, _ *fixture) provider.Provider { return internalForMissing{p} }},
	// Duplicates
	{name: "deduplicates the batch", fails: "Duplicates", wrap: func(p *fileprovider.Provider, _ *fixture) provider.Provider { return broken.Dedups{Provider: p} }},
	// UnknownScheme
	{name: "ignores the scheme", fails: "UnknownScheme", wrap: func(p *fileprovider.Provider, _ *fixture) provider.Provider { return anyScheme{p} }},
	// ValidateBeforeConfigure
	{name: "Validate needs Configure", fails: "ValidateBeforeConfigure", wrap: func(p *fileprovider.Provider, _ *fixture) provider.Provider {
		return &validateNeedsConfigure{tracksConfigure{Provider: p}}
	}},
	// ValidateOffline
	{name: "Validate contacts the backend", fails: "ValidateOffline", wrap: func(p *fileprovider.Provider, f *fixture) provider.Provider { return validateFetches{p, &f.reads} }},
	// ValidateAgreesWithResolve
	{name: "Resolve looks up the empty name", fails: "ValidateAgreesWithResolve", wrap: func(p *fileprovider.Provider, _ *fixture) provider.Provider { return resolvesEmptyName{p} }},
	// Concurrency
	{name: "shares a scratch value between calls", fails: "Concurrency", wrap: func(p *fileprovider.Provider, _ *fixture) provider.Provider { return &sharedScratch{Provider: p} }},
	// StableValues
	{name: "returns empty values", fails: "StableValues", wrap: func(p *fileprovider.Provider, _ *fixture) provider.Provider { return emptyValues{p} }},
	{name: "single-reference path returns another value", fails: "StableValues", wrap: func(p *fileprovider.Provider, _ *fixture) provider.Provider { return singleFastPath{p} }},
	{name: "values depend on the instance", fails: "StableValues", wrap: func(p *fileprovider.Provider, _ *fixture) provider.Provider {
		return perInstance{p, fmt.Sprint(instances.Add(1))}
	}},
	// CheckAndClose
	{name: "Check fails as a call", fails: "CheckAndClose", wrap: func(p *fileprovider.Provider, _ *fixture) provider.Provider { return checkFails{p} }},
	{name: "Check reports unhealthy", fails: "CheckAndClose", wrap: func(p *fileprovider.Provider, _ *fixture) provider.Provider { return broken.Unhealthy{Provider: p} }},
	{name: "Close fails", fails: "CheckAndClose", wrap: func(p *fileprovider.Provider, _ *fixture) provider.Provider { return closeFails{p} }},
}

// TestBrokenProviders runs the whole kit against each broken provider and
// asserts that exactly the check for the broken rule fails. With -v, the
// log shows how the kit reports each breakage.
func TestBrokenProviders(t *testing.T) {
	for _, bc := range brokenCases {
		t.Run(bc.name, func(t *testing.T) {
			f := newFixture(t)
			s := f.suite(InProcess(func() provider.Provider { return bc.wrap(f.provider(), f) }))
			if bc.suite != nil {
				bc.suite(&s, f)
			}
			got := record(t, s)
			for _, c := range checks {
				r := got[c.name]
				switch want := c.name == bc.fails; {
				case want && !r.Failed():
					t.Errorf("check %s passed; it must catch a provider that %s", c.name, bc.name)
				case !want && r.Failed():
					t.Errorf("check %s failed too; only %s should catch a provider that %s:\n\t%s", c.name, bc.fails, bc.name, strings.Join(r.log, "\n\t"))
				case want:
					t.Logf("%s reports:\n\t%s", c.name, strings.Join(r.log, "\n\t"))
				}
			}
		})
	}
}

// TestEveryCheckCanFail makes sure no check goes without a broken provider
// proving that it can fail.
func TestEveryCheckCanFail(t *testing.T) {
	for _, c := range checks {
		if !slices.ContainsFunc(brokenCases, func(bc brokenCase) bool { return bc.fails == c.name }) {
			t.Errorf("no broken provider shows that check %s can fail", c.name)
		}
	}
	for _, bc := range brokenCases {
		if !slices.ContainsFunc(checks, func(c check) bool { return c.name == bc.fails }) {
			t.Errorf("broken provider %q expects unknown check %q", bc.name, bc.fails)
		}
	}
}

// --- Info ---

type noSchemes struct{ provider.Provider }

func (b noSchemes) GetInfo(ctx context.Context, req provider.InfoRequest) (provider.InfoResponse, error) {
	info, err := b.Provider.GetInfo(ctx, req)
	info.Schemes = nil
	return info, err
}

type undocumentedAttr struct{ provider.Provider }

func (b undocumentedAttr) GetInfo(ctx context.Context, req provider.InfoRequest) (provider.InfoResponse, error) {
	info, err := b.Provider.GetInfo(ctx, req)
	info.ConfigSchema = append(info.ConfigSchema, provider.ConfigAttribute{Name: "timeout"})
	return info, err
}

// tracksConfigure remembers whether Configure succeeded, for providers that
// misbehave until then.
type tracksConfigure struct {
	provider.Provider
	configured atomic.Bool
}

func (b *tracksConfigure) Configure(ctx context.Context, req provider.ConfigureRequest) (provider.ConfigureResponse, error) {
	resp, err := b.Provider.Configure(ctx, req)
	b.configured.Store(err == nil)
	return resp, err
}

type infoNeedsConfigure struct{ tracksConfigure }

func (b *infoNeedsConfigure) GetInfo(ctx context.Context, req provider.InfoRequest) (provider.InfoResponse, error) {
	if !b.configured.Load() {
		return provider.InfoResponse{}, errors.New("not configured")
	}
	return b.Provider.GetInfo(ctx, req)
}

// --- Configure ---

type acceptsBadConfig struct{ provider.Provider }

func (b acceptsBadConfig) Configure(ctx context.Context, req provider.ConfigureRequest) (provider.ConfigureResponse, error) {
	resp, _ := b.Provider.Configure(ctx, req)
	return resp, nil
}

type untypedConfigError struct{ provider.Provider }

func (b untypedConfigError) Configure(ctx context.Context, req provider.ConfigureRequest) (provider.ConfigureResponse, error) {
	resp, err := b.Provider.Configure(ctx, req)
	if err != nil {
		return resp, errors.New(err.Error())
	}
	return resp, nil
}

// --- NoSecretsInErrors ---

// echoesConfig adds its whole configuration to not_found messages, as a
// "helpful" hint about where it looked.
type echoesConfig struct {
	provider.Provider
	config map[string]string
}

func (b *echoesConfig) Configure(ctx context.Context, req provider.ConfigureRequest) (provider.ConfigureResponse, error) {
	resp, err := b.Provider.Configure(ctx, req)
	if err == nil {
		b.config = req.Config
	}
	return resp, err
}

func (b *echoesConfig) Resolve(ctx context.Context, req provider.ResolveRequest) (provider.ResolveResponse, error) {
	resp, err := b.Provider.Resolve(ctx, req)
	for _, r := range resp.Results {
		if r.Err != nil && r.Err.Code == provider.CodeNotFound {
			r.Err.Message += fmt.Sprintf(" (config: %v)", b.config)
		}
	}
	return resp, err
}

// echoesToken declares a sensitive token and prints the rejected config.
type echoesToken struct{ provider.Provider }

func (b echoesToken) GetInfo(ctx context.Context, req provider.InfoRequest) (provider.InfoResponse, error) {
	info, err := b.Provider.GetInfo(ctx, req)
	info.ConfigSchema = append(info.ConfigSchema, provider.ConfigAttribute{Name: "token", Description: "API token", Sensitive: true})
	return info, err
}

func (b echoesToken) Configure(ctx context.Context, req provider.ConfigureRequest) (provider.ConfigureResponse, error) {
	resp, err := b.Provider.Configure(ctx, req)
	if err != nil {
		return resp, provider.Errorf(provider.CodeInvalidConfig, "", "cannot use config %v: %v", req.Config, err)
	}
	return resp, nil
}

// --- EmptyBatch ---

type rejectsEmptyBatch struct{ provider.Provider }

func (b rejectsEmptyBatch) Resolve(ctx context.Context, req provider.ResolveRequest) (provider.ResolveResponse, error) {
	if len(req.References) == 0 {
		return provider.ResolveResponse{}, errors.New("no references given")
	}
	return b.Provider.Resolve(ctx, req)
}

// --- OneResultPerReference ---

// The next three misbehave only in multi-reference batches, the way a
// backend batch API would, so that checks asking one reference at a time
// (UnknownScheme, ValidateAgreesWithResolve) do not see them.

type dropsFailures struct{ provider.Provider }

func (b dropsFailures) Resolve(ctx context.Context, req provider.ResolveRequest) (provider.ResolveResponse, error) {
	resp, err := b.Provider.Resolve(ctx, req)
	if len(req.References) > 1 {
		resp.Results = slices.DeleteFunc(resp.Results, func(r provider.ResolveResult) bool { return r.Err != nil })
	}
	return resp, err
}

type failsBatch struct{ provider.Provider }

func (b failsBatch) Resolve(ctx context.Context, req provider.ResolveRequest) (provider.ResolveResponse, error) {
	resp, err := b.Provider.Resolve(ctx, req)
	if len(req.References) > 1 {
		for _, r := range resp.Results {
			if r.Err != nil && r.Err.Code == provider.CodeInvalidReference {
				return provider.ResolveResponse{}, fmt.Errorf("batch rejected: %w", r.Err)
			}
		}
	}
	return resp, err
}

// failuresLast answers successes first, then labels the results with the
// request's references: the count and the references look right, which
// the host-side adapter checks, but the values sit on the wrong references.
type failuresLast struct{ provider.Provider }

func (b failuresLast) Resolve(ctx context.Context, req provider.ResolveRequest) (provider.ResolveResponse, error) {
	resp, err := b.Provider.Resolve(ctx, req)
	ok := slices.DeleteFunc(slices.Clone(resp.Results), func(r provider.ResolveResult) bool { return r.Err != nil })
	bad := slices.DeleteFunc(slices.Clone(resp.Results), func(r provider.ResolveResult) bool { return r.Err == nil })
	resp.Results = slices.Concat(ok, bad)
	for i := range resp.Results {
		resp.Results[i].Reference = req.References[i]
	}
	return resp, err
}

type internalForMissing struct{ provider.Provider }

func (b internalForMissing) Resolve(ctx context.Context, req provider.ResolveRequest) (provider.ResolveResponse, error) {
	resp, err := b.Provider.Resolve(ctx, req)
	for _, r := range resp.Results {
		if r.Err != nil && r.Err.Code == provider.CodeNotFound {
			r.Err.Code = provider.CodeInternal
		}
	}
	return resp, err
}

// --- Duplicates ---

// dedups: broken.Dedups.

// --- UnknownScheme ---

// anyScheme reads "x://name" as "file://name", whatever x is.
type anyScheme struct{ provider.Provider }

func asFile(ref string) string {
	if _, rest, ok := strings.Cut(ref, "://"); ok {
		return "file://" + rest
	}
	return ref
}

func (b anyScheme) Validate(ctx context.Context, req provider.ValidateRequest) (provider.ValidateResponse, error) {
	refs := slices.Clone(req.References)
	for i := range refs {
		refs[i] = asFile(refs[i])
	}
	resp, err := b.Provider.Validate(ctx, provider.ValidateRequest{References: refs})
	for i := range resp.Results {
		resp.Results[i].Reference = req.References[i]
	}
	return resp, err
}

func (b anyScheme) Resolve(ctx context.Context, req provider.ResolveRequest) (provider.ResolveResponse, error) {
	refs := slices.Clone(req.References)
	for i := range refs {
		refs[i] = asFile(refs[i])
	}
	resp, err := b.Provider.Resolve(ctx, provider.ResolveRequest{References: refs})
	for i := range resp.Results {
		resp.Results[i].Reference = req.References[i]
	}
	return resp, err
}

// --- ValidateBeforeConfigure ---

type validateNeedsConfigure struct{ tracksConfigure }

func (b *validateNeedsConfigure) Validate(ctx context.Context, req provider.ValidateRequest) (provider.ValidateResponse, error) {
	if !b.configured.Load() {
		return provider.ValidateResponse{}, errors.New("not configured")
	}
	return b.Provider.Validate(ctx, req)
}

// --- ValidateOffline ---

type validateFetches struct {
	provider.Provider
	reads *atomic.Int64
}

func (b validateFetches) Validate(ctx context.Context, req provider.ValidateRequest) (provider.ValidateResponse, error) {
	b.reads.Add(1) // "warms the cache"
	return b.Provider.Validate(ctx, req)
}

// --- ValidateAgreesWithResolve ---

// resolvesEmptyName skips the syntax check for "file://" and reports the
// empty name as a missing file, while Validate calls it malformed.
type resolvesEmptyName struct{ provider.Provider }

func (b resolvesEmptyName) Resolve(ctx context.Context, req provider.ResolveRequest) (provider.ResolveResponse, error) {
	resp, err := b.Provider.Resolve(ctx, req)
	for i, r := range resp.Results {
		if r.Reference == "file://" {
			resp.Results[i].Err = provider.Errorf(provider.CodeNotFound, r.Reference, "no such file")
		}
	}
	return resp, err
}

// --- Concurrency ---

// sharedScratch passes each value through a field. Every access is locked,
// so the race detector stays quiet, but the field is shared between calls:
// under concurrency a call returns another call's value.
type sharedScratch struct {
	provider.Provider
	mu   sync.Mutex
	last []byte
}

func (b *sharedScratch) Resolve(ctx context.Context, req provider.ResolveRequest) (provider.ResolveResponse, error) {
	resp, err := b.Provider.Resolve(ctx, req)
	for i, r := range resp.Results {
		if r.Err != nil {
			continue
		}
		b.mu.Lock()
		b.last = r.Value
		b.mu.Unlock()
		time.Sleep(time.Millisecond) // widen the window, as real I/O would
		b.mu.Lock()
		resp.Results[i].Value = b.last
		b.mu.Unlock()
	}
	return resp, err
}

// --- StableValues ---

type emptyValues struct{ provider.Provider }

func (b emptyValues) Resolve(ctx context.Context, req provider.ResolveRequest) (provider.ResolveResponse, error) {
	resp, err := b.Provider.Resolve(ctx, req)
	for i, r := range resp.Results {
		if r.Err == nil {
			resp.Results[i].Value = []byte{}
		}
	}
	return resp, err
}

// singleFastPath answers a single reference through a "fast path" that
// reads another version of the secret than the batch path.
type singleFastPath struct{ provider.Provider }

func (b singleFastPath) Resolve(ctx context.Context, req provider.ResolveRequest) (provider.ResolveResponse, error) {
	resp, err := b.Provider.Resolve(ctx, req)
	if len(req.References) == 1 && len(resp.Results) == 1 && resp.Results[0].Err == nil {
		resp.Results[0].Value = append(resp.Results[0].Value, " (v2)"...)
	}
	return resp, err
}

// instances numbers perInstance providers.
var instances atomic.Int64

// perInstance salts values with its instance number, like a provider that
// generates a secret when it starts instead of reading the stored one.
type perInstance struct {
	provider.Provider
	salt string
}

func (b perInstance) Resolve(ctx context.Context, req provider.ResolveRequest) (provider.ResolveResponse, error) {
	resp, err := b.Provider.Resolve(ctx, req)
	for i, r := range resp.Results {
		if r.Err == nil {
			resp.Results[i].Value = append(r.Value, b.salt...)
		}
	}
	return resp, err
}

// --- CheckAndClose ---

type checkFails struct{ provider.Provider }

func (checkFails) Check(context.Context, provider.CheckRequest) (provider.CheckResponse, error) {
	return provider.CheckResponse{}, provider.Errorf(provider.CodeUnavailable, "", "backend unreachable")
}

// unhealthy: broken.Unhealthy.

type closeFails struct{ provider.Provider }

func (closeFails) Close(context.Context) error { return errors.New("already closed") }
