package plugin

import (
	"testing"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/secrethost/secrethost/shared/provider"
)

// TestClient serves impl over an in-process gRPC connection and returns the
// host-side client, so tests exercise the real adapters and converters
// without building a binary. The connection closes with the test.
func TestClient(t testing.TB, impl provider.Provider) provider.Provider {
	t.Helper()
	c, _ := goplugin.TestPluginGRPCConn(t, false, map[string]goplugin.Plugin{
		PluginName: &GRPCProviderPlugin{Impl: impl},
	})
	t.Cleanup(func() { _ = c.Close() })
	raw, err := c.Dispense(PluginName)
	if err != nil {
		t.Fatalf("dispense provider: %v", err)
	}
	return raw.(provider.Provider)
}
