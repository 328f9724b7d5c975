package main_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/secrethost/secrethost/internal/testbin"
	"github.com/secrethost/secrethost/plugins/onepassword-connect/connect"
	"github.com/secrethost/secrethost/plugins/onepassword-connect/emulator"
	"github.com/secrethost/secrethost/plugins/onepassword-connect/emulator/fixture"
	"github.com/secrethost/secrethost/shared/provider"
	"github.com/secrethost/secrethost/shared/providertest"
)

// The plugin's own tests need its binary only; those that run it through
// the host are in e2e/onepassword-connect.

const pluginName = "onepassword-connect"

func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}

func pluginDir(t testing.TB) string {
	dir := testbin.PluginDir()
	testbin.Build(t, dir, pluginName, "./plugins/onepassword-connect", "")
	return dir
}

// TestConformance runs the provider contract's conformance kit against
// the plugin, both in process (race detector, coverage) and as the built
// binary the host launches.
func TestConformance(t *testing.T) {
	fx := fixture.New()
	srv := emulator.NewTestServer(t, fx.Data)
	suite := providertest.Suite{
		Config: map[string]string{"SECRET_PROVIDER_CONNECT_HOST": srv.URL(), "SECRET_PROVIDER_CONNECT_TOKEN": fixture.Token},
		Valid: []string{
			"op://Production/Postgres/password",
			"op://Production/Postgres/Details/password",
			"op://Production/API/Primary/key",
			"op://" + fx.Production.ID + "/" + fx.GitHub.ID + "/password",
		},
		Invalid: []string{"op://Production/Postgres", "op://a/b/c?attribute=nope", "op://a/b/c#frag", "op://a/b%2/c"},
		// "op:///b/c" is valid 1Password syntax (its SDK's validator accepts empty parts) that
		// names nothing: valid, and not found (issue 12, item 7).
		Missing: []string{"op://Production/Postgres/nope", "op://Production/Nope/password", "op://Nope/Postgres/password", "op:///b/c"},
		SensitiveConfig: map[string]string{"SECRET_PROVIDER_CONNECT_HOST": srv.URL(),
			"SECRET_PROVIDER_CONNECT_TOKEN": "sensitive-token-value-1", "OP_CONNECT_TOKEN": "sensitive-token-value-2"},
		BadConfig: map[string]string{"SECRET_PROVIDER_CONNECT_HOST": "op-connect-api:8080", "SECRET_PROVIDER_CONNECT_TOKEN": fixture.Token},
		Requests:  srv.RequestCount,
	}
	t.Run("in process", func(t *testing.T) {
		s := suite
		s.New = providertest.InProcess(func() provider.Provider { return connect.New(nil) })
		providertest.Run(t, s)
	})
	t.Run("binary", func(t *testing.T) {
		s := suite
		s.New = providertest.Binary(filepath.Join(pluginDir(t), pluginName))
		providertest.Run(t, s)
	})
}
