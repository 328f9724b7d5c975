// Command brokenplugin is the example file provider with one rule of the
// contract broken, for the conformance runner's tests. Plugins get no
// arguments, so the breakage is chosen by the binary's name:
//
//	dedups     answers a batch with duplicates once per distinct reference
//	unhealthy  reports unhealthy from Check
package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"

	"github.com/secrethost/secrethost/examples/file-provider/fileprovider"
	"github.com/secrethost/secrethost/shared/plugin"
	"github.com/secrethost/secrethost/shared/provider"
)

type dedups struct{ provider.Provider }

func (b dedups) Resolve(ctx context.Context, req provider.ResolveRequest) (provider.ResolveResponse, error) {
	var unique []string
	for _, ref := range req.References {
		if !slices.Contains(unique, ref) {
			unique = append(unique, ref)
		}
	}
	return b.Provider.Resolve(ctx, provider.ResolveRequest{References: unique})
}

type unhealthy struct{ provider.Provider }

func (unhealthy) Check(context.Context, provider.CheckRequest) (provider.CheckResponse, error) {
	return provider.CheckResponse{Items: []provider.CheckItem{{Name: "backend reachable", OK: false}}}, nil
}

func main() {
	var p provider.Provider = fileprovider.New()
	switch filepath.Base(os.Args[0]) {
	case "dedups":
		p = dedups{p}
	case "unhealthy":
		p = unhealthy{p}
	}
	plugin.Serve(p)
}
