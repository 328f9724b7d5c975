package fileprovider_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/secrethost/secrethost/examples/file-provider/fileprovider"
	"github.com/secrethost/secrethost/internal/testbin"
	"github.com/secrethost/secrethost/shared/launch"
	"github.com/secrethost/secrethost/shared/provider"
	"github.com/secrethost/secrethost/shared/providertest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}

// secrets writes files (name -> content) into a fresh directory.
func secrets(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, value := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(value), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func suite(dir string, reads *atomic.Int64, newProvider func(testing.TB) provider.Provider) providertest.Suite {
	return providertest.Suite{
		New:     newProvider,
		Config:  map[string]string{"dir": dir},
		Valid:   []string{"file://alpha", "file://beta", "file://nested/gamma"},
		Invalid: []string{"file://../outside", "file:///etc/passwd", "notaref", "file://a//b", "file://"},
		Missing: []string{"file://nope", "file://nested/nope"},
		// No attribute is sensitive; treat a whole configuration plus a
		// made-up token as secret, so that the leak check runs.
		SensitiveConfig: map[string]string{"dir": dir, "token": "tok-7f3a9c-never-echo"},
		BadConfig:       map[string]string{"dir": "no-such-dir/secrets"},
		Requests:        func() int { return int(reads.Load()) },
	}
}

var conformanceFiles = map[string]string{
	"alpha":        "alpha-secret\n",
	"beta":         "beta secret, with spaces",
	"nested/gamma": "gamma\x00binary\xff",
}

// TestConformanceInProcess runs the kit on the provider served over
// in-process gRPC, where the race detector sees it.
func TestConformanceInProcess(t *testing.T) {
	var reads atomic.Int64
	dir := secrets(t, conformanceFiles)
	providertest.Run(t, suite(dir, &reads, providertest.InProcess(func() provider.Provider {
		return &fileprovider.Provider{Reads: &reads}
	})))
}

// plugin builds the real plugin (examples/file-provider) once.
func plugin(t *testing.T) string {
	t.Helper()
	return testbin.Build(t, testbin.PluginDir(), "file", "./examples/file-provider", "")
}

// TestConformanceBinary runs the kit on the built plugin, launched as the
// host launches it. Its reads cannot be counted from here, so
// ValidateOffline is skipped.
func TestConformanceBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and launches the plugin")
	}
	var reads atomic.Int64
	s := suite(secrets(t, conformanceFiles), &reads, providertest.Binary(plugin(t)))
	s.Requests = nil
	providertest.Run(t, s)
}

// resolveBinary configures the built plugin with dir and resolves refs.
func resolveBinary(t *testing.T, dir string, refs ...string) []provider.ResolveResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	proc, err := launch.Start(ctx, launch.Spec{Name: "file", Path: plugin(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proc.Kill)
	if _, err := proc.Client.Configure(ctx, provider.ConfigureRequest{Config: map[string]string{"dir": dir}}); err != nil {
		t.Fatal(err)
	}
	resp, err := proc.Client.Resolve(ctx, provider.ResolveRequest{References: refs})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Results
}

// TestSymlinkOutOfTheDirectory: a symbolic link inside the directory that
// leads out of it is not followed; the error names the reference, never
// the link's target. A link that stays inside the directory works (the
// layout of a Kubernetes secret volume: key -> ..data/key).
func TestSymlinkOutOfTheDirectory(t *testing.T) {
	outside := secrets(t, map[string]string{"target-secret": "outside-value-must-not-show"})
	dir := secrets(t, map[string]string{"..data/inside": "inside-value\n"})
	target := filepath.Join(outside, "target-secret")
	for name, to := range map[string]string{
		"escape":          target,                                                       // absolute, outside
		"relative-escape": filepath.Join("..", filepath.Base(outside), "target-secret"), // relative, outside
		"dirlink":         outside,                                                      // a directory outside
		"inside":          filepath.Join("..data", "inside"),                            // relative, inside
	} {
		if err := os.Symlink(to, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	refs := []string{"file://escape", "file://relative-escape", "file://dirlink/target-secret", "file://inside"}
	got := resolveBinary(t, dir, refs...)
	for i, r := range got[:3] {
		if r.Err == nil {
			t.Errorf("%s resolved (%d bytes) through a symbolic link out of the directory", refs[i], len(r.Value))
			continue
		}
		if r.Err.Code != provider.CodePermissionDenied && r.Err.Code != provider.CodeNotFound {
			t.Errorf("%s: code %s, want permission_denied or not_found", refs[i], r.Err.Code)
		}
		msg := r.Err.Error()
		if !strings.Contains(msg, strings.TrimPrefix(refs[i], "file://")) {
			t.Errorf("%s: the error does not name the reference: %q", refs[i], msg)
		}
		if strings.Contains(msg, outside) {
			t.Errorf("%s: the error names the link's target: %q", refs[i], msg)
		}
		t.Logf("%s: %s", refs[i], msg)
	}
	if r := got[3]; r.Err != nil || string(r.Value) != "inside-value" {
		t.Errorf("file://inside (a link inside the directory) = %q, %v; want %q", r.Value, r.Err, "inside-value")
	}
}

// TestTrailingNewline: exactly one trailing "\n" or "\r\n" is removed.
func TestTrailingNewline(t *testing.T) {
	files := map[string]string{
		"lf":     "token\n",
		"crlf":   "token\r\n",
		"none":   "token",
		"two":    "line\n\n",
		"multi":  "a\nb\n",
		"cr":     "token\r",
		"empty":  "",
		"lfonly": "\n",
		"binary": "\xff\x00\n",
	}
	want := map[string]string{
		"lf": "token", "crlf": "token", "none": "token", "two": "line\n", "multi": "a\nb",
		"cr": "token\r", "empty": "", "lfonly": "", "binary": "\xff\x00",
	}
	dir := secrets(t, files)
	var refs []string
	for name := range files {
		refs = append(refs, "file://"+name)
	}
	for _, r := range resolveBinary(t, dir, refs...) {
		name := strings.TrimPrefix(r.Reference, "file://")
		if r.Err != nil || !bytes.Equal(r.Value, []byte(want[name])) {
			t.Errorf("%s (file %q) = %q, %v; want %q", r.Reference, files[name], r.Value, r.Err, want[name])
		}
	}
}

// TestUnconfiguredResolve: Resolve before Configure reads nothing (it used
// to read relative to the plugin's working directory, /).
func TestUnconfiguredResolve(t *testing.T) {
	p := fileprovider.New()
	_, err := p.Resolve(t.Context(), provider.ResolveRequest{References: []string{"file://etc/passwd"}})
	if err == nil {
		t.Fatal("Resolve before Configure succeeded")
	}
}
