// Package shared_test holds checks on the SDK as a whole.
package shared_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestSharedDependsOnNothingOfTheHost: shared/ is the SDK a provider author
// imports; nothing in it (tests included) may depend on the host or on the
// plugins, or a provider would pull in the host to run its conformance kit.
func TestSharedDependsOnNothingOfTheHost(t *testing.T) {
	const mod = "github.com/secrethost/secrethost/"
	out, err := exec.Command("go", "list", "-deps", "-test", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	var bad []string
	for _, pkg := range strings.Fields(string(out)) {
		pkg = strings.SplitN(pkg, " ", 2)[0]
		for _, forbidden := range []string{mod + "host", mod + "plugins"} {
			if pkg == forbidden || strings.HasPrefix(pkg, forbidden+"/") {
				bad = append(bad, pkg)
			}
		}
	}
	if len(bad) > 0 {
		t.Errorf("shared/ depends on %s", strings.Join(bad, ", "))
	}
	if !strings.Contains(string(out), mod+"shared/launch") {
		t.Errorf("control: go list -deps ./... under shared/ did not list shared/launch:\n%s", out)
	}
}
