package providertest

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
)

// recorder stands in for the *testing.T of one check, so that a check can
// be run against a broken provider and its failure observed instead of
// failing the kit's own test. The embedded testing.TB is the real test: it
// supplies Context, TempDir and the like, while everything that reports or
// ends the check is overridden here.
type recorder struct {
	testing.TB

	mu       sync.Mutex
	failed   bool
	skipped  bool
	log      []string
	cleanups []func()
}

var _ testing.TB = (*recorder)(nil)

func (r *recorder) Helper() {}

func (r *recorder) Log(args ...any) { r.add(fmt.Sprintln(args...)) }

func (r *recorder) Logf(format string, args ...any) { r.add(fmt.Sprintf(format, args...)) }

func (r *recorder) Error(args ...any) { r.Log(args...); r.Fail() }

func (r *recorder) Errorf(format string, args ...any) { r.Logf(format, args...); r.Fail() }

func (r *recorder) Fatal(args ...any) { r.Log(args...); r.FailNow() }

func (r *recorder) Fatalf(format string, args ...any) { r.Logf(format, args...); r.FailNow() }

func (r *recorder) Fail() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
}

func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

// FailNow ends the check's goroutine, as testing.T does; record runs every
// check on a goroutine of its own for this reason.
func (r *recorder) FailNow() { r.Fail(); runtime.Goexit() }

func (r *recorder) Skip(args ...any) { r.Log(args...); r.SkipNow() }

func (r *recorder) Skipf(format string, args ...any) { r.Logf(format, args...); r.SkipNow() }

func (r *recorder) SkipNow() {
	r.mu.Lock()
	r.skipped = true
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Skipped() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.skipped
}

// Cleanup functions run when the check ends, not when the real test does,
// so that each check's plugin is gone before the next check starts.
func (r *recorder) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

func (r *recorder) add(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, msg)
}

func (r *recorder) runCleanups() {
	r.mu.Lock()
	fs := slices.Clone(r.cleanups)
	r.cleanups = nil
	r.mu.Unlock()
	for _, f := range slices.Backward(fs) {
		f()
	}
}

// record runs every check of the kit against s with recorders and returns
// them by check name.
func record(t *testing.T, s Suite) map[string]*recorder {
	t.Helper()
	if err := s.validate(); err != nil {
		t.Fatalf("invalid Suite: %v", err)
	}
	out := map[string]*recorder{}
	for _, c := range checks {
		out[c.name] = recordFunc(t, func(r testing.TB) { c.run(r, s) })
	}
	return out
}

// recordFunc runs f with a recorder on a goroutine of its own, where
// FailNow and SkipNow can end it, then runs its cleanups.
func recordFunc(t *testing.T, f func(testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer r.runCleanups() // also after Goexit
		f(r)
	}()
	<-done
	return r
}
