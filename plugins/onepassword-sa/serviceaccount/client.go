package serviceaccount

import (
	"context"
	"errors"
	"fmt"
	"sync"

	onepassword "github.com/1password/onepassword-sdk-go"

	buildversion "github.com/secrethost/secrethost/internal/version"
)

// IntegrationName is how the plugin introduces itself to 1Password (it
// shows in the service account's activity log).
const IntegrationName = "secrethost onepassword-sa"

// version is the plugin's version, reported by GetInfo and to 1Password:
// internal/version, which `make build` stamps.
func version() string { return buildversion.String() }

// integration is what the SDK is told about its caller.
type integration struct{ name, version string }

// sdkClient is the part of a signed-in 1Password SDK client the plugin
// uses. The real one wraps *onepassword.Client; tests use fakes, since no
// test can reach 1Password.
type sdkClient interface {
	// ResolveAll is onepassword.SecretsAPI.ResolveAll.
	ResolveAll(ctx context.Context, refs []string) (onepassword.ResolveAllResponse, error)
	// ListVaults lists the vaults the service account can see and
	// returns how many there are: Check's proof that the account is
	// reachable and the token accepted.
	ListVaults(ctx context.Context) (int, error)
}

// clientFactory signs in with token and returns a client. The SDK checks
// the token's format offline before it signs in over the network.
type clientFactory func(ctx context.Context, token string, info integration) (sdkClient, error)

// refValidator checks one reference offline. A nil error means valid; a
// *coreError means the check could not run at all.
type refValidator func(ctx context.Context, ref string) error

// sdkAdapter is the real sdkClient. It holds the *onepassword.Client
// itself, not just the SecretsAPI inside it: the SDK releases the client's
// session in the WebAssembly core from a finalizer on *Client, so keeping
// only a sub-API (or a copy of the struct, as doco-cd does) lets the
// session be released under our feet, and the next call fails with
// "invalid client id".
type sdkAdapter struct {
	client *onepassword.Client
}

func (a *sdkAdapter) ResolveAll(ctx context.Context, refs []string) (onepassword.ResolveAllResponse, error) {
	return a.client.Secrets().ResolveAll(ctx, refs)
}

func (a *sdkAdapter) ListVaults(ctx context.Context) (int, error) {
	vaults, err := a.client.Vaults().List(ctx)
	return len(vaults), err
}

// newSDKClient is the real clientFactory.
func newSDKClient(ctx context.Context, token string, info integration) (sdkClient, error) {
	if err := loadCore(ctx); err != nil {
		return nil, err
	}
	c, err := onepassword.NewClient(ctx,
		onepassword.WithServiceAccountToken(token),
		onepassword.WithIntegrationInfo(info.name, info.version))
	if err != nil {
		return nil, err
	}
	return &sdkAdapter{client: c}, nil
}

// sdkValidate is the real refValidator: the SDK's own offline parser.
func sdkValidate(ctx context.Context, ref string) error {
	if err := loadCore(ctx); err != nil {
		return err
	}
	return onepassword.Secrets.ValidateSecretReference(ctx, ref)
}

// coreError means the SDK's WebAssembly core could not be loaded, or the
// caller gave up waiting for it.
type coreError struct{ err error }

func (e *coreError) Error() string { return "loading the 1Password SDK core: " + e.err.Error() }
func (e *coreError) Unwrap() error { return e.err }

// The SDK keeps its WebAssembly core in a package variable that it sets,
// unsynchronised, on first use; compiling the core takes seconds of CPU.
// loadCore does that first use once, on its own goroutine, so that
// concurrent callers neither race on the SDK's variable nor compile twice,
// and a caller whose context ends stops waiting without stopping the load
// (the next caller reuses it). A failed load is retried by the next call.
var core struct {
	mu   sync.Mutex
	load *coreLoad
}

type coreLoad struct {
	done chan struct{}
	err  error
}

// probeRef is a reference every version of the SDK accepts.
const probeRef = "op://vault/item/field"

func loadCore(ctx context.Context) error {
	core.mu.Lock()
	l := core.load
	if l == nil {
		l = &coreLoad{done: make(chan struct{})}
		core.load = l
		go func() {
			// The SDK loads its core on the first call that needs it;
			// validation is the cheapest such call and needs no client.
			err := onepassword.Secrets.ValidateSecretReference(context.Background(), probeRef)
			if err != nil {
				core.mu.Lock()
				core.load = nil // let the next call try again
				core.mu.Unlock()
			}
			l.err = err
			close(l.done)
		}()
	}
	core.mu.Unlock()
	select {
	case <-l.done:
		if l.err != nil {
			return &coreError{l.err}
		}
		return nil
	case <-ctx.Done():
		return &coreError{fmt.Errorf("gave up waiting: %w", ctx.Err())}
	}
}

// isCoreError reports whether err says the SDK core is unusable.
func isCoreError(err error) bool {
	var ce *coreError
	return errors.As(err, &ce)
}
