package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLocate(t *testing.T) {
	tests := []struct {
		name        string
		flag        string
		env         map[string]string
		cwdConfig   bool
		wantPath    string
		wantBuiltin bool
	}{
		{name: "flag wins", flag: "/etc/a.hcl", env: map[string]string{EnvConfigPath: "/etc/b.hcl"}, cwdConfig: true, wantPath: "/etc/a.hcl"},
		{name: "env next", env: map[string]string{EnvConfigPath: "/etc/b.hcl"}, cwdConfig: true, wantPath: "/etc/b.hcl"},
		{name: "empty env is unset", env: map[string]string{EnvConfigPath: ""}, cwdConfig: true, wantPath: DefaultFileName},
		{name: "config.hcl in the working directory", cwdConfig: true, wantPath: DefaultFileName},
		{name: "built-in default", wantBuiltin: true},
		{name: "flag need not exist", flag: "missing.hcl", wantPath: "missing.hcl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			if tt.cwdConfig {
				writeFile(t, filepath.Join(dir, DefaultFileName), "provider \"p\" {}\n")
			}
			path, builtin := Locate(tt.flag, lookup(tt.env))
			if path != tt.wantPath || builtin != tt.wantBuiltin {
				t.Errorf("Locate = %q, %v; want %q, %v", path, builtin, tt.wantPath, tt.wantBuiltin)
			}
		})
	}
}

// A config.hcl that exists but cannot be used is reported, not skipped.
func TestLocateDirectoryNamedConfig(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.Mkdir(DefaultFileName, 0o755); err != nil {
		t.Fatal(err)
	}
	if path, builtin := Locate("", lookup(nil)); builtin || path != DefaultFileName {
		t.Fatalf("Locate = %q, %v", path, builtin)
	}
	if _, err := Resolve("", lookup(nil)); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("Resolve err = %v", err)
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	sp := map[string]string{"SECRET_PROVIDER": "1password"}

	// Nothing found: the built-in default.
	cfg, err := Resolve("", lookup(sp))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Source != BuiltinSource {
		t.Errorf("Source = %q", cfg.Source)
	}

	// ./config.hcl.
	writeFile(t, filepath.Join(dir, DefaultFileName), "provider \"cwd\" {}\n")
	cfg, err = Resolve("", lookup(sp))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Source != DefaultFileName || cfg.Providers[0].Name != "cwd" {
		t.Errorf("got %+v", cfg)
	}

	// SECRETHOST_CONFIG.
	envPath := filepath.Join(dir, "env.hcl")
	writeFile(t, envPath, "provider \"env\" {}\n")
	cfg, err = Resolve("", lookup(map[string]string{EnvConfigPath: envPath}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Source != envPath || cfg.Providers[0].Name != "env" {
		t.Errorf("got %+v", cfg)
	}

	// --config.
	flagPath := filepath.Join(dir, "flag.hcl")
	writeFile(t, flagPath, "provider \"flag\" {}\n")
	cfg, err = Resolve(flagPath, lookup(map[string]string{EnvConfigPath: envPath}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Source != flagPath || cfg.Providers[0].Name != "flag" {
		t.Errorf("got %+v", cfg)
	}
}

// A path named by --config or SECRETHOST_CONFIG must exist; there is no
// silent fallback to ./config.hcl or the built-in default.
func TestResolveMissing(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	writeFile(t, filepath.Join(dir, DefaultFileName), "provider \"cwd\" {}\n")

	_, err := Resolve("nope.hcl", lookup(nil))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
	if want := `config file "nope.hcl" (from --config): no such file or directory`; err.Error() != want {
		t.Errorf("error:\n got %s\nwant %s", err, want)
	}

	_, err = Resolve("", lookup(map[string]string{EnvConfigPath: "gone.hcl"}))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
	if want := `config file "gone.hcl" (from SECRETHOST_CONFIG): no such file or directory`; err.Error() != want {
		t.Errorf("error:\n got %s\nwant %s", err, want)
	}
}
