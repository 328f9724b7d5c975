package providertest

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/secrethost/secrethost/internal/redact"
	"github.com/secrethost/secrethost/shared/provider"
)

// check is one rule of the contract. run takes a testing.TB rather than a
// *testing.T so that the kit's own tests can run a check against a broken
// provider with a recorder and assert that it fails.
type check struct {
	name string
	run  func(t testing.TB, s Suite)
}

// checks are run in this order, each as its own subtest.
var checks = []check{
	{"Info", checkInfo},
	{"Configure", checkConfigure},
	{"NoSecretsInErrors", checkNoSecretsInErrors},
	{"EmptyBatch", checkEmptyBatch},
	{"OneResultPerReference", checkOneResultPerReference},
	{"Duplicates", checkDuplicates},
	{"UnknownScheme", checkUnknownScheme},
	{"ValidateOffline", checkValidateOffline},
	{"ValidateBeforeConfigure", checkValidateBeforeConfigure},
	{"ValidateAgreesWithResolve", checkValidateAgreesWithResolve},
	{"Concurrency", checkConcurrency},
	{"StableValues", checkStableValues},
	{"CheckAndClose", checkCheckAndClose},
}

// schemeSyntax is RFC 3986's scheme, lower case only: the host lowercases
// a reference's scheme before looking up its provider, so a provider that
// declared "File" would never be asked anything.
var schemeSyntax = regexp.MustCompile(`^[a-z][a-z0-9+.-]*$`)

// checkInfo: GetInfo works before Configure and describes the provider
// well enough for the host to route references and document the config.
func checkInfo(t testing.TB, s Suite) {
	ctx := checkContext(t)
	p := newProvider(t, s)
	info, err := p.GetInfo(ctx, provider.InfoRequest{})
	if err != nil {
		t.Fatalf("GetInfo must work before Configure (the host calls it first), but it failed: %v", err)
	}
	if info.Name == "" {
		t.Errorf("GetInfo: Name is empty; the host names the provider in logs and errors")
	}
	if info.Version == "" {
		t.Errorf("GetInfo: Version is empty; the host logs it to tell plugin builds apart")
	}
	if info.ProtocolVersion != provider.ProtocolVersion {
		t.Errorf("GetInfo: ProtocolVersion is %d, want %d; a plugin not written with the Go SDK must set GetInfoResponse.protocol_version itself (proto3 sends an unset field as 0), and a Go provider under test must come through the plugin adapters (InProcess or Binary), which set it",
			info.ProtocolVersion, provider.ProtocolVersion)
	}
	if len(info.Schemes) == 0 {
		t.Errorf("GetInfo: Schemes is empty; the host routes references to providers by scheme")
	}
	for _, sc := range info.Schemes {
		if !schemeSyntax.MatchString(sc) {
			t.Errorf("GetInfo: scheme %q must be a bare lower-case URI scheme such as \"op\", without \"://\"", sc)
		}
	}
	names := map[string]bool{}
	for i, a := range info.ConfigSchema {
		switch {
		case a.Name == "":
			t.Errorf("GetInfo: config attribute #%d has no Name", i+1)
		case names[a.Name]:
			t.Errorf("GetInfo: config attribute %q is listed twice", a.Name)
		}
		names[a.Name] = true
		if a.Description == "" {
			t.Errorf("GetInfo: config attribute %q has no Description; users read it to configure the provider", a.Name)
		}
	}
	// Not a provider bug but a suite one, caught here because it would make
	// the host send these references elsewhere.
	for _, ref := range slices.Concat(s.Valid, s.Missing) {
		if sc, ok := provider.SchemeOf(ref); !ok || !slices.Contains(info.Schemes, sc) {
			t.Errorf("reference %q from Suite.Valid or Suite.Missing does not use a scheme from GetInfo.Schemes %q, so the host would never send it to this provider", ref, info.Schemes)
		}
	}
}

// checkConfigure: the valid configuration is accepted, the bad one is
// rejected with a typed invalid_config error the host can act on.
func checkConfigure(t testing.TB, s Suite) {
	ctx := checkContext(t)
	p := newProvider(t, s)
	if _, err := p.Configure(ctx, provider.ConfigureRequest{Config: maps.Clone(s.Config)}); err != nil {
		t.Errorf("Configure must accept Suite.Config, but it failed: %v", err)
	}
	if s.BadConfig == nil {
		return
	}
	p = newProvider(t, s)
	_, err := p.Configure(ctx, provider.ConfigureRequest{Config: maps.Clone(s.BadConfig)})
	var pe *provider.Error
	switch {
	case err == nil:
		t.Errorf("Configure must reject Suite.BadConfig with invalid_config, but it succeeded")
	case !errors.As(err, &pe):
		t.Errorf("Configure must reject Suite.BadConfig with a *provider.Error of code invalid_config, got %T: %v", err, err)
	case pe.Code != provider.CodeInvalidConfig:
		t.Errorf("Configure must reject Suite.BadConfig with code invalid_config, got %s: %v", pe.Code, err)
	}
}

// minSecretLen is the shortest sensitive value the leak check looks for:
// shorter ones would turn up in messages by coincidence. It is the host's
// threshold for scrubbing (internal/redact.MinLen).
const minSecretLen = redact.MinLen

// checkNoSecretsInErrors: no error or warning from Configure, Validate,
// Resolve or Check contains a sensitive configuration value. Errors end up
// in logs and terminals; a token in an error message is a leaked token.
func checkNoSecretsInErrors(t testing.TB, s Suite) {
	ctx := checkContext(t)
	p := newProvider(t, s)
	// The schema says which attributes are sensitive; GetInfo is asked
	// after Configure so that this check does not repeat checkInfo's.
	cfgResp, cfgErr := p.Configure(ctx, provider.ConfigureRequest{Config: maps.Clone(s.Config)})
	info := getInfo(t, p)
	secrets := sensitiveValues(t, info.ConfigSchema, s)
	if len(secrets) == 0 {
		t.Skip("nothing to look for: the config schema marks no attribute Sensitive and Suite.SensitiveConfig is empty")
	}

	// The message is never printed: it holds the secret.
	leak := func(where, text string) {
		t.Helper()
		for _, sec := range secrets {
			if strings.Contains(text, sec.value) {
				t.Errorf("%s contains the value of sensitive config attribute %q; errors and warnings must never echo secrets", where, sec.attr)
			}
		}
	}
	leakErr := func(where string, err error) {
		t.Helper()
		if err != nil {
			leak(where, err.Error())
		}
	}
	afterConfigure := func(label string, resp provider.ConfigureResponse, err error) {
		t.Helper()
		leakErr("Configure("+label+") error", err)
		for _, w := range resp.Warnings {
			leak("Configure("+label+") warning", w)
		}
	}
	// exercise makes every call that can fail. Per-result errors are read
	// by Message: their Reference is the one the suite asked about.
	refs := probeRefs(s, info)
	exercise := func(label string, p provider.Provider) {
		t.Helper()
		vr, err := p.Validate(ctx, provider.ValidateRequest{References: slices.Clone(refs)})
		leakErr("Validate error (with "+label+")", err)
		for _, r := range vr.Results {
			if r.Err != nil {
				leak(fmt.Sprintf("Validate error for %q (with %s)", r.Reference, label), r.Err.Message)
			}
		}
		rr, err := p.Resolve(ctx, provider.ResolveRequest{References: slices.Clone(refs)})
		leakErr("Resolve error (with "+label+")", err)
		for _, r := range rr.Results {
			if r.Err != nil {
				leak(fmt.Sprintf("Resolve error for %q (with %s)", r.Reference, label), r.Err.Message)
			}
		}
		_, err = p.Check(ctx, provider.CheckRequest{})
		leakErr("Check error (with "+label+")", err)
	}

	afterConfigure("Suite.Config", cfgResp, cfgErr)
	if cfgErr == nil {
		exercise("Suite.Config", p)
	}
	if s.SensitiveConfig != nil {
		p := newProvider(t, s)
		resp, err := p.Configure(ctx, provider.ConfigureRequest{Config: maps.Clone(s.SensitiveConfig)})
		afterConfigure("Suite.SensitiveConfig", resp, err)
		if err == nil {
			exercise("Suite.SensitiveConfig", p)
		}
	}
	if s.BadConfig != nil {
		p := newProvider(t, s)
		resp, err := p.Configure(ctx, provider.ConfigureRequest{Config: maps.Clone(s.BadConfig)})
		afterConfigure("Suite.BadConfig", resp, err)
	}
}

// secret is a value to look for, and the attribute to blame.
type secret struct{ attr, value string }

// sensitiveValues collects the values of schema-sensitive attributes in
// every configuration of s, and every value of s.SensitiveConfig.
func sensitiveValues(t testing.TB, schema []provider.ConfigAttribute, s Suite) []secret {
	sensitive := map[string]bool{}
	for _, a := range schema {
		sensitive[a.Name] = a.Sensitive
	}
	found := map[string]string{} // value -> attribute
	add := func(attr, value string) {
		if _, dup := found[value]; dup {
			return
		}
		if len(value) < minSecretLen {
			if value != "" {
				t.Logf("not looking for the value of %q in messages: shorter than %d bytes, it would match by coincidence", attr, minSecretLen)
			}
			return
		}
		found[value] = attr
	}
	for _, cfg := range []map[string]string{s.Config, s.BadConfig, s.SensitiveConfig} {
		for _, k := range slices.Sorted(maps.Keys(cfg)) {
			if sensitive[k] {
				add(k, cfg[k])
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(s.SensitiveConfig)) {
		add(k, s.SensitiveConfig[k])
	}
	out := make([]secret, 0, len(found))
	for v, a := range found {
		out = append(out, secret{attr: a, value: v})
	}
	slices.SortFunc(out, func(a, b secret) int { return strings.Compare(a.attr, b.attr) })
	return out
}

// checkEmptyBatch: a batch of zero references is a valid batch with zero
// results. The host sends one when a template has no references left.
func checkEmptyBatch(t testing.TB, s Suite) {
	ctx := checkContext(t)
	p := configured(t, s)
	if resp, err := p.Validate(ctx, provider.ValidateRequest{References: []string{}}); err != nil {
		t.Errorf("Validate of an empty batch must succeed with no results, but it failed: %v", err)
	} else if n := len(resp.Results); n != 0 {
		t.Errorf("Validate of an empty batch must return no results, got %d", n)
	}
	if resp, err := p.Resolve(ctx, provider.ResolveRequest{References: []string{}}); err != nil {
		t.Errorf("Resolve of an empty batch must succeed with no results, but it failed: %v", err)
	} else if n := len(resp.Results); n != 0 {
		t.Errorf("Resolve of an empty batch must return no results, got %d", n)
	}
}

// checkOneResultPerReference: a batch mixing good and bad references in
// shuffled order gets one result per reference, in order, each with its
// own value or the right error code, and the call itself succeeds.
func checkOneResultPerReference(t testing.TB, s Suite) {
	p := configured(t, s)
	want := values(t, resolve(t, p, s.Valid))

	kind := map[string]string{}
	for _, l := range []struct {
		kind string
		refs []string
	}{{"valid", s.Valid}, {"invalid", s.Invalid}, {"missing", s.Missing}} {
		for _, ref := range l.refs {
			kind[ref] = l.kind
		}
	}
	// A fixed seed: a failure must reproduce on the next run.
	mixed := slices.Concat(s.Valid, s.Invalid, s.Missing)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(mixed), func(i, j int) { mixed[i], mixed[j] = mixed[j], mixed[i] })

	for i, r := range resolve(t, p, mixed) {
		errorBelongs(t, "Resolve", i, r.Reference, r.Err)
		switch kind[r.Reference] {
		case "valid":
			if r.Err != nil {
				t.Errorf("Resolve result #%d (%q, from Suite.Valid) is an error (%v); in a mixed batch it must still resolve", i+1, r.Reference, r.Err)
			} else if !bytes.Equal(r.Value, want[r.Reference]) {
				t.Errorf("Resolve result #%d (%q) holds another value than when asked in a batch of valid references; results must stay aligned with their references", i+1, r.Reference)
			}
		case "invalid":
			expectCode(t, "Resolve", i, r.Reference, r.Err, provider.CodeInvalidReference)
		case "missing":
			expectCode(t, "Resolve", i, r.Reference, r.Err, provider.CodeNotFound)
		}
	}
	for i, r := range validate(t, p, mixed) {
		errorBelongs(t, "Validate", i, r.Reference, r.Err)
		switch kind[r.Reference] {
		case "valid", "missing":
			if r.Err != nil {
				t.Errorf("Validate result #%d (%q) is an error (%v); a well-formed reference must validate, whether or not the secret exists", i+1, r.Reference, r.Err)
			}
		case "invalid":
			expectCode(t, "Validate", i, r.Reference, r.Err, provider.CodeInvalidReference)
		}
	}
}

// errorBelongs reports a per-result error about another reference than its
// result's: a sign that errors were shuffled between results.
func errorBelongs(t testing.TB, method string, i int, ref string, err *provider.Error) {
	t.Helper()
	if err != nil && err.Reference != "" && err.Reference != ref {
		t.Errorf("%s result #%d is for %q, but its error is about %q; each error must stay with its reference", method, i+1, ref, err.Reference)
	}
}

// checkDuplicates: a reference asked twice in one batch gets two results
// with the same value. The host may deduplicate, but need not.
func checkDuplicates(t testing.TB, s Suite) {
	p := configured(t, s)
	a, b := s.Valid[0], s.Valid[1]
	refs := []string{a, b, a, a, b}
	first := map[string][]byte{}
	for i, r := range resolve(t, p, refs) {
		if r.Err != nil {
			t.Errorf("Resolve result #%d (%q, asked %d times) is an error (%v); every occurrence of a duplicate must resolve", i+1, r.Reference, count(refs, r.Reference), r.Err)
			continue
		}
		if v, seen := first[r.Reference]; !seen {
			first[r.Reference] = r.Value
		} else if !bytes.Equal(v, r.Value) {
			t.Errorf("Resolve result #%d (%q) holds another value than its first occurrence in the same batch", i+1, r.Reference)
		}
	}
	for i, r := range validate(t, p, refs) {
		if r.Err != nil {
			t.Errorf("Validate result #%d (%q, asked %d times) is an error (%v); every occurrence of a duplicate must validate", i+1, r.Reference, count(refs, r.Reference), r.Err)
		}
	}
}

// checkUnknownScheme: a reference for a scheme the provider did not
// declare is invalid_reference, even when the rest of it would resolve.
// Each is asked alone, so that this check does not depend on batching.
func checkUnknownScheme(t testing.TB, s Suite) {
	p := configured(t, s)
	info := getInfo(t, p)
	for _, ref := range unknownSchemeRefs(info.Schemes, s.Valid) {
		expectCode(t, "Validate", 0, ref, validate(t, p, []string{ref})[0].Err, provider.CodeInvalidReference)
		expectCode(t, "Resolve", 0, ref, resolve(t, p, []string{ref})[0].Err, provider.CodeInvalidReference)
	}
}

// checkValidateBeforeConfigure: Validate needs no configuration, so
// references can be checked where no credentials exist (a CI job linting a
// deploy file, say).
func checkValidateBeforeConfigure(t testing.TB, s Suite) {
	ctx := checkContext(t)
	p := newProvider(t, s)
	refs := append(append(append([]string{}, s.Valid...), s.Missing...), s.Invalid...)
	resp, err := p.Validate(ctx, provider.ValidateRequest{References: refs})
	if err != nil {
		t.Fatalf("Validate before Configure failed as a call: %v; Validate must work without a configuration", err)
	}
	got := make([]string, len(resp.Results))
	for i, r := range resp.Results {
		got[i] = r.Reference
	}
	aligned(t, "Validate", refs, got)
	for i, r := range resp.Results {
		wantInvalid := i >= len(s.Valid)+len(s.Missing)
		if isInvalid(r.Err) != wantInvalid {
			t.Errorf("Validate before Configure: %s: got %s, want %s", refs[i], codeOf(r.Err), map[bool]string{true: "invalid_reference", false: "valid"}[wantInvalid])
		}
	}
}

// checkValidateOffline: Validate sends nothing to the backend. The host
// validates whole configurations before it has, or may use, credentials.
func checkValidateOffline(t testing.TB, s Suite) {
	if s.Requests == nil {
		t.Skip("Suite.Requests is not set, so network use cannot be observed")
	}
	ctx := checkContext(t)
	p := configured(t, s)
	info := getInfo(t, p)
	refs := probeRefs(s, info)
	before := s.Requests()
	// Results do not matter here; the other checks judge them.
	_, _ = p.Validate(ctx, provider.ValidateRequest{References: refs})
	if n := s.Requests() - before; n != 0 {
		t.Errorf("Validate of %d references made %d backend request(s); it must work offline", len(refs), n)
	}
	// Without this, a Requests that counts nothing would pass the check.
	before = s.Requests()
	resolve(t, p, s.Valid)
	if s.Requests() == before {
		t.Errorf("Suite.Requests did not change while Resolve fetched %d secrets, so it cannot show that Validate is offline; make it count backend requests, or leave it nil", len(s.Valid))
	}
}

// checkValidateAgreesWithResolve: a reference is malformed for both
// Validate and Resolve or for neither, so that what passes validation never
// fails later for a reason validation should have caught, and the reverse.
// Each reference is asked alone, so that this check does not depend on
// batching.
func checkValidateAgreesWithResolve(t testing.TB, s Suite) {
	p := configured(t, s)
	info := getInfo(t, p)
	for _, ref := range probeRefs(s, info) {
		v := validate(t, p, []string{ref})[0].Err
		r := resolve(t, p, []string{ref})[0].Err
		if isInvalid(v) != isInvalid(r) {
			t.Errorf("Validate and Resolve disagree on whether %q is malformed: Validate gives %s, Resolve gives %s", ref, codeOf(v), codeOf(r))
		}
	}
}

// Concurrency parameters: enough overlapping calls that shared state
// without proper synchronisation shows up as wrong values, or as a report
// from the race detector for an in-process provider.
const (
	workers = 16
	rounds  = 8
)

// checkConcurrency: concurrent Resolve calls on one configured provider
// give the same results as sequential ones. The host resolves templates in
// parallel against a single plugin.
func checkConcurrency(t testing.TB, s Suite) {
	ctx := checkContext(t)
	p := configured(t, s)
	want := values(t, resolve(t, p, s.Valid))

	var (
		mu       sync.Mutex
		problems []string
	)
	report := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	start := make(chan struct{}) // released at once, to maximise overlap
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			<-start
			for r := range rounds {
				// Rotated per worker and round, so that concurrent calls
				// ask for different references at the same position.
				refs := rotate(s.Valid, w+r)
				resp, err := p.Resolve(ctx, provider.ResolveRequest{References: slices.Clone(refs)})
				if err != nil {
					report("worker %d: Resolve failed: %v", w, err)
					return
				}
				if len(resp.Results) != len(refs) {
					report("worker %d: Resolve returned %d results for %d references", w, len(resp.Results), len(refs))
					return
				}
				for i, res := range resp.Results {
					switch {
					case res.Reference != refs[i]:
						report("worker %d: result #%d is for %q, want %q", w, i+1, res.Reference, refs[i])
					case res.Err != nil:
						report("worker %d: Resolve(%q) failed: %v", w, refs[i], res.Err)
					case !bytes.Equal(res.Value, want[refs[i]]):
						report("worker %d: Resolve(%q) returned another value than a sequential call", w, refs[i])
					}
				}
			}
		})
	}
	close(start)
	wg.Wait()

	if len(problems) > 0 {
		const show = 5
		t.Errorf("concurrent Resolve calls on one provider must give the same results as sequential calls; %d problem(s) in %d workers x %d calls, first:\n\t%s",
			len(problems), workers, rounds, strings.Join(problems[:min(show, len(problems))], "\n\t"))
	}
}

// checkStableValues: a Valid reference has a non-empty value that does not
// depend on the call, on the batch around it, or on the provider instance.
// The host caches and compares values; it must get the same secret each time.
func checkStableValues(t testing.TB, s Suite) {
	p := configured(t, s)
	first := values(t, resolve(t, p, s.Valid))
	for _, ref := range s.Valid {
		if len(first[ref]) == 0 {
			t.Errorf("Resolve(%q) returned an empty value without an error; a failure must be an error, and Suite.Valid must name non-empty secrets", ref)
		}
	}
	for i, a := range s.Valid {
		for _, b := range s.Valid[i+1:] {
			if len(first[a]) > 0 && bytes.Equal(first[a], first[b]) {
				t.Errorf("Suite.Valid references %q and %q resolve to the same value; they must name distinct secrets, or swapped results go unnoticed", a, b)
			}
		}
	}
	same := func(how string, got map[string][]byte) {
		t.Helper()
		for _, ref := range s.Valid {
			if !bytes.Equal(got[ref], first[ref]) {
				t.Errorf("Resolve(%q) %s gave another value than the first batch; values must be stable", ref, how)
			}
		}
	}
	same("called again", values(t, resolve(t, p, s.Valid)))
	alone := map[string][]byte{}
	for _, ref := range s.Valid {
		maps.Copy(alone, values(t, resolve(t, p, []string{ref})))
	}
	same("asked alone", alone)
	same("on a second provider instance", values(t, resolve(t, configured(t, s), s.Valid)))
}

// checkCheckAndClose: after a successful Configure, Check reports health
// as data rather than failing, reports healthy when the Valid references
// resolve, and Close succeeds.
func checkCheckAndClose(t testing.TB, s Suite) {
	ctx := checkContext(t)
	p := configured(t, s)
	resp, err := p.Check(ctx, provider.CheckRequest{})
	switch {
	case err != nil:
		t.Errorf("Check failed as a call after a successful Configure: %v; report problems as unhealthy items instead", err)
	case !resp.Healthy:
		var items []string
		for _, it := range resp.Items {
			if !it.OK {
				items = append(items, it.Name)
			}
		}
		t.Errorf("Check reports unhealthy (failing items: %q) although the provider is configured with Suite.Config, under which the Valid references resolve", items)
	}
	if err := p.Close(ctx); err != nil {
		t.Errorf("Close must return nil, got: %v", err)
	}
}
