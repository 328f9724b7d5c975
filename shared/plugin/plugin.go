// Package plugin is the go-plugin glue of the secrethost contract: the
// handshake, the gRPC adapters on both sides, and Serve, the entry point of a
// provider binary.
//
// A provider's main is a few lines:
//
//	func main() { plugin.Serve(&myProvider{}) }
//
// or, for a provider that logs through the plugin's logger,
//
//	func main() { plugin.ServeFactory(func(log hclog.Logger) provider.Provider { return myprovider.New(log) }) }
//
// The host side (Client) implements provider.Provider over gRPC, so the host
// sees the same Go interface whether a provider runs in process or not.
package plugin

import (
	"context"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/secrethost/secrethost/shared/internal/providerv1"
	"github.com/secrethost/secrethost/shared/provider"
)

// PluginName is the key under which the provider is dispensed.
const PluginName = "provider"

// LogLevelEnv carries the host's log level into the plugin, because
// go-plugin does not propagate it and filtering on the host alone would make
// every plugin format trace lines nobody reads.
const LogLevelEnv = "SECRETHOST_PLUGIN_LOG_LEVEL"

// Handshake identifies secrethost plugins. The cookie is a UX feature, not
// a security measure: it stops a user from running a plugin by hand and
// stops the host from launching an unrelated binary. Never change it.
var Handshake = goplugin.HandshakeConfig{
	MagicCookieKey:   "SECRETHOST_PLUGIN",
	MagicCookieValue: "b1c4a7e2-secret-provider",
}

// VersionedPlugins maps each protocol version to its plugin set. Versions
// are negotiated at the handshake: the plugin serves the highest version
// the host also knows.
func VersionedPlugins(impl provider.Provider) map[int]goplugin.PluginSet {
	return map[int]goplugin.PluginSet{
		provider.ProtocolVersion: {PluginName: &GRPCProviderPlugin{Impl: impl}},
	}
}

// GRPCProviderPlugin connects a provider.Provider to go-plugin's gRPC
// transport. Impl is set on the plugin side and nil on the host side.
type GRPCProviderPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	Impl provider.Provider
}

var _ goplugin.GRPCPlugin = (*GRPCProviderPlugin)(nil)

// GRPCServer registers the plugin-side adapter.
func (p *GRPCProviderPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	providerv1.RegisterProviderServiceServer(s, &server{impl: p.Impl})
	return nil
}

// GRPCClient returns the host-side adapter. ctx is cancelled when the plugin
// process exits, which lets the client tell a dead plugin from a slow one.
func (p *GRPCProviderPlugin) GRPCClient(ctx context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &Client{rpc: providerv1.NewProviderServiceClient(c), done: ctx}, nil
}
