package version_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secrethost/secrethost/internal/testbin"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}

// TestStampedEverywhere: one -ldflags stamp of internal/version, as `make
// build` does, is what `secrethost version` and both 1Password plugins'
// GetInfo report (through `secrethost plugins`).
func TestStampedEverywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("builds three binaries; skipped with -short")
	}
	const v = "v0.0.0-stamp-test"
	ld := "-X github.com/secrethost/secrethost/internal/version.Version=" + v
	dir := t.TempDir()
	plugins := filepath.Join(dir, "plugins")
	if err := os.Mkdir(plugins, 0o700); err != nil {
		t.Fatal(err)
	}
	cli := testbin.Build(t, dir, "secrethost", "./host/cmd/secrethost", ld)
	testbin.Build(t, plugins, "onepassword-sa", "./plugins/onepassword-sa", ld)
	testbin.Build(t, plugins, "onepassword-connect", "./plugins/onepassword-connect", ld)

	out, err := exec.Command(cli, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "secrethost "+v+" ") {
		t.Errorf("secrethost version = %q, %v; want %s", out, err, v)
	}
	for name, env := range map[string][]string{
		"onepassword-sa":      {"SECRET_PROVIDER_ACCESS_TOKEN=ops_x"},
		"onepassword-connect": {"SECRET_PROVIDER_CONNECT_HOST=http://127.0.0.1:1", "SECRET_PROVIDER_CONNECT_TOKEN=t"},
	} {
		cmd := exec.Command(cli, "plugins")
		cmd.Env = append([]string{"SECRET_PROVIDER=1password"}, env...)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), name+" "+v) {
			t.Errorf("%s: secrethost plugins = %v\n%s\nwant version %s", name, err, out, v)
		}
	}
}
