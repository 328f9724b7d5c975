// Package providertest is the conformance kit for secrethost providers.
// A provider author describes the provider under test in a Suite and calls
// Run from an ordinary Go test; every rule of the provider contract that can
// be checked from the outside becomes a named subtest, so a failure names
// the rule that was broken.
//
// Run the kit against the provider as the host sees it, through the plugin
// adapters: InProcess serves it over an in-process gRPC connection (fast,
// and visible to the race detector and coverage), Binary launches the built
// plugin the way the host does.
//
//	func TestConformance(t *testing.T) {
//		providertest.Run(t, providertest.Suite{
//			New:     providertest.InProcess(func() provider.Provider { return &myProvider{} }),
//			Config:  map[string]string{"token": "test-token-0123"},
//			Valid:   []string{"my://vault/a", "my://vault/b"},
//			Invalid: []string{"my://", "my://vault/a?x=%zz"},
//			Missing: []string{"my://vault/nope"},
//		})
//	}
//
// Run it with -race: one of the checks resolves from many goroutines.
//
// For a plugin binary in any language, the command
// shared/providertest/cmd/conformance (`make conformance` in the
// repository) runs the same checks through RunChecks, outside go test, and
// prints each one's result.
//
// The kit never prints secret values: failure messages name references and
// configuration attributes, not the values behind them.
package providertest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/secrethost/secrethost/shared/launch"
	"github.com/secrethost/secrethost/shared/plugin"
	"github.com/secrethost/secrethost/shared/provider"
)

// Suite describes the provider under test and the data the checks use.
type Suite struct {
	// New returns a fresh, unconfigured provider. Every check starts from
	// its own provider, so one check's state cannot hide another's bug.
	// Use InProcess or Binary: the checks expect the provider as the host
	// sees it, through the plugin adapters.
	New func(t testing.TB) provider.Provider

	// Config is a valid configuration; Configure must accept it and the
	// provider must then resolve the Valid references.
	Config map[string]string

	// Valid references resolve successfully. At least two, distinct, naming
	// secrets with distinct, non-empty values: the ordering checks can only
	// notice swapped results if the values differ.
	Valid []string
	// Invalid references are malformed: Validate and Resolve must both
	// answer invalid_reference. At least one.
	Invalid []string
	// Missing references are well-formed but name secrets that do not
	// exist: Validate accepts them and Resolve answers not_found. At least
	// one.
	Missing []string

	// SensitiveConfig, optional, is a configuration whose every value is
	// treated as a secret: Configure may accept or reject it, but no error
	// or warning may echo one of its values. Choose values that occur in no
	// reference. Values of attributes the config schema marks Sensitive are
	// checked the same way, in Config and BadConfig too.
	SensitiveConfig map[string]string
	// BadConfig, optional, is a configuration Configure must reject with
	// invalid_config.
	BadConfig map[string]string

	// Requests, optional, returns how many requests the provider's backend
	// has received so far (a counter in a fake server, say). It lets the
	// kit prove that Validate works offline; without it that check is
	// skipped.
	Requests func() int
}

// Run checks the provider described by s, one subtest per rule. A failing
// check does not stop the others. Run fails the test at once if s itself is
// unusable (see Suite).
func Run(t *testing.T, s Suite) {
	t.Helper()
	if err := s.validate(); err != nil {
		t.Fatalf("providertest: invalid Suite: %v", err)
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) { c.run(t, s) })
	}
}

// InProcess returns a Suite.New that serves a fresh provider from newImpl
// over an in-process gRPC connection. The host-side adapter is the real
// one, so results cross the same converters and protocol checks as in
// production, while the provider stays in the test process where the race
// detector and coverage can see it.
func InProcess(newImpl func() provider.Provider) func(testing.TB) provider.Provider {
	return func(t testing.TB) provider.Provider {
		t.Helper()
		return plugin.TestClient(t, newImpl())
	}
}

// Binary returns a Suite.New that launches the plugin binary at path the
// way the host does (launch.Locate's safety checks, then launch.Start), and
// kills it when the check ends. If the check failed, the last lines of the
// plugin's stderr are logged, since that is where a crashing plugin says why.
func Binary(path string) func(testing.TB) provider.Provider {
	return func(t testing.TB) provider.Provider {
		t.Helper()
		abs, err := filepath.Abs(path)
		if err != nil {
			t.Fatalf("providertest: plugin path %q: %v", path, err)
		}
		// A binary the host would refuse (world-writable, not executable)
		// fails here rather than in production.
		real, err := launch.Locate(filepath.Dir(abs), filepath.Base(abs))
		if err != nil {
			t.Fatalf("providertest: the host would not run %s: %v", abs, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), launch.DefaultStartTimeout)
		defer cancel()
		proc, err := launch.Start(ctx, launch.Spec{Name: filepath.Base(real), Path: real})
		if err != nil {
			t.Fatalf("providertest: %v", err)
		}
		t.Cleanup(func() {
			if tail := proc.StderrTail(); t.Failed() && tail != "" {
				t.Logf("last lines of the plugin's stderr:\n%s", tail)
			}
			proc.Kill()
		})
		return proc.Client
	}
}

// validate reports everything that makes s unusable, so that a suite
// mistake is not mistaken for a provider bug.
func (s Suite) validate() error {
	var errs []error
	if s.New == nil {
		errs = append(errs, errors.New("New is nil"))
	}
	if len(s.Valid) < 2 {
		errs = append(errs, fmt.Errorf("Valid has %d reference(s), want at least 2 to check ordering", len(s.Valid)))
	}
	if len(s.Invalid) == 0 {
		errs = append(errs, errors.New("Invalid is empty"))
	}
	if len(s.Missing) == 0 {
		errs = append(errs, errors.New("Missing is empty"))
	}
	// Each reference has one expected outcome, so it may be listed once.
	seen := map[string]string{}
	for _, l := range []struct {
		name string
		refs []string
	}{{"Valid", s.Valid}, {"Invalid", s.Invalid}, {"Missing", s.Missing}} {
		for _, ref := range l.refs {
			if prev, dup := seen[ref]; dup {
				errs = append(errs, fmt.Errorf("%q is listed in %s and in %s", ref, prev, l.name))
				continue
			}
			seen[ref] = l.name
		}
	}
	for _, ref := range slices.Concat(s.Valid, s.Missing) {
		if ref == "" {
			errs = append(errs, errors.New("the empty reference cannot be well-formed; list it in Invalid"))
		}
	}
	return errors.Join(errs...)
}
