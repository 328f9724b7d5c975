package onepasswordconnect_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secrethost/secrethost/plugins/onepassword-connect/emulator"
	"github.com/secrethost/secrethost/plugins/onepassword-connect/emulator/fixture"
)

// TestCancelledCallerLeavesOthersAlone is doco-cd's API-triggered deploy:
// callers share the plugin over a slow Connect server, and one of them
// keeps giving up (its request's context is cancelled). The others all get
// their values from the same plugin process; nothing is called a crash.
func TestCancelledCallerLeavesOthersAlone(t *testing.T) {
	fx := fixture.New()
	srv := emulator.NewTestServer(t, fx.Data, emulator.WithLatency(80*time.Millisecond))
	h, logs := newHost(t, cfg(srv.URL(), fixture.Token))
	refs := map[string]string{"DB_PASSWORD": "op://Production/Postgres/password", "API": "op://Production/API/Primary/key"}

	stop := make(chan struct{})
	errs := make(chan error, 10)
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				got, err := h.ResolveSecretReferences(ctx(t, 30*time.Second), refs)
				if err != nil {
					errs <- err
					return
				}
				if got["DB_PASSWORD"] != fixture.PGPassword {
					errs <- errors.New("wrong value")
					return
				}
			}
		}()
	}
	for range 8 {
		c, cancel := context.WithCancel(context.Background())
		time.AfterFunc(40*time.Millisecond, cancel)
		_, err := h.ResolveSecretReferences(c, refs)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled caller: want context.Canceled, got %v", err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a caller that did not cancel failed: %v", err)
	}
	if n := strings.Count(logs.String(), "plugin_version="); n != 1 {
		t.Errorf("plugin started %d times; a cancel must not stop it", n)
	}
	for _, bad := range []string{"crash", "deadline"} {
		if strings.Contains(logs.String(), bad) {
			t.Errorf("the log says %q although callers only cancelled", bad)
		}
	}
}
