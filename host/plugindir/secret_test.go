package plugindir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secrethost/secrethost/shared/launch"
)

// When plugin_dir or plugin was read with env() or file(), Locate's errors
// keep their sentinel but name no path derived from the value, not even a
// missing parent directory of it.
func TestLocateSecretHidesPaths(t *testing.T) {
	dir := t.TempDir()
	plugins := filepath.Join(dir, "plugins-secretdir-4242")
	if err := os.Mkdir(plugins, 0o755); err != nil {
		t.Fatal(err)
	}
	unsafe := filepath.Join(plugins, "unsafe-secretname-77")
	if err := os.WriteFile(unsafe, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name                  string
		dir, plugin           string
		secretDir, secretName bool
		sentinel              error
		pieces                []string
	}{
		{"missing dir with missing parent", filepath.Join(dir, "gone-parent-secret", "line1\nline2-secret"), "p", true, false, nil,
			[]string{"gone-parent-secret", "line1", "line2-secret"}},
		{"missing dir", filepath.Join(dir, "gone-secretdir-99"), "p", true, false, nil, []string{"gone-secretdir-99"}},
		{"missing plugin, secret dir", plugins, "nope-plain", true, false, ErrNotFound, []string{"plugins-secretdir-4242"}},
		{"missing plugin, secret name", plugins, "nope-secretname-55", false, true, ErrNotFound, []string{"nope-secretname-55"}},
		{"multi-line secret name", plugins, "first-line-name\nsecond-line-name", false, true, ErrNotFound, []string{"first-line-name", "second-line-name"}},
		{"not executable", plugins, "unsafe-secretname-77", false, true, ErrUnsafe, []string{"unsafe-secretname-77"}},
		{"outside", plugins, "/usr/bin/secret-outside-path", false, true, ErrOutsideDir, []string{"secret-outside-path"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, plain := launch.Locate(tc.dir, tc.plugin)
			if plain == nil {
				t.Fatal("control: Locate succeeded")
			}
			_, err := LocateSecret(tc.dir, tc.plugin, tc.secretDir, tc.secretName)
			if err == nil {
				t.Fatal("LocateSecret succeeded")
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("err = %v, want %v", err, tc.sentinel)
			}
			leaked := false
			for _, p := range tc.pieces {
				if strings.Contains(err.Error(), p) {
					t.Errorf("error shows %q: %v", p, err)
				}
				leaked = leaked || strings.Contains(plain.Error(), p)
			}
			if !leaked {
				t.Errorf("control: Locate's own error shows none of %q: %v", tc.pieces, plain)
			}
			if !strings.Contains(err.Error(), "not shown") {
				t.Errorf("error does not say what is hidden: %v", err)
			}
		})
	}
	// Nothing secret: Locate's error as it is.
	_, a := launch.Locate(plugins, "nope")
	_, b := LocateSecret(plugins, "nope", false, false)
	if a.Error() != b.Error() {
		t.Errorf("%v != %v", a, b)
	}
}
