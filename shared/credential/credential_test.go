package credential

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// secret is planted in configurations and files; no error may contain it.
const secret = "s3cr3t-T0KEN-value"

var connectSpec = Spec{
	Inline: []string{"SECRET_PROVIDER_CONNECT_TOKEN", "OP_CONNECT_TOKEN"},
	File:   "SECRET_PROVIDER_CONNECT_TOKEN_FILE",
	What:   "Connect token",
}

// writeFile writes a credential file with the given mode (chmod after
// writing, so the umask does not interfere).
func writeFile(t *testing.T, content string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func checkNoSecret(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), secret) {
		t.Errorf("error contains the secret: %v", err)
	}
}

func TestLoadInline(t *testing.T) {
	tests := []struct {
		name     string
		cfg      map[string]string
		from     string
		warnings int
	}{
		{"primary", map[string]string{"SECRET_PROVIDER_CONNECT_TOKEN": secret}, "SECRET_PROVIDER_CONNECT_TOKEN", 0},
		{"fallback alone", map[string]string{"OP_CONNECT_TOKEN": secret}, "OP_CONNECT_TOKEN", 0},
		{"primary wins over fallback", map[string]string{
			"SECRET_PROVIDER_CONNECT_TOKEN": secret, "OP_CONNECT_TOKEN": "other"}, "SECRET_PROVIDER_CONNECT_TOKEN", 1},
		{"same value in both: no warning", map[string]string{
			"SECRET_PROVIDER_CONNECT_TOKEN": secret, "OP_CONNECT_TOKEN": secret + "\n"}, "SECRET_PROVIDER_CONNECT_TOKEN", 0},
		{"empty primary falls through", map[string]string{
			"SECRET_PROVIDER_CONNECT_TOKEN": "", "OP_CONNECT_TOKEN": secret}, "OP_CONNECT_TOKEN", 0},
		{"blank primary falls through", map[string]string{
			"SECRET_PROVIDER_CONNECT_TOKEN": " \n", "OP_CONNECT_TOKEN": secret}, "OP_CONNECT_TOKEN", 0},
		{"empty file variable is not set", map[string]string{
			"SECRET_PROVIDER_CONNECT_TOKEN": secret, "SECRET_PROVIDER_CONNECT_TOKEN_FILE": ""}, "SECRET_PROVIDER_CONNECT_TOKEN", 0},
		{"value trimmed", map[string]string{"SECRET_PROVIDER_CONNECT_TOKEN": "  " + secret + "\r\n"}, "SECRET_PROVIDER_CONNECT_TOKEN", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Load(tt.cfg, connectSpec)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if res.Value != secret || res.From != tt.from || res.Path != "" {
				t.Errorf("Load = {Value: %q, From: %q, Path: %q}, want {%q, %q, \"\"}", res.Value, res.From, res.Path, secret, tt.from)
			}
			if len(res.Warnings) != tt.warnings {
				t.Errorf("Warnings = %q, want %d", res.Warnings, tt.warnings)
			}
			for _, w := range res.Warnings {
				if strings.Contains(w, secret) || strings.Contains(w, "other") {
					t.Errorf("warning contains a value: %q", w)
				}
			}
		})
	}
}

func TestLoadFallbackWarningText(t *testing.T) {
	res, err := Load(map[string]string{"SECRET_PROVIDER_CONNECT_TOKEN": "a", "OP_CONNECT_TOKEN": "b"}, connectSpec)
	if err != nil {
		t.Fatal(err)
	}
	want := "Connect token: SECRET_PROVIDER_CONNECT_TOKEN and OP_CONNECT_TOKEN are both set, with different values; using SECRET_PROVIDER_CONNECT_TOKEN"
	if len(res.Warnings) != 1 || res.Warnings[0] != want {
		t.Errorf("Warnings = %q, want [%q]", res.Warnings, want)
	}
}

func TestLoadFile(t *testing.T) {
	path := writeFile(t, "\n  "+secret+"\r\n\n", 0o600)
	res, err := Load(map[string]string{"SECRET_PROVIDER_CONNECT_TOKEN_FILE": path}, connectSpec)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if res.Value != secret || res.From != "SECRET_PROVIDER_CONNECT_TOKEN_FILE" || res.Path != path {
		t.Errorf("Load = {%q, %q, %q}", res.Value, res.From, res.Path)
	}
	if len(res.Warnings) != 0 {
		t.Errorf("unexpected warnings for mode 0600: %q", res.Warnings)
	}
}

// The file is read on every call, so a rotated credential is picked up.
func TestLoadFileReadEachCall(t *testing.T) {
	path := writeFile(t, "one", 0o600)
	cfg := map[string]string{"SECRET_PROVIDER_CONNECT_TOKEN_FILE": path}
	if res, err := Load(cfg, connectSpec); err != nil || res.Value != "one" {
		t.Fatalf("Load = %q, %v", res.Value, err)
	}
	if err := os.WriteFile(path, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	if res, err := Load(cfg, connectSpec); err != nil || res.Value != "two" {
		t.Fatalf("Load after rotation = %q, %v", res.Value, err)
	}
}

func TestLoadFileThroughSymlink(t *testing.T) {
	target := writeFile(t, secret, 0o600)
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(target, link); err != nil {
		t.Skip("symlinks unavailable:", err)
	}
	res, err := Load(map[string]string{"SECRET_PROVIDER_CONNECT_TOKEN_FILE": link}, connectSpec)
	if err != nil || res.Value != secret || res.Path != link {
		t.Fatalf("Load = %q, %q, %v", res.Value, res.Path, err)
	}
}

func TestLoadFilePermissionWarning(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644, 0o444} {
		t.Run(fmt.Sprintf("%#o", mode), func(t *testing.T) {
			path := writeFile(t, secret, mode)
			res, err := Load(map[string]string{"SECRET_PROVIDER_CONNECT_TOKEN_FILE": path}, connectSpec)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if res.Value != secret {
				t.Errorf("Value = %q", res.Value)
			}
			if len(res.Warnings) != 1 {
				t.Fatalf("Warnings = %q, want one", res.Warnings)
			}
			w := res.Warnings[0]
			for _, want := range []string{path, fmt.Sprintf("mode %#o", mode), "chmod 600", "SECRET_PROVIDER_CONNECT_TOKEN_FILE"} {
				if !strings.Contains(w, want) {
					t.Errorf("warning %q does not mention %q", w, want)
				}
			}
			if strings.Contains(w, secret) {
				t.Errorf("warning contains the secret: %q", w)
			}
		})
	}
	for _, mode := range []os.FileMode{0o600, 0o400, 0o700} {
		path := writeFile(t, secret, mode)
		res, err := Load(map[string]string{"SECRET_PROVIDER_CONNECT_TOKEN_FILE": path}, connectSpec)
		if err != nil || len(res.Warnings) != 0 {
			t.Errorf("mode %#o: Warnings = %q, err = %v; want none", mode, res.Warnings, err)
		}
	}
}

func TestLoadConflict(t *testing.T) {
	path := writeFile(t, secret, 0o600)
	tests := []struct {
		name string
		cfg  map[string]string
		want string
	}{
		{"primary and file", map[string]string{
			"SECRET_PROVIDER_CONNECT_TOKEN": secret, "SECRET_PROVIDER_CONNECT_TOKEN_FILE": path},
			"Connect token: SECRET_PROVIDER_CONNECT_TOKEN and SECRET_PROVIDER_CONNECT_TOKEN_FILE are mutually exclusive: set only one"},
		{"fallback and file", map[string]string{
			"OP_CONNECT_TOKEN": secret, "SECRET_PROVIDER_CONNECT_TOKEN_FILE": path},
			"Connect token: OP_CONNECT_TOKEN and SECRET_PROVIDER_CONNECT_TOKEN_FILE are mutually exclusive: set only one"},
		{"all three", map[string]string{
			"SECRET_PROVIDER_CONNECT_TOKEN": secret, "OP_CONNECT_TOKEN": secret, "SECRET_PROVIDER_CONNECT_TOKEN_FILE": path},
			"Connect token: SECRET_PROVIDER_CONNECT_TOKEN, OP_CONNECT_TOKEN and SECRET_PROVIDER_CONNECT_TOKEN_FILE are mutually exclusive: set only one"},
		// The conflict is reported even if the file is unusable: the
		// configuration is wrong either way.
		{"file missing", map[string]string{
			"SECRET_PROVIDER_CONNECT_TOKEN": secret, "SECRET_PROVIDER_CONNECT_TOKEN_FILE": "/nonexistent"},
			"Connect token: SECRET_PROVIDER_CONNECT_TOKEN and SECRET_PROVIDER_CONNECT_TOKEN_FILE are mutually exclusive: set only one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.cfg, connectSpec)
			if !errors.Is(err, ErrConflict) {
				t.Fatalf("Load error = %v, want ErrConflict", err)
			}
			if errors.Is(err, ErrMissing) || errors.Is(err, ErrFile) {
				t.Errorf("error matches another sentinel: %v", err)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got %s\nwant %s", err, tt.want)
			}
			checkNoSecret(t, err)
		})
	}
}

func TestLoadMissing(t *testing.T) {
	tests := []struct {
		name string
		cfg  map[string]string
		spec Spec
		want string
	}{
		{"nil config", nil, connectSpec,
			"Connect token not set: set SECRET_PROVIDER_CONNECT_TOKEN (or its fallback OP_CONNECT_TOKEN) or SECRET_PROVIDER_CONNECT_TOKEN_FILE"},
		{"empty and blank values", map[string]string{
			"SECRET_PROVIDER_CONNECT_TOKEN": "", "OP_CONNECT_TOKEN": "  ", "SECRET_PROVIDER_CONNECT_TOKEN_FILE": "\n"}, connectSpec,
			"Connect token not set: set SECRET_PROVIDER_CONNECT_TOKEN (or its fallback OP_CONNECT_TOKEN) or SECRET_PROVIDER_CONNECT_TOKEN_FILE"},
		{"no fallback", nil, Spec{Inline: []string{"TOKEN"}, File: "TOKEN_FILE", What: "token"},
			"token not set: set TOKEN or TOKEN_FILE"},
		{"two fallbacks", nil, Spec{Inline: []string{"A", "B", "C"}, File: "A_FILE"},
			"credential not set: set A (or its fallbacks B and C) or A_FILE"},
		{"inline only", nil, Spec{Inline: []string{"A"}}, "credential not set: set A"},
		{"file only", nil, Spec{File: "A_FILE"}, "credential not set: set A_FILE"},
		{"unrelated keys", map[string]string{"OTHER": secret}, connectSpec,
			"Connect token not set: set SECRET_PROVIDER_CONNECT_TOKEN (or its fallback OP_CONNECT_TOKEN) or SECRET_PROVIDER_CONNECT_TOKEN_FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.cfg, tt.spec)
			if !errors.Is(err, ErrMissing) {
				t.Fatalf("Load error = %v, want ErrMissing", err)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got %s\nwant %s", err, tt.want)
			}
		})
	}
}

func TestLoadFileErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name  string
		path  string
		want  string // suffix after `Connect token: SECRET_PROVIDER_CONNECT_TOKEN_FILE="<path>": `
		cause error
	}{
		{"missing", filepath.Join(dir, "nope"), "cannot open the file: no such file or directory", fs.ErrNotExist},
		{"directory", dir, "is a directory, not a file", nil},
		{"empty", writeFile(t, "", 0o600), "file is empty", nil},
		{"whitespace only", writeFile(t, " \n\t\r\n", 0o600), "file is empty", nil},
		{"too large", writeFile(t, strings.Repeat("x", MaxFileSize+1), 0o600),
			fmt.Sprintf("file is larger than %d bytes; is it the right file?", MaxFileSize), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(map[string]string{"SECRET_PROVIDER_CONNECT_TOKEN_FILE": tt.path}, connectSpec)
			if !errors.Is(err, ErrFile) {
				t.Fatalf("Load error = %v, want ErrFile", err)
			}
			want := fmt.Sprintf("Connect token: SECRET_PROVIDER_CONNECT_TOKEN_FILE=%q: %s", tt.path, tt.want)
			if err.Error() != want {
				t.Errorf("error:\n got %s\nwant %s", err, want)
			}
			if tt.cause != nil && !errors.Is(err, tt.cause) {
				t.Errorf("error %v does not wrap %v", err, tt.cause)
			}
			var e *Error
			if !errors.As(err, &e) || e.Path != tt.path || len(e.Vars) != 1 || e.Vars[0] != "SECRET_PROVIDER_CONNECT_TOKEN_FILE" {
				t.Errorf("error fields = %+v", e)
			}
		})
	}
}

func TestLoadFileUnreadable(t *testing.T) {
	if runtime.GOOS == "windows" || os.Geteuid() == 0 {
		t.Skip("needs Unix permissions enforced (not root)")
	}
	path := writeFile(t, secret, 0o000)
	_, err := Load(map[string]string{"SECRET_PROVIDER_CONNECT_TOKEN_FILE": path}, connectSpec)
	if !errors.Is(err, ErrFile) || !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("Load error = %v, want ErrFile wrapping fs.ErrPermission", err)
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("error does not name path and cause: %v", err)
	}
	checkNoSecret(t, err)
}

// A file that holds the secret but is otherwise wrong (too large) must
// not have its content echoed; nor may any error path echo inline values.
func TestErrorsNeverContainSecret(t *testing.T) {
	big := writeFile(t, secret+strings.Repeat(secret, MaxFileSize/len(secret)+1), 0o644)
	good := writeFile(t, secret, 0o644)
	cfgs := []map[string]string{
		{"SECRET_PROVIDER_CONNECT_TOKEN": secret, "SECRET_PROVIDER_CONNECT_TOKEN_FILE": good},
		{"OP_CONNECT_TOKEN": secret, "SECRET_PROVIDER_CONNECT_TOKEN_FILE": good},
		{"SECRET_PROVIDER_CONNECT_TOKEN_FILE": big},
		{"UNRELATED": secret},
	}
	for _, cfg := range cfgs {
		_, err := Load(cfg, connectSpec)
		if err == nil {
			t.Fatalf("Load(%v): no error", cfg)
		}
		checkNoSecret(t, err)
		checkNoSecret(t, errors.Unwrap(err))
	}
	// Printing a Result by mistake does not leak the value either.
	res, err := Load(map[string]string{"SECRET_PROVIDER_CONNECT_TOKEN_FILE": good}, connectSpec)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(res), fmt.Sprintf("%v %+v %#v %s", res, res, res, res), strings.Join(res.Warnings, " ")} {
		if strings.Contains(s, secret) {
			t.Errorf("formatted Result leaks the secret: %s", s)
		}
	}
}

func TestLoadBadSpec(t *testing.T) {
	_, err := Load(map[string]string{"X": "y"}, Spec{What: "thing"})
	if err == nil || errors.Is(err, ErrMissing) {
		t.Fatalf("Load with empty Spec: %v, want a programming error", err)
	}
}

func ExampleLoad() {
	cfg := map[string]string{"OP_CONNECT_TOKEN": "eyJhbGciOiJFUzI1NiJ9.example\n"}
	res, err := Load(cfg, Spec{
		Inline: []string{"SECRET_PROVIDER_CONNECT_TOKEN", "OP_CONNECT_TOKEN"},
		File:   "SECRET_PROVIDER_CONNECT_TOKEN_FILE",
		What:   "Connect token",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, w := range res.Warnings {
		fmt.Println("warning:", w) // log these
	}
	fmt.Println(res.From, len(res.Value))
	// Output: OP_CONNECT_TOKEN 28
}
