package host_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secrethost/secrethost/host"
	"github.com/secrethost/secrethost/host/catalog"
	"github.com/secrethost/secrethost/host/config"
)

// TestHostRefusesReplaceablePlugin (issue 9, finding 2): through the real
// host, a plugin whose binary or directories someone else could replace is
// refused before it runs (the plugin, a script that leaves a marker, never
// starts), and the error names the path and the fix. The same plugin in a
// trusted layout does run, so the marker can appear.
func TestHostRefusesReplaceablePlugin(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown files to nobody (uid 65534)")
	}
	const nobody = 65534
	cases := []struct {
		name   string
		change func(parent, dir, bin string) string // returns the path at fault
		want   string
	}{
		{"trusted", func(_, _, _ string) string { return "" }, ""},
		{"plugin dir 0777", func(_, dir, _ string) string { os.Chmod(dir, 0o777); return dir }, "chmod go-w"},
		{"plugin dir 1777", func(_, dir, _ string) string { os.Chmod(dir, os.ModeSticky|0o777); return dir }, "chmod go-w,-t"},
		{"plugin dir 0775 group nogroup", func(_, dir, _ string) string {
			os.Chown(dir, 0, nobody)
			os.Chmod(dir, 0o775)
			return dir
		}, "chmod go-w"},
		{"binary owned by nobody", func(_, _, bin string) string { os.Chown(bin, nobody, nobody); return bin }, "chown root"},
		{"parent 0777", func(parent, _, _ string) string { os.Chmod(parent, 0o777); return parent }, "chmod go-w"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			base := t.TempDir()
			marker := filepath.Join(base, "executed")
			parent := filepath.Join(base, "parent")
			dir := filepath.Join(parent, "plugins")
			bin := filepath.Join(dir, "plugin")
			os.MkdirAll(dir, 0o755)
			if err := os.WriteFile(bin, []byte("#!/bin/sh\ntouch "+marker+"\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			bad := c.change(parent, dir, bin)
			h, err := host.New(&config.Config{Providers: []config.Provider{{
				Name: "p", Plugin: "plugin", Pos: "config.hcl:1:1",
			}}}, host.WithPluginDir(dir))
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			_, err = h.GetSecret(ctx(t), "x://y")
			_, statErr := os.Stat(marker)
			if bad == "" {
				if statErr != nil {
					t.Fatalf("the trusted plugin did not run (%v); the test cannot tell refusal from failure", err)
				}
				return
			}
			if statErr == nil {
				t.Fatalf("the plugin ran although %s is replaceable", bad)
			}
			if !errors.Is(err, catalog.ErrUnsafe) {
				t.Fatalf("want ErrUnsafe, got %v", err)
			}
			for _, w := range []string{`provider "p"`, bad + " ", c.want + " " + bad} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			t.Logf("refused: %v", err)
		})
	}
}
