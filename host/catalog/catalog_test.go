package catalog_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/secrethost/secrethost/host/catalog"
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
		{"missing", catalog.ErrNotFound},
		{"noexec", catalog.ErrUnsafe},
		{"worldwritable", catalog.ErrUnsafe},
		{"subdir", catalog.ErrUnsafe},
		{"escape", catalog.ErrOutsideDir},
		{"../outside", catalog.ErrOutsideDir},
		{"sub/good", catalog.ErrOutsideDir},
		{outside, catalog.ErrOutsideDir},
		{"..", catalog.ErrOutsideDir},
		{"", catalog.ErrOutsideDir},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := catalog.Locate(dir, c.name)
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
	if b, err := catalog.ParsePin(""); err != nil || b != nil {
		t.Errorf("empty pin: %v %v", b, err)
	}
	good := "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"
	if b, err := catalog.ParsePin(good); err != nil || len(b) != 32 {
		t.Errorf("good pin: %v %v", b, err)
	}
	for _, bad := range []string{"abc", good + "00", good[:63] + "g"} {
		if _, err := catalog.ParsePin(bad); !errors.Is(err, catalog.ErrBadPin) {
			t.Errorf("%q: got %v", bad, err)
		}
	}
}
