package host

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/secrethost/secrethost/shared/provider"
)

// Schemes returns the reference schemes (without "://") handled by the
// configured providers, sorted. It starts every provider, as routing does.
func (h *Host) Schemes(ctx context.Context) ([]string, error) {
	if err := h.usable(); err != nil {
		return nil, err
	}
	m, err := h.schemes(ctx)
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
// no provider for its scheme is invalid. The error is for calls that could
// not be made at all (a plugin that does not start, say).
func (h *Host) Validate(ctx context.Context, refs []string) ([]provider.ValidateResult, error) {
	if err := h.usable(); err != nil {
		return nil, err
	}
	uniq := unique(refs)
	verdicts := map[string]*provider.Error{}
	groups, err := h.route(ctx, uniq, verdicts)
	if err != nil {
		return nil, err
	}
	// The client adapter has already checked one verdict per reference, in
	// order, so the results can be taken as they come.
	var mu sync.Mutex
	err = fanOut(groups, func(in *instance, batch []string) error {
		var resp provider.ValidateResponse
		err := in.call(ctx, "Validate", func(p provider.Provider) error {
			var err error
			resp, err = p.Validate(ctx, provider.ValidateRequest{References: batch})
			return err
		})
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for _, r := range resp.Results {
			verdicts[r.Reference] = in.scrubResult(r.Err)
		}
		return nil
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
		out[i] = provider.ValidateResult{Reference: ref, Err: v}
	}
	return out, nil
}
