// Command brokenplugin is the example file provider with one rule of the
// contract broken, for the conformance runner's tests. Plugins get no
// arguments, so the breakage is chosen by the binary's name:
//
//	dedups     answers a batch with duplicates once per distinct reference
//	unhealthy  reports unhealthy from Check
package main

import (
	"os"
	"path/filepath"

	"github.com/secrethost/secrethost/examples/file-provider/fileprovider"
	"github.com/secrethost/secrethost/shared/plugin"
	"github.com/secrethost/secrethost/shared/provider"
	"github.com/secrethost/secrethost/shared/providertest/internal/broken"
)

func main() {
	var p provider.Provider = fileprovider.New()
	switch filepath.Base(os.Args[0]) {
	case "dedups":
		p = broken.Dedups{Provider: p}
	case "unhealthy":
		p = broken.Unhealthy{Provider: p}
	}
	plugin.Serve(p)
}
