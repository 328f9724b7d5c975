package host_test

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/host"
	"github.com/secrethost/secrethost/host/config"
	"github.com/secrethost/secrethost/internal/syncbuf"
	"github.com/secrethost/secrethost/internal/testbin"
	"github.com/secrethost/secrethost/shared/plugin"
	"github.com/secrethost/secrethost/shared/provider"
)

// loggedHost is newHost with the log also kept for inspection.
func loggedHost(t *testing.T, p config.ProviderBlock, opts ...host.Option) (*host.Host, *syncbuf.Buffer) {
	t.Helper()
	if p.Plugin == "" {
		p.Plugin = p.Name
	}
	p.Pos = "test.hcl:1:1"
	logs := &syncbuf.Buffer{}
	h, err := host.New(&config.Config{Source: "test", Providers: []config.ProviderBlock{p}}, append([]host.Option{
		host.WithPluginDir(pluginDir(t)),
		host.WithLogger(hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: io.MultiWriter(logs, testWriter{t})}))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h, logs
}

// TestCancelledCallerEndsOnlyItsOwnCall: callers share one plugin over a
// slow backend; one of them cancels its calls again and again. The others
// all succeed in the same process, and nothing is called a crash.
func TestCancelledCallerEndsOnlyItsOwnCall(t *testing.T) {
	h, logs := loggedHost(t, config.ProviderBlock{Name: "test"})
	pid := resolvePid(t, h)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				v, err := h.GetSecret(ctx(t), "test://sleep-150ms")
				if err != nil {
					errs <- err
					return
				}
				if v != strconv.Itoa(pid) {
					errs <- errors.New("served by process " + v + ", not " + strconv.Itoa(pid))
					return
				}
			}
		}()
	}
	for i := 0; i < 6; i++ {
		c, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := h.GetSecret(c, "test://sleep-2s")
		cancel()
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "cancelled") {
			t.Errorf("cancelled call: want context.Canceled saying so, got %v", err)
		}
		if strings.Contains(err.Error(), "deadline") || strings.Contains(err.Error(), "crash") {
			t.Errorf("cancelled call misdescribed: %v", err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("innocent caller failed: %v", err)
	}
	if got := resolvePid(t, h); got != pid {
		t.Errorf("plugin replaced (%d, then %d): a cancel must not stop it", pid, got)
	}
	for _, bad := range []string{"crash", "deadline", "stopping"} {
		if strings.Contains(logs.String(), bad) {
			t.Errorf("log says %q although callers only cancelled:\n%s", bad, logs)
		}
	}
}

// TestDeadlineKeepsAnsweringPlugin: a call that runs past its deadline in a
// plugin that still answers ends that call only; the plugin is kept.
func TestDeadlineKeepsAnsweringPlugin(t *testing.T) {
	h, logs := loggedHost(t, config.ProviderBlock{Name: "test"})
	pid := resolvePid(t, h)

	var wg sync.WaitGroup
	innocent := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, err := h.GetSecret(ctx(t), "test://sleep-1500ms")
		innocent <- err
	}()
	c, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := h.GetSecret(c, "test://hang-alone")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Fatalf("want DeadlineExceeded saying so, got %v", err)
	}
	if strings.Contains(err.Error(), "cancel") || strings.Contains(err.Error(), "crash") {
		t.Errorf("deadline misdescribed: %v", err)
	}
	wg.Wait()
	if err := <-innocent; err != nil {
		t.Errorf("concurrent caller failed: %v", err)
	}
	// Give the probe its time, then check the plugin was kept.
	time.Sleep(500 * time.Millisecond)
	if got := resolvePid(t, h); got != pid {
		t.Errorf("plugin replaced (%d, then %d) although it still answered", pid, got)
	}
	if strings.Contains(logs.String(), "crash") {
		t.Errorf("log speaks of a crash:\n%s", logs)
	}
}

// TestInvalidUTF8FailsOnlyItsReference: a reference that is not UTF-8 fails
// on its own, as invalid_reference under its variable's name, and shows
// nothing of its bytes; text a plugin sends that is not UTF-8 (through the
// SDK, or raw on the wire) arrives repaired instead of failing the batch.
func TestInvalidUTF8FailsOnlyItsReference(t *testing.T) {
	testbin.Build(t, pluginDir(t), "test-rawutf8", "./host/internal/testplugin", "-X main.mode=rawutf8")
	for _, name := range []string{"test", "test-rawutf8"} {
		t.Run(name, func(t *testing.T) {
			h, _ := loggedHost(t, config.ProviderBlock{Name: name})
			_, err := h.ResolveSecretReferences(ctx(t), map[string]string{
				"GOOD":    "test://a",
				"BAD":     "test://\xff\xfehunter2",
				"BADTEXT": "test://badtext",
			})
			var rerr *host.ResolveError
			if !errors.As(err, &rerr) || len(rerr.Failures) != 2 {
				t.Fatalf("want a ResolveError with 2 failures, got %v", err)
			}
			msg := err.Error()
			if errors.Is(err, plugin.ErrProtocol) || strings.Contains(msg, "protocol") {
				t.Errorf("blamed on the plugin:\n%s", msg)
			}
			if !utf8.ValidString(msg) || strings.Contains(msg, "hunter2") {
				t.Errorf("message shows the bad reference's bytes: %q", msg)
			}
			for _, want := range []string{"BAD (<not valid UTF-8>): invalid_reference: not valid UTF-8", "BADTEXT (test://badtext): not_found: the backend said \uFFFD"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error lacks %q:\n%s", want, msg)
				}
			}
			if strings.Contains(msg, "GOOD") {
				t.Errorf("the good reference is blamed:\n%s", msg)
			}
			for _, f := range rerr.Failures {
				if !utf8.ValidString(f.Reference) || !utf8.ValidString(f.Err.Reference) || !utf8.ValidString(f.Err.Message) {
					t.Errorf("failure holds invalid UTF-8: %+v", f)
				}
			}

			got, err := h.Validate(ctx(t), []string{"test://a", "test://\xff"})
			if err != nil {
				t.Fatal(err)
			}
			if got[0].Err != nil || got[1].Err == nil || got[1].Err.Code != provider.CodeInvalidReference || host.SafeReference(got[1].Reference) != "<not valid UTF-8>" {
				t.Errorf("Validate: %+v", got)
			}
		})
	}
}

// TestFailuresAreOneLineEach: control characters in a reference or a
// plugin's message (a terminal escape, a newline forging another line of
// the report) are escaped in the error text.
func TestFailuresAreOneLineEach(t *testing.T) {
	h, _ := loggedHost(t, config.ProviderBlock{Name: "test"})
	_, err := h.ResolveSecretReferences(ctx(t), map[string]string{
		"A": "test://missing\x1b[2J\n  B (test://b): ok: forged",
	})
	if err == nil {
		t.Fatal("resolved")
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\x1b") || strings.Count(msg, "\n") != 1 {
		t.Errorf("control characters reach the error text: %q", msg)
	}
	if !strings.Contains(msg, `A (test://missing\x1b[2J\n  B (test://b): ok: forged): not_found`) {
		t.Errorf("reference not shown escaped: %q", msg)
	}
}

// TestStuckPluginStoppedWithoutBlamingOthers: a plugin that no longer
// answers after a deadline is stopped once the grace period is over; a
// caller whose call it was serving moves to a fresh process and succeeds,
// and nothing is called a crash.
func TestStuckPluginStoppedWithoutBlamingOthers(t *testing.T) {
	h, logs := loggedHost(t, config.ProviderBlock{Name: "test"}, host.WithProbeTimeout(500*time.Millisecond))
	pid := resolvePid(t, h)
	innocent := make(chan error, 1)
	var got string
	go func() {
		var err error
		got, err = h.GetSecret(ctx(t), "test://sleep-2s")
		innocent <- err
	}()
	time.Sleep(100 * time.Millisecond) // the innocent call is in flight
	c, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := h.GetSecret(c, "test://hang")
	if !errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "crash") {
		t.Fatalf("want a deadline error, got %v", err)
	}
	waitGone(t, pid)
	if err := <-innocent; err != nil {
		t.Fatalf("the innocent caller failed: %v", err)
	}
	if got == strconv.Itoa(pid) || got == "" {
		t.Errorf("innocent call served by %q; the stuck process was %d", got, pid)
	}
	if !strings.Contains(logs.String(), "did not answer within the grace period") {
		t.Errorf("log does not say why the plugin was stopped:\n%s", logs)
	}
	if strings.Contains(logs.String(), "crash") {
		t.Errorf("log speaks of a crash:\n%s", logs)
	}
}

// TestCancelDuringStartEndsOnlyThatCaller: the caller that happened to
// begin a slow start gives up; it returns at once, and the start goes on
// for the caller waiting on it, which gets the plugin started once.
func TestCancelDuringStartEndsOnlyThatCaller(t *testing.T) {
	testbin.Build(t, pluginDir(t), "test-slowstart", "./host/internal/testplugin", "-X main.mode=slowstart")
	h, logs := loggedHost(t, config.ProviderBlock{Name: "test-slowstart"})
	c, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	other := make(chan error, 1)
	go func() {
		time.Sleep(20 * time.Millisecond) // after the first caller began the start
		_, err := h.GetSecret(ctx(t), "test://a")
		other <- err
	}()
	start := time.Now()
	_, err := h.GetSecret(c, "test://a")
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "cancelled") {
		t.Errorf("want context.Canceled, got %v", err)
	}
	if d := time.Since(start); d > 700*time.Millisecond {
		t.Errorf("the cancelled caller returned after %s, not at once", d)
	}
	if err := <-other; err != nil {
		t.Errorf("the waiting caller failed: %v", err)
	}
	if n := strings.Count(logs.String(), "plugin_version="); n != 1 {
		t.Errorf("plugin started %d times, want once", n)
	}
}
