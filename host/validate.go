package host

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/secrethost/secrethost/shared/launch"
	"github.com/secrethost/secrethost/shared/provider"
)

// Schemes returns the reference schemes (without "://") handled by the
// configured providers, sorted. It starts every provider, as routing does.
func (h *Host) Schemes(ctx context.Context) ([]string, error) {
	if err := h.usable(); err != nil {
		return nil, err
	}
	m, err := h.schemes(ctx, func(ctx context.Context, in *instance) ([]string, error) {
		_, err := in.ready(ctx)
		return in.schemes(), err
	})
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
// say) is asked anyway, unconfigured: the contract says Validate needs no
// configuration, so a deploy file can be checked where no token exists.
func (h *Host) Validate(ctx context.Context, refs []string) ([]provider.ValidateResult, error) {
	if err := h.usable(); err != nil {
		return nil, err
	}
	var (
		mu   sync.Mutex
		bare = map[*instance]*launch.Process{} // unconfigured, for this call only
	)
	defer func() {
		for in, proc := range bare {
			in.shutdown(proc)
		}
	}()
	schemes, err := h.schemes(ctx, func(ctx context.Context, in *instance) ([]string, error) {
		_, err := in.ready(ctx)
		if err == nil || !errors.Is(err, provider.ErrInvalidConfig) {
			return in.schemes(), err
		}
		in.log.Debug("configuration rejected; validating with an unconfigured plugin", "error", err)
		proc, info, err := in.startUnconfigured(ctx)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		bare[in] = proc
		mu.Unlock()
		return info.Schemes, nil
	})
	if err != nil {
		return nil, err
	}

	verdicts := map[string]*provider.Error{}
	groups := routeWith(schemes, unique(refs), verdicts)
	// The client adapter has already checked one verdict per reference, in
	// order, so the results can be taken as they come.
	err = fanOut(groups, func(in *instance, batch []string) error {
		req := provider.ValidateRequest{References: batch}
		var resp provider.ValidateResponse
		var err error
		if proc := bare[in]; proc != nil {
			if resp, err = proc.Provider.Validate(ctx, req); err != nil {
				err = in.errorf("Validate: %w", err)
			}
		} else {
			err = in.call(ctx, "Validate", func(p provider.Provider) error {
				var err error
				resp, err = p.Validate(ctx, req)
				return err
			})
		}
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
