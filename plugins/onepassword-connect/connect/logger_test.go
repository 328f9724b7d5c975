package connect

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/internal/syncbuf"
	"github.com/secrethost/secrethost/shared/provider"
)

// TestNewLogsThroughTheGivenLogger: the provider logs through the logger
// it is made with (main passes the one plugin.ServeFactory configured),
// not through a process-wide logger of its own; nil means no log.
func TestNewLogsThroughTheGivenLogger(t *testing.T) {
	var buf syncbuf.Buffer
	p := New(hclog.New(&hclog.LoggerOptions{Name: "given", Level: hclog.Debug, Output: &buf}))
	cfg := map[string]string{"SECRET_PROVIDER_CONNECT_HOST": "http://127.0.0.1:1", "SECRET_PROVIDER_CONNECT_TOKEN": "logger-test-token-6d1"}
	if _, err := p.Configure(context.Background(), provider.ConfigureRequest{Config: cfg}); err != nil {
		t.Fatal(err)
	}
	if log := buf.String(); !strings.Contains(log, "given: configured") {
		t.Errorf("Configure's debug line did not reach the given logger:\n%s", log)
	}
	if strings.Contains(buf.String(), "logger-test-token-6d1") {
		t.Errorf("the log contains the token:\n%s", buf.String())
	}
	if _, err := New(nil).Configure(context.Background(), provider.ConfigureRequest{Config: cfg}); err != nil {
		t.Fatalf("New(nil): %v", err)
	}
}
