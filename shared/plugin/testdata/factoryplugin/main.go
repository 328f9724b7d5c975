// Command factoryplugin serves the example file provider through
// plugin.ServeFactory with a logger of its own (plugin.WithLogger); the
// provider logs a marker through the logger it was given on every GetInfo.
package main

import (
	"context"
	"os"

	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/examples/file-provider/fileprovider"
	"github.com/secrethost/secrethost/shared/plugin"
	"github.com/secrethost/secrethost/shared/provider"
)

type logging struct {
	provider.Provider
	log hclog.Logger
}

func (l logging) GetInfo(ctx context.Context, req provider.InfoRequest) (provider.InfoResponse, error) {
	l.log.Warn("factory-marker")
	return l.Provider.GetInfo(ctx, req)
}

func main() {
	mine := hclog.New(&hclog.LoggerOptions{Output: os.Stderr, JSONFormat: true, Level: hclog.Trace}).With("logger", "from-WithLogger")
	plugin.ServeFactory(func(log hclog.Logger) provider.Provider {
		return logging{Provider: fileprovider.New(), log: log}
	}, plugin.WithLogger(mine))
}
