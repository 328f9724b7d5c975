package dococd_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	dococd "github.com/secrethost/secrethost/examples/doco-cd"
	"github.com/secrethost/secrethost/host"
	"github.com/secrethost/secrethost/internal/testbin"
	"github.com/secrethost/secrethost/plugins/onepassword-connect/emulator"
	"github.com/secrethost/secrethost/shared/provider"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}

// TestDropIn runs the doco-cd path end to end: doco-cd's environment as in
// its 1Password Connect documentation (token, then token file), the demo
// deploy configuration's external_secrets, the Connect plugin, the Connect
// emulator over HTTP.
func TestDropIn(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	plugins := testbin.PluginDir()
	testbin.Build(t, plugins, "onepassword-connect", "./plugins/onepassword-connect", "")
	testbin.Build(t, plugins, "onepassword-sa", "./plugins/onepassword-sa", "")

	data, err := emulator.Load(filepath.Join(testbin.Root(), "examples", "demo", "connect-data.json"))
	if err != nil {
		t.Fatal(err)
	}
	srv := emulator.NewTestServer(t, data)

	var deploy struct {
		ExternalSecrets map[string]string `yaml:"external_secrets"`
	}
	raw, err := os.ReadFile(filepath.Join(testbin.Root(), "examples", "demo", ".doco-cd.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &deploy); err != nil {
		t.Fatal(err)
	}

	tokenFile := filepath.Join(t.TempDir(), "op_connect_token")
	os.WriteFile(tokenFile, []byte("demo-token\n"), 0o600)

	for name, env := range map[string]map[string]string{
		"token": {
			"SECRET_PROVIDER":               "1password",
			"SECRET_PROVIDER_CONNECT_HOST":  srv.URL(),
			"SECRET_PROVIDER_CONNECT_TOKEN": "demo-token",
		},
		"token file": {
			"SECRET_PROVIDER":                    "1password",
			"SECRET_PROVIDER_CONNECT_HOST":       srv.URL(),
			"SECRET_PROVIDER_CONNECT_TOKEN_FILE": tokenFile,
		},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
			p, err := dococd.Open(nil, host.WithPluginDir(plugins), host.WithLookupEnv(lookup))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if p.Name() != "onepassword-connect" {
				t.Errorf("Name() = %q", p.Name())
			}

			got, err := p.ResolveSecretReferences(ctx, deploy.ExternalSecrets)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"DB_USER": "app_user", "DB_PASSWORD": "demo-primary-pw-4f9c", "REPLICA_PASSWORD": "demo-replica-pw-7a21"}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			if otp := got["GITHUB_OTP"]; len(otp) != 6 {
				t.Errorf("GITHUB_OTP = %q, want a 6-digit code", otp)
			}

			// All or nothing, with every failure named.
			_, err = p.ResolveSecretReferences(ctx, map[string]string{
				"OK": "op://Demo/Postgres/password", "TYPO": "op://Demo/Postgres/pasword",
			})
			var rerr *host.ResolveError
			if !errors.As(err, &rerr) || len(rerr.Failures) != 1 || rerr.Failures[0].Name != "TYPO" || !errors.Is(err, provider.ErrNotFound) {
				t.Errorf("failure: %v", err)
			}
		})
	}
}
