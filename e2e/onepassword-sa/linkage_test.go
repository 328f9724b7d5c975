package onepasswordsa_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secrethost/secrethost/internal/testbin"
)

// The point of this plugin is that the SDK's WebAssembly runtime (~3 s of
// start-up and ~150 MB in doco-cd) lives here and nowhere else. These
// tests keep it that way.

// sdkModules must not be linked into the host.
var sdkModules = []string{
	"github.com/tetratelabs/wazero",
	"github.com/extism/go-sdk",
	"github.com/1password/onepassword-sdk-go",
}

// modules returns the "dep" lines of `go version -m` for a binary: module
// path to version.
func modules(t *testing.T, binary string) map[string]string {
	t.Helper()
	out, err := exec.Command("go", "version", "-m", binary).CombinedOutput()
	if err != nil {
		t.Fatalf("go version -m %s: %v\n%s", binary, err, out)
	}
	mods := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && (f[0] == "dep" || f[0] == "=>") {
			mods[f[1]] = f[2]
		}
	}
	return mods
}

// TestHostBinaryLinksNoSDK builds the secrethost command and checks that
// it links none of the SDK's modules.
func TestHostBinaryLinksNoSDK(t *testing.T) {
	if _, err := os.Stat(filepath.Join(testbin.Root(), "host", "cmd", "secrethost")); err != nil {
		t.Skip("./host/cmd/secrethost does not exist yet, so there is no host binary to inspect; TestHostPackagesImportNoSDK covers the host's packages meanwhile")
	}
	bin := testbin.Build(t, t.TempDir(), "secrethost", "./host/cmd/secrethost", "")
	mods := modules(t, bin)
	if len(mods) == 0 {
		t.Fatal("go version -m listed no modules; cannot check the linkage")
	}
	for _, m := range sdkModules {
		if v, ok := mods[m]; ok {
			t.Errorf("the host binary links %s %s; it belongs in the onepassword-sa plugin only", m, v)
		}
	}
}

// TestHostPackagesImportNoSDK checks the host's and the contract's
// packages (everything doco-cd would import) at the package level.
func TestHostPackagesImportNoSDK(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "./host/...", "./shared/...")
	cmd.Dir = testbin.Root()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, m := range sdkModules {
			if pkg == m || strings.HasPrefix(pkg, m+"/") {
				t.Errorf("a host or shared package depends on %s", pkg)
			}
		}
	}
}

// TestPluginBinaryLinksSDK: the plugin is built against SDK v0.4.1, and
// does link the runtime (so the test above is not vacuous).
func TestPluginBinaryLinksSDK(t *testing.T) {
	mods := modules(t, pluginBinary(t))
	if v := mods["github.com/1password/onepassword-sdk-go"]; v != "v0.4.1" {
		t.Errorf("plugin links onepassword-sdk-go %q, want v0.4.1", v)
	}
	for _, m := range sdkModules {
		if _, ok := mods[m]; !ok {
			t.Errorf("plugin does not link %s", m)
		}
	}
}
