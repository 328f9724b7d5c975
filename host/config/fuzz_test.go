package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to Load. It must never panic, and what it
// returns must be consistent: a valid Config or an error with a message.
// Seeds live in testdata/fuzz/FuzzLoad; more are added below.
func FuzzLoad(f *testing.F) {
	f.Add(defaultHCL)
	f.Add([]byte(`plugin_dir = "p"
log_level = "debug"
select = env("SP", "")
provider "a" {
  plugin = "a"
  sha256 = "` + strings.Repeat("0", 64) + `"
  select = "x"
  enabled = env("ON", "true")
  config_from_env = true
  config = { k = file("tok"), n = 1, b = false, z = null }
}`))
	f.Add([]byte("provider \"p\" {\n  tiemout = \"5s\"\n}\n"))

	env := lookup(map[string]string{"SP": "x", "ON": "true", "SECRET_PROVIDER": "1password"})
	// One directory per process: the fuzz function runs sequentially
	// within a worker (no t.Parallel), so the file can be rewritten.
	dir := f.TempDir()
	writeFile(f, filepath.Join(dir, "tok"), "token\n")
	path := filepath.Join(dir, "config.hcl")
	f.Fuzz(func(t *testing.T, src []byte) {
		if err := os.WriteFile(path, src, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(path, env)
		if err != nil {
			if cfg != nil {
				t.Fatal("both a config and an error")
			}
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			var ce *Error
			if errors.As(err, &ce) && len(ce.Diagnostics) == 0 {
				t.Fatal("*Error without diagnostics")
			}
			return
		}
		if len(cfg.Providers) == 0 {
			t.Fatal("no error and no provider")
		}
		seen := map[string]bool{}
		for _, p := range cfg.Providers {
			if seen[p.Name] {
				t.Fatalf("duplicate provider %q", p.Name)
			}
			seen[p.Name] = true
			if checkPlugin(p.Plugin) != "" || (p.SHA256 != "" && (len(p.SHA256) != 64 || !isHex(p.SHA256))) || p.Config == nil {
				t.Fatalf("invalid provider accepted: %+v", p)
			}
		}
	})
}
