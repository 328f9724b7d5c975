// Command onepassword-sa is the secrethost provider for 1Password service
// accounts. It links the 1Password SDK and its WebAssembly runtime, which
// is why it is a plugin of its own: see package serviceaccount.
package main

import (
	"github.com/secrethost/secrethost/plugins/onepassword-sa/serviceaccount"
	"github.com/secrethost/secrethost/shared/plugin"
)

func main() { plugin.Serve(serviceaccount.New()) }
