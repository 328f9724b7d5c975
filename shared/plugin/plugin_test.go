package plugin_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/secrethost/secrethost/shared/plugin"
	"github.com/secrethost/secrethost/shared/provider"
)

// echo answers each reference "code:N" with an error of code N, "empty"
// with an empty value, and anything else with the reference as its value.
type echo struct{ callErr error }

func (e *echo) GetInfo(context.Context, provider.InfoRequest) (provider.InfoResponse, error) {
	return provider.InfoResponse{Name: "echo", Version: "1", Schemes: []string{"echo"},
		ConfigSchema: []provider.ConfigAttribute{{Name: "token", Description: "d", Required: true, Sensitive: true}}}, nil
}
func (e *echo) Configure(context.Context, provider.ConfigureRequest) (provider.ConfigureResponse, error) {
	return provider.ConfigureResponse{Warnings: []string{"w"}}, e.callErr
}
func (e *echo) Validate(_ context.Context, r provider.ValidateRequest) (provider.ValidateResponse, error) {
	var out provider.ValidateResponse
	for _, ref := range r.References {
		out.Results = append(out.Results, provider.ValidateResult{Reference: ref})
	}
	return out, e.callErr
}
func (e *echo) Resolve(_ context.Context, r provider.ResolveRequest) (provider.ResolveResponse, error) {
	if e.callErr != nil {
		return provider.ResolveResponse{}, e.callErr
	}
	var out provider.ResolveResponse
	for _, ref := range r.References {
		res := provider.ResolveResult{Reference: ref}
		var code int
		switch {
		case ref == "empty":
			res.Value = []byte{}
		case len(ref) > 5 && ref[:5] == "code:":
			code = int(ref[5] - '0')
			res.Err = &provider.Error{Code: provider.Code(code), Reference: ref, Message: "m", RetryAfter: 1500 * time.Millisecond}
		default:
			res.Value = []byte(ref)
		}
		out.Results = append(out.Results, res)
	}
	return out, nil
}
func (e *echo) Check(context.Context, provider.CheckRequest) (provider.CheckResponse, error) {
	return provider.CheckResponse{Healthy: true, Items: []provider.CheckItem{{Name: "n", OK: true, Detail: "d"}}}, nil
}
func (e *echo) Close(context.Context) error { return nil }

func TestErrorsAndValuesSurviveTheWire(t *testing.T) {
	c := plugin.TestClient(t, &echo{})
	ctx := context.Background()
	info, err := c.GetInfo(ctx, provider.InfoRequest{})
	if err != nil || info.ProtocolVersion != provider.ProtocolVersion || !info.ConfigSchema[0].Sensitive {
		t.Fatalf("info %+v, %v", info, err)
	}
	refs := []string{"a", "empty"}
	for code := provider.CodeInvalidReference; code <= provider.CodeInternal; code++ {
		refs = append(refs, "code:"+string(rune('0'+code)))
	}
	resp, err := c.Resolve(ctx, provider.ResolveRequest{References: refs})
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Results[0].Value) != "a" {
		t.Errorf("value %q", resp.Results[0].Value)
	}
	// An empty secret stays an empty value, not a missing one.
	if v := resp.Results[1].Value; v == nil || len(v) != 0 || resp.Results[1].Err != nil {
		t.Errorf("empty value arrived as %#v, %v", v, resp.Results[1].Err)
	}
	for i, r := range resp.Results[2:] {
		want := provider.CodeInvalidReference + provider.Code(i)
		if r.Err == nil || r.Err.Code != want || r.Err.Reference != refs[i+2] || r.Err.RetryAfter != 1500*time.Millisecond || r.Value != nil {
			t.Errorf("%s: got %+v", refs[i+2], r.Err)
		}
	}
}

func TestCallErrorsKeepTheirCode(t *testing.T) {
	c := plugin.TestClient(t, &echo{callErr: provider.Errorf(provider.CodeInvalidConfig, "", "token is required")})
	_, err := c.Configure(context.Background(), provider.ConfigureRequest{})
	if !errors.Is(err, provider.ErrInvalidConfig) || err.Error() != "token is required" {
		t.Fatalf("got %v", err)
	}
	// A plain Go error from a provider arrives as internal, message kept.
	c = plugin.TestClient(t, &echo{callErr: errors.New("boom")})
	_, err = c.Resolve(context.Background(), provider.ResolveRequest{References: []string{"a"}})
	if !errors.Is(err, provider.ErrInternal) || err.Error() != "boom" {
		t.Fatalf("got %v", err)
	}
}
