// Package broken holds providers that break one rule of the contract, used
// both in process by the kit's own tests (broken_test.go) and as built
// plugins by the conformance runner's tests (testdata/brokenplugin).
package broken

import (
	"context"
	"slices"

	"github.com/secrethost/secrethost/shared/provider"
)

// Dedups answers a batch with duplicates once per distinct reference,
// which the Duplicates check catches.
type Dedups struct{ provider.Provider }

func (b Dedups) Resolve(ctx context.Context, req provider.ResolveRequest) (provider.ResolveResponse, error) {
	var unique []string
	for _, ref := range req.References {
		if !slices.Contains(unique, ref) {
			unique = append(unique, ref)
		}
	}
	return b.Provider.Resolve(ctx, provider.ResolveRequest{References: unique})
}

// Unhealthy reports unhealthy from Check, which the CheckAndClose check
// catches.
type Unhealthy struct{ provider.Provider }

func (Unhealthy) Check(context.Context, provider.CheckRequest) (provider.CheckResponse, error) {
	return provider.CheckResponse{Items: []provider.CheckItem{{Name: "backend reachable", OK: false}}}, nil
}
