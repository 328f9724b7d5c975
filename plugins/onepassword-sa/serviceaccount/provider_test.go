package serviceaccount

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/shared/provider"
	"github.com/secrethost/secrethost/shared/providertest"
)

func TestConfigurePassesIntegrationInfo(t *testing.T) {
	f := newFakeOP()
	p, _ := newTestProvider(t, f)
	configure(t, p, nil)
	if len(f.infos) != 0 {
		t.Fatalf("%d sign-ins during Configure, want none: it signs in at first use", len(f.infos))
	}
	resolve(t, p, "op://v/i/f")
	if len(f.infos) != 1 {
		t.Fatalf("%d sign-ins, want 1 at the first Resolve", len(f.infos))
	}
	if got := f.infos[0]; got.name != "secrethost onepassword-sa" || got.version == "" || got.version != version() {
		t.Errorf("integration info = %+v, want name %q and version %q", got, IntegrationName, version())
	}
	if f.tokens[0] != testToken {
		t.Errorf("the SDK was not given the configured token")
	}
}

// TestConfigureSignInOutcomes: Configure never signs in, whatever signing
// in would do; the first Resolve reports the failure.
func TestConfigureSignInOutcomes(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code provider.Code // of the error; CodeUnspecified: Configure succeeds with a warning
		has  []string
	}{
		{"malformed token", errors.New("error initializing client: invalid user input: encountered the following errors: service account token had invalid format"),
			provider.CodeInvalidConfig, []string{AttrToken, "not a valid 1Password service account token", "service account token had invalid format"}},
		{"rejected token", errors.New("bad service account token, please rotate it: revoked"),
			provider.CodeUnauthenticated, []string{AttrToken, "rejected", "bad service account token, please rotate it"}},
		{"no permission", errors.New("you don't have the right permissions to access this resource"),
			provider.CodePermissionDenied, []string{"right permissions"}},
		{"unreachable", errors.New("error initializing client: " + wasmPanic),
			provider.CodeUnspecified, []string{"unavailable", "no such host", "signs in on first use"}},
		{"rate limited", errors.New("rate limit exceeded"),
			provider.CodeUnspecified, []string{"rate_limited", "rate limit exceeded"}},
		{"core failed to load", &coreError{errors.New("failed to initialize plugin: boom")},
			provider.CodeInternal, []string{"boom"}},
		{"unexpected", errors.New("an internal error occurred"),
			provider.CodeInternal, []string{"an internal error occurred"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeOP()
			f.signInFn = func(int) error { return tt.err }
			p, _ := newTestProvider(t, f)
			resp, err := p.Configure(t.Context(), provider.ConfigureRequest{Config: map[string]string{AttrToken: testToken}})
			if err != nil || len(resp.Warnings) != 0 || f.signInCount() != 0 {
				t.Fatalf("Configure = %+v, %v after %d sign-ins; want success without signing in", resp, err, f.signInCount())
			}
			r := resolve(t, p, "op://v/i/f")[0]
			if r.Err == nil {
				t.Fatal("Resolve succeeded although signing in failed")
			}
			text := r.Err.Error()
			if tt.code != provider.CodeUnspecified && tt.code != provider.CodeInvalidConfig && r.Err.Code != tt.code {
				t.Errorf("want %s, got %v", tt.code, r.Err)
			}
			if tt.code == provider.CodeUnspecified || tt.code == provider.CodeInvalidConfig {
				tt.has = nil // the wording is Resolve's, not Configure's
			} else {
				tt.has = tt.has[len(tt.has)-1:]
			}
			for _, h := range tt.has {
				if !strings.Contains(text, h) {
					t.Errorf("%q lacks %q", text, h)
				}
			}
			noToken(t, text)
			if strings.Contains(text, "wasm stack trace") || strings.Contains(text, "error initializing client") {
				t.Errorf("SDK noise in %q", text)
			}
		})
	}
}

// TestDeferredSignIn: after Configure could not reach 1Password, the first
// Resolve signs in; concurrent first calls share that sign-in.
func TestDeferredSignIn(t *testing.T) {
	f := newFakeOP()
	f.secrets["op://v/i/f"] = "s3cret"
	down := true
	var mu sync.Mutex
	f.signInFn = func(int) error {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return errors.New(wasmPanic)
		}
		return nil
	}
	p, _ := newTestProvider(t, f)
	configure(t, p, nil)

	// Still down: the lookup fails as unavailable, and Check says why.
	r := resolve(t, p, "op://v/i/f")[0]
	if r.Err == nil || r.Err.Code != provider.CodeUnavailable || !strings.Contains(r.Err.Message, "signing in to 1Password") {
		t.Fatalf("want unavailable while signing in, got %+v", r.Err)
	}
	chk, err := p.Check(t.Context(), provider.CheckRequest{})
	if err != nil || chk.Healthy || !strings.Contains(checkDetail(chk), "unavailable") {
		t.Fatalf("Check = %+v, %v", chk, err)
	}

	mu.Lock()
	down = false
	mu.Unlock()
	before := f.signInCount()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if r := resolve(t, p, "op://v/i/f")[0]; r.Err != nil || string(r.Value) != "s3cret" {
				t.Errorf("after recovery: %+v", r)
			}
		})
	}
	wg.Wait()
	// Calls that started after the sign-in use its client; none signs in
	// twice for the same missing client.
	if n := f.signInCount() - before; n != 1 {
		t.Errorf("%d sign-ins for 8 concurrent first calls, want 1", n)
	}
}

func checkDetail(c provider.CheckResponse) string {
	var b strings.Builder
	for _, it := range c.Items {
		b.WriteString(it.Name + ": " + it.Detail + "\n")
	}
	return b.String()
}

// TestResolveBatch: one ResolveAll per batch, duplicates (including other
// spellings of the same reference) removed, invalid references never sent,
// results in request order.
func TestResolveBatch(t *testing.T) {
	f := newFakeOP()
	f.secrets["op://Prod/DB/password"] = "pw"
	f.secrets["op://Prod/DB/user"] = "admin"
	f.secrets["op://Prod/DB/totp?attribute=otp"] = "123456"
	p, _ := newTestProvider(t, f)
	configure(t, p, nil)

	refs := []string{
		"op://Prod/DB/password",
		"op://Prod/DB/user",
		"OP://Prod/DB/password",   // the SDK rejects an upper-case scheme
		" op://Prod/DB/password ", // and leading whitespace
		"op://Prod/DB/password",   // plain duplicate
		"op://Prod/DB",            // invalid
		"op://Prod/DB/totp?attribute=otp",
	}
	res := resolve(t, p, refs...)
	want := []string{"pw", "admin", "", "", "pw", "", "123456"}
	for i, r := range res {
		if r.Reference != refs[i] {
			t.Errorf("result %d is for %q, want %q", i, r.Reference, refs[i])
		}
		if want[i] == "" {
			if r.Err == nil || r.Err.Code != provider.CodeInvalidReference {
				t.Errorf("%q: want invalid_reference, got %v", refs[i], r.Err)
			}
			continue
		}
		if r.Err != nil || string(r.Value) != want[i] {
			t.Errorf("%q: got %q, %v; want %q", refs[i], r.Value, r.Err, want[i])
		}
	}
	if len(f.batches) != 1 {
		t.Fatalf("%d ResolveAll calls, want 1: %q", len(f.batches), f.batches)
	}
	got := slices.Sorted(slices.Values(f.batches[0]))
	wantKeys := []string{"op://Prod/DB/password", "op://Prod/DB/totp?attribute=otp", "op://Prod/DB/user"}
	if !slices.Equal(got, wantKeys) {
		t.Errorf("ResolveAll got %q, want %q", got, wantKeys)
	}
}

func TestResolveEmptyValue(t *testing.T) {
	f := newFakeOP()
	f.secrets["op://v/i/empty"] = ""
	p, _ := newTestProvider(t, f)
	configure(t, p, nil)
	r := resolve(t, p, "op://v/i/empty")[0]
	if r.Err != nil || r.Value == nil || len(r.Value) != 0 {
		t.Errorf("empty secret: value %#v, err %v", r.Value, r.Err)
	}
}

// TestRenewalOnceUnderConcurrency: when the SDK loses its session, callers
// that hit "invalid client id" at the same time wait for one renewal, then
// retry once.
func TestRenewalOnceUnderConcurrency(t *testing.T) {
	f := newFakeOP()
	for _, k := range []string{"a", "b", "c", "d"} {
		f.secrets["op://v/i/"+k] = "value-" + k
	}
	p, _ := newTestProvider(t, f)
	configure(t, p, nil)
	st := p.st.Load()
	resolve(t, p, "op://v/i/a") // signs in

	// Hold every ResolveAll until all callers are in, so that they all
	// fail with the same (lost) client.
	const callers = 12
	f.invalidate()
	f.gate = make(chan struct{})
	f.entered = make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i := range callers {
		ref := "op://v/i/" + []string{"a", "b", "c", "d"}[i%4]
		extra := "op://v/i/" + []string{"a", "b", "c", "d"}[(i+1)%4]
		wg.Go(func() {
			for _, r := range resolve(t, p, ref, extra) {
				if r.Err != nil || string(r.Value) != "value-"+r.Reference[len("op://v/i/"):] {
					t.Errorf("%s: %+v", r.Reference, r)
				}
			}
		})
	}
	// With in-flight sharing, the 12 callers make at most 4 distinct
	// batches; wait until the first of them is inside ResolveAll, let the
	// rest pile up, then release everything.
	<-f.entered
	waitFor(t, func() bool { return st.flights.waiting("op://v/i/a") > 0 })
	close(f.gate)
	wg.Wait()

	if n := st.sess.renewalCount(); n != 1 {
		t.Errorf("%d renewals, want exactly 1", n)
	}
	if n := f.signInCount(); n != 2 {
		t.Errorf("%d sign-ins, want 2 (first use and one renewal)", n)
	}
}

// TestRenewalDirect drives session.do from many goroutines that all hold
// the lost client, without in-flight sharing in between.
func TestRenewalDirect(t *testing.T) {
	f := newFakeOP()
	s := newSession(testToken, integration{IntegrationName, "test"}, f.factory, hclog.NewNullLogger())
	if _, _, err := s.newer(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	f.invalidate()
	start := make(chan struct{})
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		retries int
	)
	for range 32 {
		wg.Go(func() {
			<-start
			calls := 0
			err := s.do(t.Context(), func(c sdkClient) error {
				calls++
				_, err := c.ListVaults(t.Context())
				return err
			})
			if err != nil {
				t.Errorf("do: %v", err)
			}
			mu.Lock()
			retries += calls - 1
			mu.Unlock()
			if calls > 2 {
				t.Errorf("call made %d times, want at most 2 (one retry)", calls)
			}
		})
	}
	close(start)
	wg.Wait()
	if s.renewalCount() != 1 || f.signInCount() != 2 {
		t.Errorf("renewals %d, sign-ins %d; want 1 and 2", s.renewalCount(), f.signInCount())
	}
	if retries == 0 {
		t.Errorf("no caller retried; the test did not exercise renewal")
	}
}

// TestRenewalFailureIsShared: if the renewal fails, the callers waiting
// for it get its error rather than each signing in again.
func TestRenewalFailureIsShared(t *testing.T) {
	f := newFakeOP()
	release := make(chan struct{})
	f.signInFn = func(n int) error {
		if n == 1 {
			return nil
		}
		<-release
		return errors.New("bad service account token, please rotate it: revoked")
	}
	s := newSession(testToken, integration{IntegrationName, "test"}, f.factory, hclog.NewNullLogger())
	if _, _, err := s.newer(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	f.invalidate()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			errs <- s.do(t.Context(), func(c sdkClient) error { _, err := c.ListVaults(t.Context()); return err })
		})
	}
	waitFor(t, func() bool { return f.signInCount() == 2 })
	// Every other caller queues behind the renewal before it fails.
	waitFor(t, func() bool { return s.pendingWaiters() == 7 })
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if pe := callError(err, testToken); pe.Code != provider.CodeUnauthenticated || !strings.Contains(pe.Message, "again") {
			t.Errorf("got %v", pe)
		}
	}
	if n := f.signInCount(); n != 2 {
		t.Errorf("%d sign-ins, want 2: Configure's and one shared renewal", n)
	}
}

// TestValidateIsTheSDKsVerdict: service-account mode accepts exactly what
// the SDK accepts, without the SDK's core (the fake factory fails the test
// if anything signs in). These are the 20 references on which the plugin
// and the SDK disagreed (issue 13): 11 the SDK accepts, 9 it rejects.
func TestValidateIsTheSDKsVerdict(t *testing.T) {
	f := newFakeOP()
	f.signInFn = func(int) error { t.Error("Validate signed in"); return errors.New("no") }
	p := newProvider(f.factory, rulesValidate, newFakeClock().now, hclog.NewNullLogger())
	accepted := []string{
		"op://vault/item/field?ssh-format=openssh",
		"op://vault/item/section/field?ssh-format=openssh",
		"op://vault//field",
		"op:///item/field",
		"op://vault/item/",
		"op://vault//section/field",
		"op:////",
		"op:// Prod/item/field",
		"op://vault /item/field",
		"op://vault/item/ field",
		"op://vault/item/field ",
	}
	rejected := []string{
		"op://vault/item/field?attr=otp",
		"op://vault/item/field?attribute=value",
		"op://vault/item/field?attribute=OTP",
		"op://vault/item/field?ATTRIBUTE=otp",
		"op://va%20ult/item/field",
		"op://vault/item/field%20",
		"OP://vault/item/field",
		"op://vault/item/field\n",
		" op://vault/item/field",
	}
	refs := append(append([]string{}, accepted...), rejected...)
	refs = append(refs, "not a reference")
	resp, err := p.Validate(t.Context(), provider.ValidateRequest{References: refs})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range resp.Results {
		if r.Reference != refs[i] {
			t.Errorf("result %d is for %q, want %q", i, r.Reference, refs[i])
		}
		switch {
		case i < len(accepted):
			if r.Err != nil {
				t.Errorf("%q: the SDK accepts it, we reject it: %v", refs[i], r.Err)
			}
		case r.Err == nil || r.Err.Code != provider.CodeInvalidReference:
			t.Errorf("%q: the SDK rejects it, we give %v", refs[i], r.Err)
		}
	}
	if e := resp.Results[len(refs)-1].Err; e == nil || e.Reference != "" || strings.Contains(e.Error(), "not a reference") {
		t.Errorf("non-reference must be rejected without being echoed: %v", e)
	}
	if n := f.signInCount(); n != 0 {
		t.Errorf("%d sign-ins during Validate", n)
	}
}

func TestCheck(t *testing.T) {
	f := newFakeOP()
	p, _ := newTestProvider(t, f)
	if c, err := p.Check(t.Context(), provider.CheckRequest{}); err != nil || c.Healthy {
		t.Errorf("Check before Configure = %+v, %v; want unhealthy", c, err)
	}
	configure(t, p, map[string]string{AttrCacheEnabled: "true"})
	c, err := p.Check(t.Context(), provider.CheckRequest{})
	if err != nil || !c.Healthy || !strings.Contains(checkDetail(c), "2 vault(s)") || !strings.Contains(checkDetail(c), "enabled") {
		t.Errorf("Check = %+v, %v", c, err)
	}

	f.callErr = errors.New("bad service account token, please rotate it: the token was deleted")
	c, _ = p.Check(t.Context(), provider.CheckRequest{})
	if c.Healthy || !strings.Contains(checkDetail(c), "unauthenticated: 1Password request failed: bad service account token, please rotate it: the token was deleted") {
		t.Errorf("Check must report the exact authentication error:\n%s", checkDetail(c))
	}
	noToken(t, checkDetail(c))

	// A lost session is renewed for Check too.
	f.callErr = nil
	f.invalidate()
	if c, _ = p.Check(t.Context(), provider.CheckRequest{}); !c.Healthy {
		t.Errorf("Check after a lost session:\n%s", checkDetail(c))
	}
}

func TestClose(t *testing.T) {
	p, _ := newTestProvider(t, newFakeOP())
	configure(t, p, nil)
	if err := p.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Resolve(t.Context(), provider.ResolveRequest{References: []string{"op://v/i/f"}}); err == nil {
		t.Error("Resolve after Close succeeded")
	}
	if _, err := p.Configure(t.Context(), provider.ConfigureRequest{Config: map[string]string{AttrToken: testToken}}); err == nil {
		t.Error("Configure after Close succeeded")
	}
}

func TestResolveBeforeConfigure(t *testing.T) {
	p, _ := newTestProvider(t, newFakeOP())
	_, err := p.Resolve(t.Context(), provider.ResolveRequest{References: []string{"op://v/i/f"}})
	if !isCode(err, provider.CodeInvalidConfig) {
		t.Errorf("got %v", err)
	}
}

// TestConformance runs the contract's conformance kit against the provider
// with the fake 1Password, through the real plugin adapters, with the
// cache off and on.
func TestConformance(t *testing.T) {
	for _, cacheOn := range []string{"false", "true"} {
		t.Run("cache="+cacheOn, func(t *testing.T) { conformance(t, cacheOn) })
	}
}

func conformance(t *testing.T, cacheOn string) {
	f := newFakeOP()
	f.secrets["op://Private/Database/password"] = "db-password-value"
	f.secrets["op://Private/Database/Connection/host"] = "db.example.internal"
	f.secrets["op://Private/API/credential"] = "api-key-value"
	providertest.Run(t, providertest.Suite{
		New: providertest.InProcess(func() provider.Provider {
			return newProvider(f.factory, rulesValidate, newFakeClock().now, hclog.NewNullLogger())
		}),
		Config:          map[string]string{AttrToken: testToken, AttrCacheEnabled: cacheOn},
		SensitiveConfig: map[string]string{AttrToken: "ops_sensitive-value-never-echoed", AttrTokenFallback: "ops_other-sensitive-value"},
		BadConfig:       map[string]string{AttrToken: testToken, AttrCacheMaxSize: "0"},
		Valid:           []string{"op://Private/Database/password", "op://Private/Database/Connection/host", "op://Private/API/credential"},
		Invalid:         []string{"op://Private/Database", "op://Private/Database/password#x", "OP://Private/Database/password"},
		Missing:         []string{"op://Private/Nothing/password"},
		Requests:        f.calls,
	})
}

func sleep() { time.Sleep(time.Millisecond) }

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 5000 {
		if cond() {
			return
		}
		sleep()
	}
	t.Fatal("condition not reached")
}
