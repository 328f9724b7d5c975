package host

import (
	"context"
	"fmt"
	"sort"

	"github.com/secrethost/secrethost/shared/provider"
)

// Schemes returns the reference schemes (without "://") handled by the
// configured providers, sorted. It starts every provider whose block does
// not declare its schemes, as routing does.
func (h *Host) Schemes(ctx context.Context) ([]string, error) {
	return h.sortedSchemes(ctx, needConfigured)
}

// DescribedSchemes returns the reference schemes (without "://") Validate
// routes by, sorted, without configuring any provider, so it needs no
// credentials: a provider block's declared schemes (not started for this),
// else its plugin's self-description. That plugin process is kept,
// described, and the Validate or Resolve that follows goes on with it: a
// provider starts once for `secrethost validate`.
func (h *Host) DescribedSchemes(ctx context.Context) ([]string, error) {
	return h.sortedSchemes(ctx, needDescribed)
}

// sortedSchemes lists the schemes of the providers, each brought to n.
func (h *Host) sortedSchemes(ctx context.Context, n need) ([]string, error) {
	if err := h.usable(); err != nil {
		return nil, err
	}
	m, err := h.schemeMap(ctx, n)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(m))
	for s := range m {
		out = append(out, s)
	}
	sort.Strings(out)
	return out, nil
}

// Validate checks references offline: each goes to the provider that
// declared its scheme, whose Validate must not touch the network. It returns
// one result per reference, in order (duplicates included); a reference with
// no provider for its scheme is invalid, and so is one that is not valid
// UTF-8 (print results' references with SafeReference: such a value may be
// a secret put in place of a reference). The error is for calls that could
// not be made at all (a plugin that does not start, say).
//
// A provider whose configuration is rejected (a CI job without credentials,
// say) is asked anyway, by the very process whose configuration was
// refused (the lifecycle's rejected state): the contract says Validate
// needs no configuration, so a deploy file can be checked where no token
// exists. That process is stopped when the call returns.
func (h *Host) Validate(ctx context.Context, refs []string) ([]provider.ValidateResult, error) {
	if err := h.usable(); err != nil {
		return nil, err
	}
	defer func() {
		for _, in := range h.providers {
			in.retireRejected()
		}
	}()
	verdicts, err := h.dispatch(ctx, refs, needValidate, "Validate",
		func(ctx context.Context, p provider.Provider, batch []string) ([]outcome, error) {
			resp, err := p.Validate(ctx, provider.ValidateRequest{References: batch})
			out := make([]outcome, len(resp.Results))
			for i, r := range resp.Results {
				out[i] = outcome{ref: r.Reference, err: r.Err}
			}
			return out, err
		})
	if err != nil {
		return nil, err
	}
	out := make([]provider.ValidateResult, len(refs))
	for i, ref := range refs {
		v, ok := verdicts[ref]
		if !ok {
			return nil, fmt.Errorf("secrethost: no verdict for reference %q", ref)
		}
		out[i] = provider.ValidateResult{Reference: ref, Err: v.err}
	}
	return out, nil
}
