package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	dococd "github.com/secrethost/secrethost/examples/doco-cd"
	"github.com/secrethost/secrethost/plugins/onepassword-connect/emulator"
)

// TestE2EDoctorWarnsWhereDocoCDResolvedDifferently: against Connect data
// where doco-cd's field rule (first label match in item order, sections
// ignored) and secrethost's differ, `doctor --from .doco-cd.yml` warns
// about exactly those references, without showing a value.
func TestE2EDoctorWarnsWhereDocoCDResolvedDifferently(t *testing.T) {
	f := newFixture(t)
	srv := emulator.NewTestServer(t, dococd.Seed())
	yml := filepath.Join(f.dir, ".doco-cd.yml")
	if err := os.WriteFile(yml, []byte(`name: app
external_secrets:
  MIXED: op://TestVault/Mixed/password
  PROD: op://TestVault/TestItem/Production/password
  NOSECTION: op://TestVault/TestItem/password
  CASE: op://TestVault/Case/api_key
  GONE: op://TestVault/NoItem/password
`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"SECRET_PROVIDER_CONNECT_HOST=" + srv.URL(), "SECRET_PROVIDER_CONNECT_TOKEN=" + dococd.SeedToken}
	r := f.run(t, "", env, "--config", "op.hcl", "doctor", "--from", ".doco-cd.yml")
	r.expect(t, 1) // NOSECTION is ambiguous for secrethost, GONE missing for both
	for _, want := range []string{
		"WARN  MIXED (op://TestVault/Mixed/password): resolves to a DIFFERENT secret",
		"WARN  NOSECTION (op://TestVault/TestItem/password): doco-cd resolved it",
		"WARN  CASE (op://TestVault/Case/api_key): doco-cd would fail",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, not := range []string{"WARN  PROD", "WARN  GONE", "in-section", "top-level", "dev-secret", "prod-secret", "case-value", dococd.SeedToken} {
		if strings.Contains(r.stdout, not) || strings.Contains(r.stderr, not) {
			t.Errorf("output shows %q:\n%s\n%s", not, r.stdout, r.stderr)
		}
	}

	r = f.run(t, "", env, "--config", "op.hcl", "doctor", "--format", "json", "--from", ".doco-cd.yml")
	var rep doctorReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || len(rep.DocoCD) != 3 {
		t.Errorf("json: %v\n%s", err, r.stdout)
	}
}
