// Package plugins_test holds checks on the plugins as a whole.
package plugins_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPluginsDependOnNothingOfTheHost: a plugin is built against the SDK
// (shared/) only; nothing under plugins/, tests included, may depend on
// the host. Tests that run a plugin through the real host live under e2e/.
func TestPluginsDependOnNothingOfTheHost(t *testing.T) {
	const mod = "github.com/secrethost/secrethost/"
	out, err := exec.Command("go", "list", "-deps", "-test", "-f", "{{.ImportPath}}", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	var bad []string
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == mod+"host" || strings.HasPrefix(pkg, mod+"host/") {
			bad = append(bad, pkg)
		}
	}
	if len(bad) > 0 {
		t.Errorf("plugins/ depends on %s", strings.Join(bad, ", "))
	}
	if !strings.Contains(string(out), mod+"shared/plugin") {
		t.Errorf("control: go list -deps under plugins/ did not list shared/plugin:\n%s", out)
	}
}
