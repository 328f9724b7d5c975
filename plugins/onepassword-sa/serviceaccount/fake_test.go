package serviceaccount

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	onepassword "github.com/1password/onepassword-sdk-go"
	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/shared/provider"
)

// fakeOP is an in-memory 1Password behind the sdkClient interface. Its
// answers go through the SDK's own JSON decoding (ResolveAllResponse and
// ResolveReferenceError.UnmarshalJSON), so the mapping is tested on the
// SDK's types as the SDK builds them.
type fakeOP struct {
	mu       sync.Mutex
	secrets  map[string]string // canonical reference -> value
	refErrs  map[string]string // canonical reference -> JSON of a ResolveReferenceError
	callErr  error             // returned by every ResolveAll and ListVaults
	signInFn func(n int) error // decides the n-th sign-in (1-based); nil: success
	vaults   int

	signIns    int
	infos      []integration
	tokens     []string
	batches    [][]string // keys of every ResolveAll, in call order
	staleBelow int        // clients of a generation below this answer "invalid client id"
	gate       chan struct{}
	entered    chan struct{}
}

func newFakeOP() *fakeOP {
	return &fakeOP{secrets: map[string]string{}, refErrs: map[string]string{}, vaults: 2}
}

func (f *fakeOP) factory(ctx context.Context, token string, info integration) (sdkClient, error) {
	f.mu.Lock()
	f.signIns++
	n := f.signIns
	f.infos = append(f.infos, info)
	f.tokens = append(f.tokens, token)
	fn := f.signInFn
	f.mu.Unlock()
	if fn != nil {
		if err := fn(n); err != nil {
			return nil, err
		}
	}
	return &fakeClient{op: f, gen: n}, nil
}

// invalidate makes every client signed in so far answer "invalid client
// id", as the core does once a client's session is gone.
func (f *fakeOP) invalidate() {
	f.mu.Lock()
	f.staleBelow = f.signIns + 1
	f.mu.Unlock()
}

func (f *fakeOP) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.batches)
}

func (f *fakeOP) signInCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.signIns
}

type fakeClient struct {
	op  *fakeOP
	gen int
}

func (c *fakeClient) ResolveAll(ctx context.Context, refs []string) (onepassword.ResolveAllResponse, error) {
	f := c.op
	f.mu.Lock()
	stale := c.gen < f.staleBelow
	gate, entered := f.gate, f.entered
	f.batches = append(f.batches, append([]string(nil), refs...))
	callErr := f.callErr
	f.mu.Unlock()
	if entered != nil {
		entered <- struct{}{}
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return onepassword.ResolveAllResponse{}, fmt.Errorf("Post \"https://my.1password.com/api/v1/x\": %w (recovered by wazero)", ctx.Err())
		}
	}
	if stale {
		return onepassword.ResolveAllResponse{}, errors.New("invalid client id")
	}
	if callErr != nil {
		return onepassword.ResolveAllResponse{}, callErr
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	answers := map[string]json.RawMessage{}
	for _, r := range refs {
		switch v, ok := f.secrets[r]; {
		case ok:
			b, _ := json.Marshal(map[string]any{"content": map[string]string{"secret": v, "itemId": "item", "vaultId": "vault"}})
			answers[r] = b
		case f.refErrs[r] != "":
			answers[r] = json.RawMessage(`{"error":` + f.refErrs[r] + `}`)
		default:
			answers[r] = json.RawMessage(`{"error":{"type":"itemNotFound"}}`)
		}
	}
	b, _ := json.Marshal(map[string]any{"individualResponses": answers})
	var resp onepassword.ResolveAllResponse
	if err := json.Unmarshal(b, &resp); err != nil {
		panic(err)
	}
	return resp, nil
}

func (c *fakeClient) ListVaults(ctx context.Context) (int, error) {
	f := c.op
	f.mu.Lock()
	defer f.mu.Unlock()
	if c.gen < f.staleBelow {
		return 0, errors.New("invalid client id")
	}
	if f.callErr != nil {
		return 0, f.callErr
	}
	return f.vaults, nil
}

// acceptAll is a refValidator for tests that are not about the SDK's
// verdicts, so that they need not load the SDK's core.
func acceptAll(context.Context, string) error { return nil }

// fakeClock is an injectable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testToken is a stand-in token: the fake accepts anything, and tests
// check that it never appears in an error.
var testToken = wellFormedFakeToken("test.invalid")

func newTestProvider(t testing.TB, f *fakeOP) (*Provider, *fakeClock) {
	t.Helper()
	clk := newFakeClock()
	return newProvider(f.factory, rulesValidate, clk.now, hclog.NewNullLogger()), clk
}

func configure(t testing.TB, p *Provider, extra map[string]string) provider.ConfigureResponse {
	t.Helper()
	cfg := map[string]string{AttrToken: testToken}
	for k, v := range extra {
		cfg[k] = v
	}
	resp, err := p.Configure(context.Background(), provider.ConfigureRequest{Config: cfg})
	if err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return resp
}

func resolve(t testing.TB, p provider.Provider, refs ...string) []provider.ResolveResult {
	t.Helper()
	resp, err := p.Resolve(context.Background(), provider.ResolveRequest{References: refs})
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if len(resp.Results) != len(refs) {
		t.Fatalf("Resolve returned %d results for %d references", len(resp.Results), len(refs))
	}
	return resp.Results
}

func noToken(t testing.TB, s string) {
	t.Helper()
	if strings.Contains(s, testToken) {
		t.Errorf("message contains the token: %s", s)
	}
}
