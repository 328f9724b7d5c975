// Command onepassword-connect is the secrethost provider plugin for
// 1Password Connect servers: it resolves op:// references through a
// self-hosted Connect API. See package connect.
package main

import (
	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/plugins/onepassword-connect/connect"
	"github.com/secrethost/secrethost/shared/plugin"
	"github.com/secrethost/secrethost/shared/provider"
)

// The provider logs through the logger Serve configured (JSON lines on
// stderr, the host's level, or WithLogger's).
func main() {
	plugin.ServeFactory(func(log hclog.Logger) provider.Provider { return connect.New(log) })
}
