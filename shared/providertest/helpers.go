package providertest

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/secrethost/secrethost/shared/plugin"
	"github.com/secrethost/secrethost/shared/provider"
)

// Timeouts turn a hanging provider into a failed check instead of a test
// binary killed by -timeout, which would not say which rule hung.
const (
	callTimeout  = 30 * time.Second
	checkTimeout = 2 * time.Minute
)

// checkContext bounds a whole check; it is cancelled when the check ends.
func checkContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), checkTimeout)
	t.Cleanup(cancel)
	return ctx
}

func callContext(t testing.TB) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.Context(), callTimeout)
}

// newProvider returns a fresh, unconfigured provider from s.New.
func newProvider(t testing.TB, s Suite) provider.Provider {
	t.Helper()
	p := s.New(t)
	if p == nil {
		t.Fatalf("Suite.New returned nil")
	}
	return p
}

// configured returns a fresh provider configured with s.Config.
func configured(t testing.TB, s Suite) provider.Provider {
	t.Helper()
	p := newProvider(t, s)
	ctx, cancel := callContext(t)
	defer cancel()
	if _, err := p.Configure(ctx, provider.ConfigureRequest{Config: maps.Clone(s.Config)}); err != nil {
		t.Fatalf("Configure with Suite.Config failed, so this check cannot run: %v", err)
	}
	return p
}

func getInfo(t testing.TB, p provider.Provider) provider.InfoResponse {
	t.Helper()
	ctx, cancel := callContext(t)
	defer cancel()
	info, err := p.GetInfo(ctx, provider.InfoRequest{})
	if err != nil {
		t.Fatalf("GetInfo failed after Configure: %v", err)
	}
	return info
}

// resolve calls Resolve and stops the check unless the batch came back
// whole: no call error, and one result per reference, in request order.
// refs is cloned so that a provider that sorts its input in place cannot
// change what the check expects.
func resolve(t testing.TB, p provider.Provider, refs []string) []provider.ResolveResult {
	t.Helper()
	ctx, cancel := callContext(t)
	defer cancel()
	resp, err := p.Resolve(ctx, provider.ResolveRequest{References: slices.Clone(refs)})
	if err != nil {
		t.Fatalf("Resolve(%q) failed as a call: %v\n%s", refs, err, callErrorHint(err))
	}
	got := make([]string, len(resp.Results))
	for i, r := range resp.Results {
		got[i] = r.Reference
	}
	aligned(t, "Resolve", refs, got)
	return resp.Results
}

// validate is resolve's twin for Validate.
func validate(t testing.TB, p provider.Provider, refs []string) []provider.ValidateResult {
	t.Helper()
	ctx, cancel := callContext(t)
	defer cancel()
	resp, err := p.Validate(ctx, provider.ValidateRequest{References: slices.Clone(refs)})
	if err != nil {
		t.Fatalf("Validate(%q) failed as a call: %v\n%s", refs, err, callErrorHint(err))
	}
	got := make([]string, len(resp.Results))
	for i, r := range resp.Results {
		got[i] = r.Reference
	}
	aligned(t, "Validate", refs, got)
	return resp.Results
}

// callErrorHint names the rule behind a failed batch call. Through the
// plugin adapters a misshapen batch arrives as plugin.ErrProtocol, because
// the host-side adapter refuses it; otherwise the provider failed the call.
func callErrorHint(err error) string {
	if errors.Is(err, plugin.ErrProtocol) {
		return "rule: a batch must get exactly one result per reference, in request order, each carrying the reference it answers"
	}
	return "rule: a bad reference is a per-result error; the call fails only when nothing could be attempted"
}

// aligned stops the check unless got lists exactly the asked references, in
// order: otherwise the host would hand values to the wrong variables.
func aligned(t testing.TB, method string, asked, got []string) {
	t.Helper()
	if len(got) != len(asked) {
		t.Fatalf("%s returned %d results for %d references %q; want exactly one result per reference, in order", method, len(got), len(asked), asked)
	}
	for i := range asked {
		if got[i] != asked[i] {
			t.Fatalf("%s result #%d is for %q, but %q was asked there; want one result per reference, in request order", method, i+1, got[i], asked[i])
		}
	}
}

// values maps each reference to its value, stopping the check if one of
// them failed: the callers only ask for Suite.Valid references.
func values(t testing.TB, results []provider.ResolveResult) map[string][]byte {
	t.Helper()
	out := make(map[string][]byte, len(results))
	for _, r := range results {
		if r.Err != nil {
			t.Fatalf("Resolve(%q) failed (%v); references in Suite.Valid must resolve", r.Reference, r.Err)
		}
		out[r.Reference] = r.Value
	}
	return out
}

// codeRules explains the expected codes in failure messages.
var codeRules = map[provider.Code]string{
	provider.CodeInvalidReference: "a malformed reference, or one for a scheme the provider does not handle, is invalid_reference",
	provider.CodeNotFound:         "a well-formed reference to a secret that does not exist is not_found",
}

// expectCode reports a per-result error whose code is not want. i is the
// result's index in the batch.
func expectCode(t testing.TB, method string, i int, ref string, err *provider.Error, want provider.Code) {
	t.Helper()
	if err == nil || err.Code != want {
		t.Errorf("%s result #%d (%q) gives %s, want %s; %s", method, i+1, ref, codeOf(err), want, codeRules[want])
	}
}

func codeOf(err *provider.Error) string {
	if err == nil {
		return "no error"
	}
	return err.Code.String()
}

func isInvalid(err *provider.Error) bool {
	return err != nil && err.Code == provider.CodeInvalidReference
}

// unknownSchemeRefs returns references for a scheme the provider did not
// declare: a plain one, and Suite.Valid[0] with its scheme replaced, which
// catches providers that ignore the scheme and resolve the rest.
func unknownSchemeRefs(schemes, valid []string) []string {
	scheme := "nosuchscheme"
	for slices.Contains(schemes, scheme) {
		scheme += "x"
	}
	refs := []string{scheme + "://x"}
	if _, rest, ok := strings.Cut(valid[0], "://"); ok && rest != "x" {
		refs = append(refs, scheme+"://"+rest)
	}
	return refs
}

// probeRefs is every reference the suite knows, plus edge cases that are
// easy to get wrong: the empty reference, references for unknown schemes,
// and each declared scheme with nothing after it.
func probeRefs(s Suite, info provider.InfoResponse) []string {
	refs := slices.Concat(s.Valid, s.Invalid, s.Missing, unknownSchemeRefs(info.Schemes, s.Valid), []string{""})
	for _, sc := range info.Schemes {
		refs = append(refs, sc+"://", sc+":")
	}
	seen := map[string]bool{}
	return slices.DeleteFunc(refs, func(r string) bool {
		dup := seen[r]
		seen[r] = true
		return dup
	})
}

// rotate returns refs rotated left by k.
func rotate(refs []string, k int) []string {
	k %= len(refs)
	return slices.Concat(refs[k:], refs[:k])
}

func count(refs []string, ref string) int {
	n := 0
	for _, r := range refs {
		if r == ref {
			n++
		}
	}
	return n
}
