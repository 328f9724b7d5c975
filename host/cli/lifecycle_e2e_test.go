package cli

import (
	"strings"
	"testing"

	"github.com/secrethost/secrethost/internal/testbin"
)

// TestE2EValidateStartsEachPluginOnce: `secrethost validate` with a
// configuration the plugin refuses (a CI job with a malformed token, say)
// starts the plugin once, whether the block declares its schemes or not,
// and with two providers declaring theirs, only the one the references
// use starts. go-plugin logs "waiting for RPC address" once per start.
func TestE2EValidateStartsEachPluginOnce(t *testing.T) {
	f := newFixture(t)
	testbin.Build(t, f.pluginDir, "test", "./host/internal/testplugin", "")
	for _, tc := range []struct{ name, config, file string }{
		{"schemes learned", `plugin_dir = %q
provider "test" {
  config = { fail = "1" }
}
`, ""},
		{"schemes declared, two providers", `plugin_dir = %q
provider "test" {
  schemes = ["test"]
  config = { fail = "1" }
}
provider "file" {
  schemes = ["file"]
  config = { dir = "." }
}
`, "file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.writeConfig("once.hcl", tc.config, f.pluginDir)
			r := f.run(t, "", nil, "--config", "once.hcl", "--log-level", "debug", "validate", "test://a", "test://b")
			r.expect(t, 0)
			if !strings.Contains(r.stdout, "ok  test://a") || !strings.Contains(r.stdout, "ok  test://b") {
				t.Errorf("stdout:\n%s", r.stdout)
			}
			n, other := 0, 0
			for _, line := range strings.Split(r.stderr, "\n") {
				if strings.Contains(line, "waiting for RPC address") {
					if strings.Contains(line, "secrethost.test:") {
						n++
					} else {
						other++
					}
				}
			}
			if n != 1 || other != 0 {
				t.Errorf("the test plugin started %d times (want 1), other plugins %d times (want 0):\n%s", n, other, r.stderr)
			}
		})
	}
}
