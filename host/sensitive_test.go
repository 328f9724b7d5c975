package host_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/secrethost/secrethost/host"
	"github.com/secrethost/secrethost/host/config"
)

func TestSensitiveEnv(t *testing.T) {
	environ := []string{
		"TEST_TOKEN=from-the-environment", // named like the Sensitive attribute
		"COPY=tok-value-1",                // the configured token under another name
		"prefix=p",                        // an attribute, not Sensitive
		"PLAIN=tok-value-1-and-more",      // not the same value
		"EMPTY=",
		"=odd",
	}
	for _, tc := range []struct {
		name string
		p    config.Provider
		want []string
	}{
		{"config map", config.Provider{Name: "test", Config: map[string]string{"TEST_TOKEN": "tok-value-1"}}, []string{"COPY", "TEST_TOKEN"}},
		// Not started, and its configuration would be rejected: it is
		// only asked to describe itself.
		{"described, not configured", config.Provider{Name: "test", Config: map[string]string{"fail": "1"}}, []string{"TEST_TOKEN"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost(t, tc.p)
			got, err := h.SensitiveEnv(ctx(t), environ)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("SensitiveEnv = %q, want %q", got, tc.want)
			}
		})
	}

	// A started provider is not started again.
	h := newHost(t, config.Provider{Name: "test", Config: map[string]string{"TEST_TOKEN": "tok-value-1"}})
	pid := resolvePid(t, h)
	if got, err := h.SensitiveEnv(ctx(t), environ); err != nil || !slices.Equal(got, []string{"COPY", "TEST_TOKEN"}) {
		t.Errorf("SensitiveEnv = %q, %v", got, err)
	}
	if again := resolvePid(t, h); again != pid {
		t.Errorf("the plugin was replaced (%d, then %d)", pid, again)
	}

	// A provider that cannot describe itself is an error that names it.
	h = newHost(t, config.Provider{Name: "gone", Plugin: "no-such-plugin", Pos: "config.hcl:4:1"})
	if _, err := h.SensitiveEnv(ctx(t), environ); err == nil || !strings.Contains(err.Error(), `provider "gone" (config.hcl:4:1)`) {
		t.Errorf("want an error naming the provider, got %v", err)
	}
	h.Close()
	if _, err := h.SensitiveEnv(ctx(t), environ); !errors.Is(err, host.ErrClosed) {
		t.Errorf("closed host: %v", err)
	}
}
