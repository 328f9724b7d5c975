package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2EPluginDirFlagAndVariable: --plugin-dir overrides the
// configuration's plugin_dir, $SECRETHOST_PLUGIN_DIR sets it when the
// configuration does not, and when no plugin is found there the error
// names the directory, where it came from, and how to change it.
func TestE2EPluginDirFlagAndVariable(t *testing.T) {
	f := newFixture(t)
	empty := t.TempDir()
	f.writeConfig("noplug.hcl", `
provider "onepassword-connect" {
  config_from_env = true
}
`)
	const ref = "DB=op://Demo/Postgres/password"

	r := f.run(t, "", nil, "--config", "op.hcl", "--plugin-dir", empty, "resolve", ref)
	if r.code == 0 || !strings.Contains(r.stderr, empty) || !strings.Contains(r.stderr, "from --plugin-dir") || !strings.Contains(r.stderr, "$SECRETHOST_PLUGIN_DIR") {
		t.Errorf("--plugin-dir with no plugin: code %d\n%s", r.code, r.stderr)
	}

	r = f.run(t, "", []string{"SECRETHOST_PLUGIN_DIR=" + f.pluginDir}, "--config", "noplug.hcl", "resolve", ref)
	r.expect(t, 0)
	if !strings.Contains(r.stdout, "pg-s3cret-9f2c") {
		t.Errorf("resolve through $SECRETHOST_PLUGIN_DIR: %s", r.stdout)
	}

	r = f.run(t, "", []string{"SECRETHOST_PLUGIN_DIR=" + empty}, "--config", "noplug.hcl", "resolve", ref)
	if r.code == 0 || !strings.Contains(r.stderr, empty) || !strings.Contains(r.stderr, "from $SECRETHOST_PLUGIN_DIR") {
		t.Errorf("$SECRETHOST_PLUGIN_DIR with no plugin: code %d\n%s", r.code, r.stderr)
	}

	r = f.run(t, "", []string{"SECRETHOST_PLUGIN_DIR=" + empty}, "--config", "noplug.hcl", "--plugin-dir", f.pluginDir, "resolve", ref)
	r.expect(t, 0)

	// The trust rules apply: a plugin directory others may write is refused.
	open := t.TempDir()
	b, err := os.ReadFile(filepath.Join(f.pluginDir, "onepassword-connect"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(open, "onepassword-connect"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--plugin-dir", open}, {}} {
		env := []string{"SECRETHOST_PLUGIN_DIR=" + open}
		r = f.run(t, "", env, append(append([]string{"--config", "noplug.hcl"}, args...), "resolve", ref)...)
		t.Logf("%v: %s", args, r.stderr)
		if r.code == 0 || strings.Contains(r.stdout, "pg-s3cret-9f2c") {
			t.Errorf("%v: a world-writable plugin directory was used:\n%s", args, r.stderr)
		}
	}
}
