package plugin_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/internal/syncbuf"
	"github.com/secrethost/secrethost/internal/testbin"
	"github.com/secrethost/secrethost/shared/launch"
	"github.com/secrethost/secrethost/shared/provider"
)

// TestServeFactoryGivesTheProviderTheServeLogger: with ServeFactory, the
// provider logs through the logger given with WithLogger (the one go-plugin's
// server uses too), not through a logger of its own.
func TestServeFactoryGivesTheProviderTheServeLogger(t *testing.T) {
	bin := testbin.Build(t, t.TempDir(), "factory", "./shared/plugin/testdata/factoryplugin", "")
	var logs syncbuf.Buffer
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	proc, err := launch.Start(ctx, launch.Spec{Name: "factory", Path: bin, LogLevel: hclog.Trace,
		Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: &logs})})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := proc.Client.GetInfo(ctx, provider.InfoRequest{}); err != nil {
		t.Fatal(err)
	}
	proc.Kill()
	var marker, address string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "factory-marker") {
			marker = l
		}
		if strings.Contains(l, "plugin address") {
			address = l
		}
	}
	if marker == "" || !strings.Contains(marker, "[WARN]") || !strings.Contains(marker, "logger=from-WithLogger") {
		t.Errorf("the provider's line, want it at warn through the WithLogger logger (logger=from-WithLogger): %q\nlog:\n%s", marker, logs.String())
	}
	// go-plugin's server used the same logger.
	if !strings.Contains(address, "logger=from-WithLogger") {
		t.Errorf("go-plugin's own lines do not come from the WithLogger logger:\n%s", logs.String())
	}
}
