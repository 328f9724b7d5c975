package host

import (
	"context"

	"github.com/secrethost/secrethost/shared/provider"
)

// redactor is the host's one redaction layer for what plugins say: a
// provider.Provider around a plugin's client that scrubs every error and
// every message coming back (per-reference errors, warnings, health items,
// the plugin's name and version) of the secrets the process knows at that
// moment (see process.secrets). Every call of the host goes through it
// once; what the host writes itself needs no scrubbing, except paths and
// values from the configuration, which diagnose.go and the logger
// (scrublog.go) handle.
type redactor struct {
	next    provider.Provider
	secrets func() []string
}

func redacting(next provider.Provider, secrets func() []string) provider.Provider {
	return &redactor{next: next, secrets: secrets}
}

func (r *redactor) GetInfo(ctx context.Context, req provider.InfoRequest) (provider.InfoResponse, error) {
	resp, err := r.next.GetInfo(ctx, req)
	s := r.secrets()
	resp.Name, resp.Version = scrub(resp.Name, s), scrub(resp.Version, s)
	return resp, scrubError(err, s)
}

func (r *redactor) Configure(ctx context.Context, req provider.ConfigureRequest) (provider.ConfigureResponse, error) {
	resp, err := r.next.Configure(ctx, req)
	s := r.secrets()
	for i, w := range resp.Warnings {
		resp.Warnings[i] = scrub(w, s)
	}
	return resp, scrubError(err, s)
}

func (r *redactor) Validate(ctx context.Context, req provider.ValidateRequest) (provider.ValidateResponse, error) {
	resp, err := r.next.Validate(ctx, req)
	s := r.secrets()
	for i := range resp.Results {
		resp.Results[i].Err = scrubProviderError(resp.Results[i].Err, s)
	}
	return resp, scrubError(err, s)
}

func (r *redactor) Resolve(ctx context.Context, req provider.ResolveRequest) (provider.ResolveResponse, error) {
	resp, err := r.next.Resolve(ctx, req)
	s := r.secrets()
	for i := range resp.Results {
		resp.Results[i].Err = scrubProviderError(resp.Results[i].Err, s)
	}
	return resp, scrubError(err, s)
}

func (r *redactor) Check(ctx context.Context, req provider.CheckRequest) (provider.CheckResponse, error) {
	resp, err := r.next.Check(ctx, req)
	s := r.secrets()
	for i := range resp.Items {
		resp.Items[i].Name = scrub(resp.Items[i].Name, s)
		resp.Items[i].Detail = scrub(resp.Items[i].Detail, s)
	}
	return resp, scrubError(err, s)
}

func (r *redactor) Close(ctx context.Context) error {
	return scrubError(r.next.Close(ctx), r.secrets())
}
