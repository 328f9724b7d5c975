package plugin_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/secrethost/secrethost/shared/plugin"
	"github.com/secrethost/secrethost/shared/provider"
)

const bad = "\xff\xfe"

// sloppy says everything with bytes that are not UTF-8 in it.
type sloppy struct{ echo }

func (s *sloppy) GetInfo(context.Context, provider.InfoRequest) (provider.InfoResponse, error) {
	return provider.InfoResponse{Name: "sloppy" + bad, Version: "1" + bad, Schemes: []string{"echo"},
		ConfigSchema: []provider.ConfigAttribute{{Name: "token", Description: "d" + bad}}}, nil
}
func (s *sloppy) Configure(context.Context, provider.ConfigureRequest) (provider.ConfigureResponse, error) {
	return provider.ConfigureResponse{Warnings: []string{"w" + bad}}, nil
}
func (s *sloppy) Resolve(_ context.Context, r provider.ResolveRequest) (provider.ResolveResponse, error) {
	var out provider.ResolveResponse
	for _, ref := range r.References {
		out.Results = append(out.Results, provider.ResolveResult{Reference: ref,
			Err: provider.Errorf(provider.CodeNotFound, ref, "backend says %s", bad)})
	}
	return out, nil
}
func (s *sloppy) Check(context.Context, provider.CheckRequest) (provider.CheckResponse, error) {
	return provider.CheckResponse{Items: []provider.CheckItem{{Name: "n" + bad, Detail: "d" + bad}}}, nil
}

func valid(t *testing.T, what string, ss ...string) {
	t.Helper()
	for _, s := range ss {
		if !utf8.ValidString(s) || !strings.Contains(s, "\uFFFD") {
			t.Errorf("%s: %q is not the repaired text", what, s)
		}
	}
}

// TestPluginTextIsMadeValidUTF8: whatever text a provider returns reaches
// the host, repaired, instead of failing the call at marshalling.
func TestPluginTextIsMadeValidUTF8(t *testing.T) {
	c := plugin.TestClient(t, &sloppy{})
	ctx := context.Background()
	info, err := c.GetInfo(ctx, provider.InfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	valid(t, "info", info.Name, info.Version, info.ConfigSchema[0].Description)
	cr, err := c.Configure(ctx, provider.ConfigureRequest{})
	if err != nil {
		t.Fatal(err)
	}
	valid(t, "warning", cr.Warnings...)
	rr, err := c.Resolve(ctx, provider.ResolveRequest{References: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rr.Results {
		valid(t, "error message", r.Err.Message)
	}
	ch, err := c.Check(ctx, provider.CheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	valid(t, "check item", ch.Items[0].Name, ch.Items[0].Detail)
}

// TestInvalidReferenceFailsAlone: a reference gRPC cannot send fails by
// itself, before the wire, and the others of the batch are resolved.
func TestInvalidReferenceFailsAlone(t *testing.T) {
	c := plugin.TestClient(t, &echo{})
	ctx := context.Background()
	refs := []string{"a", "x" + bad + "hunter2", "b"}
	rr, err := c.Resolve(ctx, provider.ResolveRequest{References: refs})
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Results) != 3 || string(rr.Results[0].Value) != "a" || string(rr.Results[2].Value) != "b" {
		t.Fatalf("results %+v", rr.Results)
	}
	e := rr.Results[1].Err
	if rr.Results[1].Reference != refs[1] || e == nil || e.Code != provider.CodeInvalidReference || strings.Contains(e.Message, "hunter2") {
		t.Errorf("bad reference: %+v", rr.Results[1])
	}
	vr, err := c.Validate(ctx, provider.ValidateRequest{References: []string{bad, "a"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(vr.Results) != 2 || vr.Results[0].Err == nil || vr.Results[1].Err != nil || vr.Results[1].Reference != "a" {
		t.Errorf("validate: %+v", vr.Results)
	}
	// Only bad references: nothing is sent.
	rr, err = c.Resolve(ctx, provider.ResolveRequest{References: []string{bad}})
	if err != nil || len(rr.Results) != 1 || rr.Results[0].Err == nil {
		t.Errorf("only a bad reference: %+v, %v", rr, err)
	}

	_, err = c.Configure(ctx, provider.ConfigureRequest{Config: map[string]string{"token": "hunter2" + bad}})
	if !errors.Is(err, provider.ErrInvalidConfig) || !strings.Contains(err.Error(), "token") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Configure with a value that is not UTF-8: %v", err)
	}
}
