package providertest

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Result is the outcome of one check run by RunChecks.
type Result struct {
	Name    string
	Failed  bool
	Skipped bool
	// Log is what the check reported, in order: the reasons it failed,
	// the reason it skipped, notes. It never holds secret values.
	Log []string
}

// CheckNames returns the names of the kit's checks, in the order Run and
// RunChecks run them.
func CheckNames() []string {
	names := make([]string, len(checks))
	for i, c := range checks {
		names[i] = c.name
	}
	return names
}

// RunChecks runs every check of the kit against s outside go test, for a
// runner such as the conformance command (shared/providertest/cmd/conformance),
// and hands each check's Result to report as soon as the check has ended
// (its cleanups, such as stopping its plugin, included). The checks are the
// ones Run runs, in the same order. ctx bounds every check. RunChecks fails
// only if s itself is unusable (see Suite); a failed check is a Result.
func RunChecks(ctx context.Context, s Suite, report func(Result)) error {
	if err := s.validate(); err != nil {
		return fmt.Errorf("invalid Suite: %w", err)
	}
	for _, c := range checks {
		r := runRecorded(ctx, c.name, func(t testing.TB) { c.run(t, s) })
		report(r.result())
	}
	return nil
}

// recorder stands in for the *testing.T of one check, so that a check can
// run outside go test (RunChecks) and so that the kit's own tests can run a
// check against a broken provider and observe its failure instead of
// failing themselves. It implements every method of testing.TB; the
// embedded interface is nil and only supplies testing.TB's unexported
// method.
type recorder struct {
	testing.TB

	name   string
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	failed   bool
	skipped  bool
	log      []string
	cleanups []func()
}

var _ testing.TB = (*recorder)(nil)

// runRecorded runs f with a recorder on a goroutine of its own, where
// FailNow and SkipNow can end it as they end a test, then cancels the
// check's context and runs its cleanups, as testing.T does.
func runRecorded(ctx context.Context, name string, f func(testing.TB)) *recorder {
	cctx, cancel := context.WithCancel(ctx)
	r := &recorder{name: name, ctx: cctx, cancel: cancel}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer r.runCleanups() // also after Goexit
		defer r.recoverPanic()
		f(r)
	}()
	<-done
	return r
}

func (r *recorder) result() Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Result{Name: r.name, Failed: r.failed, Skipped: r.skipped && !r.failed, Log: slices.Clone(r.log)}
}

// recoverPanic turns a panic in a check (a bug in the kit, or in an
// in-process provider) into a failed check instead of a crashed runner.
func (r *recorder) recoverPanic() {
	if v := recover(); v != nil {
		r.Errorf("panic: %v", v)
	}
}

func (r *recorder) Name() string             { return r.name }
func (r *recorder) Context() context.Context { return r.ctx }
func (r *recorder) Helper()                  {}

func (r *recorder) Log(args ...any) { r.add(strings.TrimSuffix(fmt.Sprintln(args...), "\n")) }

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

// FailNow ends the check's goroutine, as testing.T does.
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

// Cleanup functions run when the check ends, so that each check's plugin
// is gone before the next check starts.
func (r *recorder) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

func (r *recorder) TempDir() string {
	dir, err := os.MkdirTemp("", "providertest-")
	if err != nil {
		r.Fatalf("TempDir: %v", err)
	}
	r.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func (r *recorder) ArtifactDir() string { return r.TempDir() }

func (r *recorder) Attr(key, value string) { r.Logf("%s: %s", key, value) }

// Setenv and Chdir would change the whole runner process.
func (r *recorder) Setenv(key, _ string) {
	r.Fatalf("Setenv(%q) is not supported outside go test", key)
}

func (r *recorder) Chdir(dir string) { r.Fatalf("Chdir(%q) is not supported outside go test", dir) }

func (r *recorder) Output() io.Writer { return recorderOutput{r} }

type recorderOutput struct{ r *recorder }

func (o recorderOutput) Write(b []byte) (int, error) {
	o.r.add(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}

func (r *recorder) add(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, msg)
}

func (r *recorder) runCleanups() {
	r.cancel() // as testing.T: the context ends before the cleanups run
	for {
		r.mu.Lock()
		fs := slices.Clone(r.cleanups)
		r.cleanups = nil
		r.mu.Unlock()
		if len(fs) == 0 {
			return
		}
		for _, f := range slices.Backward(fs) {
			f()
		}
	}
}
