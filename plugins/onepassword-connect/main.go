// Command onepassword-connect is the secrethost provider plugin for
// 1Password Connect servers: it resolves op:// references through a
// self-hosted Connect API. See package connect.
package main

import (
	"github.com/secrethost/secrethost/plugins/onepassword-connect/connect"
	"github.com/secrethost/secrethost/shared/plugin"
)

func main() { plugin.Serve(connect.New()) }
