package host_test

import (
	"errors"
	"os"
	"path/filepath"
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
		p    config.ProviderBlock
		want []string
	}{
		{"config map", config.ProviderBlock{Name: "test", Config: map[string]string{"TEST_TOKEN": "tok-value-1"}}, []string{"COPY", "TEST_TOKEN"}},
		// Not started, and its configuration would be rejected: it is
		// only asked to describe itself.
		{"described, not configured", config.ProviderBlock{Name: "test", Config: map[string]string{"fail": "1"}}, []string{"TEST_TOKEN"}},
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
	h := newHost(t, config.ProviderBlock{Name: "test", Config: map[string]string{"TEST_TOKEN": "tok-value-1"}})
	pid := resolvePid(t, h)
	if got, err := h.SensitiveEnv(ctx(t), environ); err != nil || !slices.Equal(got, []string{"COPY", "TEST_TOKEN"}) {
		t.Errorf("SensitiveEnv = %q, %v", got, err)
	}
	if again := resolvePid(t, h); again != pid {
		t.Errorf("the plugin was replaced (%d, then %d)", pid, again)
	}

	// A provider that cannot describe itself is an error that names it.
	h = newHost(t, config.ProviderBlock{Name: "gone", Plugin: "no-such-plugin", Pos: "config.hcl:4:1"})
	if _, err := h.SensitiveEnv(ctx(t), environ); err == nil || !strings.Contains(err.Error(), `provider "gone" (config.hcl:4:1)`) {
		t.Errorf("want an error naming the provider, got %v", err)
	}
	h.Close()
	if _, err := h.SensitiveEnv(ctx(t), environ); !errors.Is(err, host.ErrClosed) {
		t.Errorf("closed host: %v", err)
	}
}

// TestSensitiveTokenFile: the content of a SecretFile attribute's file (a
// token file) counts as a credential exactly like an inline token: it is
// returned by SensitiveValues (trimmed, as the plugin trims it), any
// variable holding it is withheld by SensitiveEnv, and a plugin quoting it
// in a message is scrubbed. A relative path is taken against the working
// directory; a missing file is not the host's error to report.
func TestSensitiveTokenFile(t *testing.T) {
	const token = "token-from-a-file-81c2"
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tok"), []byte("  "+token+"\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	environ := []string{"COPY=" + token, "PADDED= " + token + "\n", "TEST_TOKEN_FILE=tok", "OTHER=" + token + "x"}
	for _, path := range []string{filepath.Join(dir, "tok"), "tok"} {
		t.Run(path, func(t *testing.T) {
			t.Chdir(dir)
			for _, started := range []bool{false, true} {
				h := newHost(t, config.ProviderBlock{Name: "test", Config: map[string]string{"TEST_TOKEN_FILE": path}})
				if started {
					// The test plugin reads a relative path from its own
					// directory, so only the absolute one can be used.
					if !filepath.IsAbs(path) {
						continue
					}
					_, err := h.GetSecret(ctx(t), "test://leak")
					if err == nil || strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "<redacted>") {
						t.Errorf("a plugin quoting its token file's content: %v", err)
					}
				}
				got, err := h.SensitiveEnv(ctx(t), environ)
				if err != nil {
					t.Fatal(err)
				}
				if want := []string{"COPY", "PADDED"}; !slices.Equal(got, want) {
					t.Errorf("started=%v: SensitiveEnv = %q, want %q", started, got, want)
				}
				vals, err := h.SensitiveValues(ctx(t))
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(vals, []string{token}) {
					t.Errorf("started=%v: SensitiveValues = %d values, want the trimmed token", started, len(vals))
				}
			}
		})
	}
	h := newHost(t, config.ProviderBlock{Name: "test", Config: map[string]string{"TEST_TOKEN_FILE": filepath.Join(dir, "missing")}})
	if vals, err := h.SensitiveValues(ctx(t)); err != nil || len(vals) != 0 {
		t.Errorf("missing file: %d values, %v", len(vals), err)
	}
}
