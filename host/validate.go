package host

import (
	"context"
	"errors"
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
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		callErr []error
	)
	for in, batch := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var resp provider.ValidateResponse
			err := in.call(ctx, "Validate", func(p provider.Provider) error {
				var err error
				resp, err = p.Validate(ctx, provider.ValidateRequest{References: batch})
				return err
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				callErr = append(callErr, err)
				return
			}
			asked := make(map[string]bool, len(batch))
			for _, ref := range batch {
				asked[ref] = true
			}
			seen := map[string]bool{}
			for _, r := range resp.Results {
				if !asked[r.Reference] {
					continue // not ours to report
				}
				seen[r.Reference] = true
				verdicts[r.Reference] = r.Err
			}
			for _, ref := range batch {
				if !seen[ref] {
					verdicts[ref] = provider.Errorf(provider.CodeInternal, ref, "provider %q returned no verdict for this reference", in.spec.Name)
				}
			}
		}()
	}
	wg.Wait()
	if len(callErr) > 0 {
		return nil, errors.Join(callErr...)
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
