package launch_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secrethost/secrethost/internal/testbin"
	"github.com/secrethost/secrethost/shared/launch"
)

func write(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // umask-proof
		t.Fatal(err)
	}
}

func TestLocate(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "plugins")
	os.Mkdir(dir, 0o755)
	outside := filepath.Join(root, "outside")
	write(t, outside, 0o755)
	write(t, filepath.Join(dir, "good"), 0o755)
	write(t, filepath.Join(dir, "noexec"), 0o644)
	write(t, filepath.Join(dir, "worldwritable"), 0o757)
	os.Symlink(outside, filepath.Join(dir, "escape"))
	os.Symlink(filepath.Join(dir, "good"), filepath.Join(dir, "alias"))
	os.Mkdir(filepath.Join(dir, "subdir"), 0o755)

	cases := []struct {
		name string
		want error
	}{
		{"good", nil},
		{"alias", nil}, // a link that stays inside is fine
		{filepath.Join(dir, "good"), nil},
		{"missing", launch.ErrNotFound},
		{"noexec", launch.ErrUnsafe},
		{"worldwritable", launch.ErrUnsafe},
		{"subdir", launch.ErrUnsafe},
		{"escape", launch.ErrOutsideDir},
		{"../outside", launch.ErrOutsideDir},
		{"sub/good", launch.ErrOutsideDir},
		{outside, launch.ErrOutsideDir},
		{"..", launch.ErrOutsideDir},
		{"", launch.ErrOutsideDir},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := launch.Locate(dir, c.name)
			if c.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if want, _ := filepath.EvalSymlinks(filepath.Join(dir, "good")); got != want {
					t.Errorf("path %q, want %q", got, want)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestParsePin(t *testing.T) {
	if b, err := launch.ParsePin(""); err != nil || b != nil {
		t.Errorf("empty pin: %v %v", b, err)
	}
	good := "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"
	if b, err := launch.ParsePin(good); err != nil || len(b) != 32 {
		t.Errorf("good pin: %v %v", b, err)
	}
	for _, bad := range []string{"abc", good + "00", good[:63] + "g"} {
		if _, err := launch.ParsePin(bad); !errors.Is(err, launch.ErrBadPin) {
			t.Errorf("%q: got %v", bad, err)
		}
	}
}

// TestLocateRefusesReplaceablePlugins: a plugin that someone other than root
// or the current user could replace, in place or through a directory above
// it, is refused before anything runs, with an error that names the path
// and the fix. Needs root to hand files to nobody.
func TestLocateRefusesReplaceablePlugins(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown files to nobody (uid 65534)")
	}
	const nobody = 65534
	type layout struct{ parent, dir, bin string }
	// setup makes <tmp>/parent/plugins/good and returns the three paths.
	setup := func(t *testing.T) layout {
		base := t.TempDir() // 0700 in /tmp (1777): a trusted start
		l := layout{parent: filepath.Join(base, "parent")}
		l.dir = filepath.Join(l.parent, "plugins")
		l.bin = filepath.Join(l.dir, "good")
		if err := os.MkdirAll(l.dir, 0o755); err != nil {
			t.Fatal(err)
		}
		write(t, l.bin, 0o755)
		return l
	}
	chmod := func(mode os.FileMode) func(*testing.T, string) {
		return func(t *testing.T, p string) {
			if err := os.Chmod(p, mode); err != nil {
				t.Fatal(err)
			}
		}
	}
	chown := func(uid, gid int) func(*testing.T, string) {
		return func(t *testing.T, p string) {
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	both := func(fs ...func(*testing.T, string)) func(*testing.T, string) {
		return func(t *testing.T, p string) {
			for _, f := range fs {
				f(t, p)
			}
		}
	}
	cases := []struct {
		name   string
		target func(layout) string
		change func(*testing.T, string)
		want   []string // in the error; none: accepted
	}{
		{"trusted", func(l layout) string { return l.dir }, chmod(0o755), nil},
		{"plugin dir 0700", func(l layout) string { return l.dir }, chmod(0o700), nil},
		{"plugin dir 0777", func(l layout) string { return l.dir }, chmod(0o777), []string{"plugin directory", "writable by its group and by others", "chmod go-w"}},
		{"plugin dir 1777", func(l layout) string { return l.dir }, chmod(os.ModeSticky | 0o777), []string{"plugin directory", "sticky bit is not enough"}},
		{"plugin dir 0775 other group", func(l layout) string { return l.dir }, both(chown(0, nobody), chmod(0o775)), []string{"plugin directory", "writable by its group", "chmod go-w"}},
		{"plugin dir owned by nobody", func(l layout) string { return l.dir }, chown(nobody, nobody), []string{"plugin directory", "owned by uid 65534 (nobody)", "chown root"}},
		{"binary owned by nobody", func(l layout) string { return l.bin }, chown(nobody, nobody), []string{"plugin binary", "owned by uid 65534 (nobody)", "chown root"}},
		{"binary 0775 other group", func(l layout) string { return l.bin }, both(chown(0, nobody), chmod(0o775)), []string{"plugin binary", "writable by its group", "chmod go-w"}},
		{"binary 0757", func(l layout) string { return l.bin }, chmod(0o757), []string{"plugin binary", "writable by others", "chmod go-w"}},
		{"parent 0777", func(l layout) string { return l.parent }, chmod(0o777), []string{"above the plugin directory", "writable by its group and by others", "chmod go-w", "chmod +t"}},
		{"parent 1777", func(l layout) string { return l.parent }, chmod(os.ModeSticky | 0o777), nil}, // like /tmp
		{"parent 0775 other group", func(l layout) string { return l.parent }, both(chown(0, nobody), chmod(0o775)), []string{"above the plugin directory", "writable by its group"}},
		{"parent owned by nobody", func(l layout) string { return l.parent }, chown(nobody, nobody), []string{"above the plugin directory", "owned by uid 65534 (nobody)", "chown root"}},
		{"parent 1777 owned by nobody", func(l layout) string { return l.parent }, both(chown(nobody, nobody), chmod(os.ModeSticky|0o777)), []string{"owned by uid 65534 (nobody)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := setup(t)
			target := c.target(l)
			c.change(t, target)
			got, err := launch.Locate(l.dir, "good")
			if c.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got != l.bin {
					t.Errorf("path %q, want %q", got, l.bin)
				}
				return
			}
			if !errors.Is(err, launch.ErrUnsafe) {
				t.Fatalf("got %v, want ErrUnsafe", err)
			}
			for _, w := range append(c.want, target) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			t.Logf("refused: %v", err)
		})
	}

	// The plugin directory is a /tmp-like directory itself.
	t.Run("plugin dir is /tmp", func(t *testing.T) {
		st, err := os.Stat("/tmp")
		if err != nil || st.Mode()&os.ModeSticky == 0 || st.Mode().Perm()&0o002 == 0 {
			t.Skip("/tmp is not a sticky world-writable directory here")
		}
		f, err := os.CreateTemp("/tmp", "plugin-")
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		defer os.Remove(f.Name())
		os.Chmod(f.Name(), 0o755)
		_, err = launch.Locate("/tmp", filepath.Base(f.Name()))
		if !errors.Is(err, launch.ErrUnsafe) || !strings.Contains(err.Error(), "plugin directory /tmp ") {
			t.Fatalf("got %v, want ErrUnsafe naming /tmp", err)
		}
	})

	// A link in a trusted plugin directory to a binary in a subdirectory
	// that others may write is refused at the subdirectory.
	t.Run("subdirectory 0777 through a link", func(t *testing.T) {
		l := setup(t)
		sub := filepath.Join(l.dir, "sub")
		os.Mkdir(sub, 0o777)
		os.Chmod(sub, 0o777)
		write(t, filepath.Join(sub, "real"), 0o755)
		os.Symlink(filepath.Join(sub, "real"), filepath.Join(l.dir, "linked"))
		_, err := launch.Locate(l.dir, "linked")
		if !errors.Is(err, launch.ErrUnsafe) || !strings.Contains(err.Error(), sub+" is writable") {
			t.Fatalf("got %v, want ErrUnsafe naming %s", err, sub)
		}
	})
}

// TestLocateInRepository: a plugin directory in this repository's tree (as
// bin/plugins is after make build) is accepted; the tree is not a
// temporary directory.
func TestLocateInRepository(t *testing.T) {
	dir, err := os.MkdirTemp(testbin.Root(), ".locate-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	write(t, filepath.Join(dir, "p"), 0o755)
	if _, err := launch.Locate(dir, "p"); err != nil {
		t.Fatalf("plugin dir %s refused: %v", dir, err)
	}
}

// TestCheckTrusted: a file whose content decides what secrethost trusts
// (its configuration) must not be replaceable by others either; sticky
// world-writable directories above it are fine, since the file's owner is
// checked.
func TestCheckTrusted(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown files to nobody (uid 65534)")
	}
	base := t.TempDir()
	file := filepath.Join(base, "config.hcl")
	write(t, file, 0o644)
	if err := launch.CheckTrusted(file, nil); err != nil {
		t.Fatalf("trusted file refused: %v", err)
	}
	os.Chmod(base, os.ModeSticky|0o777)
	if err := launch.CheckTrusted(file, nil); err != nil {
		t.Fatalf("file in a sticky directory refused: %v", err)
	}
	for name, change := range map[string]func(){
		"file owned by nobody": func() { os.Chown(file, 65534, 65534) },
		"file 0666":            func() { os.Chmod(file, 0o666) },
		"dir 0777":             func() { os.Chmod(base, 0o777) },
	} {
		t.Run(name, func(t *testing.T) {
			os.Chown(file, 0, 0)
			os.Chmod(file, 0o644)
			os.Chmod(base, 0o755)
			change()
			err := launch.CheckTrusted(file, nil)
			if !errors.Is(err, launch.ErrUnsafe) {
				t.Fatalf("got %v, want ErrUnsafe", err)
			}
			t.Logf("refused: %v", err)
		})
	}
}
