package config

import (
	"errors"
	"fmt"
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
		{name: "empty env is unset", env: map[string]string{EnvConfigPath: ""}, cwdConfig: true, wantBuiltin: true},
		// The working directory is not a trust boundary (a deploy
		// repository has many writers): its config.hcl is never used.
		{name: "config.hcl in the working directory is ignored", cwdConfig: true, wantBuiltin: true},
		{name: "built-in default", wantBuiltin: true},
		{name: "flag need not exist", flag: "missing.hcl", wantPath: "missing.hcl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			if tt.cwdConfig {
				writeFile(t, filepath.Join(dir, "config.hcl"), "provider \"p\" {}\n")
			}
			path, builtin := Locate(tt.flag, lookup(tt.env))
			if path != tt.wantPath || builtin != tt.wantBuiltin {
				t.Errorf("Locate = %q, %v; want %q, %v", path, builtin, tt.wantPath, tt.wantBuiltin)
			}
		})
	}
}

// Not even a config.hcl that exists but cannot be used is looked at.
func TestLocateIgnoresDirectoryNamedConfig(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.Mkdir("config.hcl", 0o755); err != nil {
		t.Fatal(err)
	}
	if path, builtin := Locate("", lookup(nil)); !builtin || path != "" {
		t.Fatalf("Locate = %q, %v", path, builtin)
	}
	cfg, err := FindAndLoad("", lookup(map[string]string{"SECRET_PROVIDER": "1password"}))
	if err != nil || cfg.Source != BuiltinSource {
		t.Fatalf("FindAndLoad = %+v, %v", cfg, err)
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	sp := map[string]string{"SECRET_PROVIDER": "1password"}

	// Nothing found: the built-in default.
	cfg, err := FindAndLoad("", lookup(sp))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Source != BuiltinSource {
		t.Errorf("Source = %q", cfg.Source)
	}

	if cfg.Origin != BuiltinSource || cfg.Describe() != BuiltinSource {
		t.Errorf("Origin = %q, Describe = %q", cfg.Origin, cfg.Describe())
	}

	// A ./config.hcl changes nothing: still the built-in default.
	writeFile(t, filepath.Join(dir, "config.hcl"), "provider \"cwd\" {}\n")
	cfg, err = FindAndLoad("", lookup(sp))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Source != BuiltinSource || cfg.Providers[0].Name == "cwd" {
		t.Errorf("./config.hcl was used: %+v", cfg)
	}

	// SECRETHOST_CONFIG.
	envPath := filepath.Join(dir, "env.hcl")
	writeFile(t, envPath, "provider \"env\" {}\n")
	cfg, err = FindAndLoad("", lookup(map[string]string{EnvConfigPath: envPath}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Source != envPath || cfg.Providers[0].Name != "env" {
		t.Errorf("got %+v", cfg)
	}
	if want := fmt.Sprintf("%q (from SECRETHOST_CONFIG)", envPath); cfg.Origin != EnvConfigPath || cfg.Describe() != want {
		t.Errorf("Origin = %q, Describe = %q, want %s", cfg.Origin, cfg.Describe(), want)
	}

	// --config.
	flagPath := filepath.Join(dir, "flag.hcl")
	writeFile(t, flagPath, "provider \"flag\" {}\n")
	cfg, err = FindAndLoad(flagPath, lookup(map[string]string{EnvConfigPath: envPath}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Source != flagPath || cfg.Providers[0].Name != "flag" {
		t.Errorf("got %+v", cfg)
	}
	if want := fmt.Sprintf("%q (from --config)", flagPath); cfg.Origin != "--config" || cfg.Describe() != want {
		t.Errorf("Origin = %q, Describe = %q, want %s", cfg.Origin, cfg.Describe(), want)
	}
}

// A path named by --config or SECRETHOST_CONFIG must exist; there is no
// silent fallback to the built-in default.
func TestResolveMissing(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	writeFile(t, filepath.Join(dir, "config.hcl"), "provider \"cwd\" {}\n")

	_, err := FindAndLoad("nope.hcl", lookup(nil))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
	if want := `config file "nope.hcl" (from --config): no such file or directory`; err.Error() != want {
		t.Errorf("error:\n got %s\nwant %s", err, want)
	}

	_, err = FindAndLoad("", lookup(map[string]string{EnvConfigPath: "gone.hcl"}))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
	if want := `config file "gone.hcl" (from SECRETHOST_CONFIG): no such file or directory`; err.Error() != want {
		t.Errorf("error:\n got %s\nwant %s", err, want)
	}
}

// A configuration file decides which programs run and where tokens go, so
// one that others may change is refused, with the reason and the fix, whether
// it is named by --config, by SECRETHOST_CONFIG or given to Load.
func TestUntrustedConfigFileRefused(t *testing.T) {
	dir := t.TempDir()
	src := "provider \"p\" {}\n"
	for _, tc := range []struct {
		name  string
		mode  os.FileMode
		chown bool
		want  []string
	}{
		{name: "group-writable", mode: 0o664, want: []string{"writable by its group", "mode 0664", "chmod go-w"}},
		{name: "world-writable", mode: 0o666, want: []string{"writable by its group and by others", "mode 0666", "chmod go-w"}},
		{name: "others-writable", mode: 0o602, want: []string{"writable by others", "mode 0602", "chmod go-w"}},
		{name: "owned by nobody", mode: 0o644, chown: true, want: []string{"owned by uid 65534", "neither root nor the user running secrethost", "chown"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".hcl")
			writeFile(t, path, src)
			if err := os.Chmod(path, tc.mode); err != nil {
				t.Fatal(err)
			}
			if tc.chown {
				if os.Geteuid() != 0 {
					t.Skip("chown to nobody needs root")
				}
				if err := os.Chown(path, 65534, 65534); err != nil {
					t.Fatal(err)
				}
			}
			for _, via := range []struct {
				name string
				load func() (*Config, error)
				from string
			}{
				{"--config", func() (*Config, error) { return FindAndLoad(path, lookup(nil)) }, " (from --config)"},
				{"SECRETHOST_CONFIG", func() (*Config, error) { return FindAndLoad("", lookup(map[string]string{EnvConfigPath: path})) }, " (from SECRETHOST_CONFIG)"},
				{"Load", func() (*Config, error) { return Load(path, lookup(nil)) }, ""},
			} {
				cfg, err := via.load()
				if err == nil {
					t.Fatalf("%s: loaded %+v", via.name, cfg)
				}
				if !errors.Is(err, ErrUntrustedFile) {
					t.Errorf("%s: err = %v, want ErrUntrustedFile", via.name, err)
				}
				msg := err.Error()
				if prefix := fmt.Sprintf("config file %q%s: refused: ", path, via.from); !strings.HasPrefix(msg, prefix) {
					t.Errorf("%s: error %q does not start with %q", via.name, msg, prefix)
				}
				for _, w := range tc.want {
					if !strings.Contains(msg, w) {
						t.Errorf("%s: error %q lacks %q", via.name, msg, w)
					}
				}
			}
		})
	}

	// Positive control: the same file, 0644 and owned by us, loads.
	path := filepath.Join(dir, "ok.hcl")
	writeFile(t, path, src)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := FindAndLoad(path, lookup(nil)); err != nil {
		t.Fatalf("0644 file refused: %v", err)
	}
}

// A trustworthy file in a directory others may write is refused too: they
// could put another file in its place. A sticky directory (/tmp) is fine.
func TestConfigFileInUntrustedDirectoryRefused(t *testing.T) {
	base := t.TempDir()
	for _, tc := range []struct {
		name  string
		mode  os.FileMode
		chown bool
		want  []string
	}{
		{name: "group-writable dir", mode: 0o775, want: []string{"directory", "writable by its group", "mode 0775", "chmod go-w"}},
		{name: "world-writable dir", mode: 0o777, want: []string{"directory", "writable by its group and by others", "mode 0777"}},
		{name: "dir owned by nobody", mode: 0o755, chown: true, want: []string{"directory", "owned by uid 65534"}},
		{name: "sticky world-writable dir", mode: 0o777 | os.ModeSticky},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(base, strings.ReplaceAll(tc.name, " ", "-"))
			path := filepath.Join(dir, "sub", "c.hcl") // the parent of the file's own directory
			writeFile(t, path, "provider \"p\" {}\n")
			if err := os.Chmod(dir, tc.mode); err != nil {
				t.Fatal(err)
			}
			if tc.chown {
				if os.Geteuid() != 0 {
					t.Skip("chown to nobody needs root")
				}
				if err := os.Chown(dir, 65534, 65534); err != nil {
					t.Fatal(err)
				}
			}
			// Through a symlink in a trusted directory, too.
			link := filepath.Join(t.TempDir(), "link.hcl")
			if err := os.Symlink(path, link); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{path, link} {
				_, err := FindAndLoad(p, lookup(nil))
				if len(tc.want) == 0 {
					if err != nil {
						t.Errorf("%s: %v", p, err)
					}
					continue
				}
				if !errors.Is(err, ErrUntrustedFile) {
					t.Fatalf("%s: err = %v", p, err)
				}
				for _, w := range append(tc.want, dir) {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%s: error %q lacks %q", p, err, w)
					}
				}
			}
		})
	}
}

// A symlink to a trustworthy file, owned by someone else, is refused: its
// owner could point it elsewhere.
func TestConfigSymlinkOwnedByOthersRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("lchown to nobody needs root")
	}
	dir := t.TempDir()
	target := filepath.Join(dir, "real.hcl")
	writeFile(t, target, "provider \"p\" {}\n")
	link := filepath.Join(dir, "link.hcl")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := FindAndLoad(link, lookup(nil)); err != nil {
		t.Fatalf("control: our own symlink refused: %v", err)
	}
	if err := os.Lchown(link, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	_, err := FindAndLoad(link, lookup(nil))
	if !errors.Is(err, ErrUntrustedFile) || !strings.Contains(err.Error(), "symlink "+link) || !strings.Contains(err.Error(), "uid 65534") {
		t.Fatalf("err = %v", err)
	}
}
