// Command onepassword-sa is the secrethost provider for 1Password service
// accounts. It links the 1Password SDK and its WebAssembly runtime, which
// is why it is a plugin of its own: see package serviceaccount.
package main

import (
	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/plugins/onepassword-sa/serviceaccount"
	"github.com/secrethost/secrethost/shared/plugin"
	"github.com/secrethost/secrethost/shared/provider"
)

// The provider logs through the logger Serve configured (JSON lines on
// stderr, the host's level, or WithLogger's).
func main() {
	plugin.ServeFactory(func(log hclog.Logger) provider.Provider { return serviceaccount.New(log) })
}
