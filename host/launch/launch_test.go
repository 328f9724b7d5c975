package launch_test

import (
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health/grpc_health_v1"

	"github.com/secrethost/secrethost/host/launch"
	"github.com/secrethost/secrethost/internal/testbin"
	"github.com/secrethost/secrethost/shared/provider"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}

// TestPlainClientIsRefused shows the plugin's gRPC endpoint demands the
// host's client certificate: neither a plaintext client nor a TLS client
// without that certificate gets an answer, while the host does.
func TestPlainClientIsRefused(t *testing.T) {
	path := testbin.Build(t, testbin.PluginDir(), "test", "./host/internal/testplugin", "")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	proc, err := launch.Start(ctx, launch.Spec{Name: "test", Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer proc.Kill()
	if _, err := proc.Provider.GetInfo(ctx, provider.InfoRequest{}); err != nil {
		t.Fatalf("host's own client failed: %v", err)
	}
	addr := proc.Addr()
	if addr == nil || addr.Network() != "unix" {
		t.Fatalf("unexpected plugin address %v", addr)
	}
	target := "unix://" + filepath.Clean(addr.String())

	for name, creds := range map[string]credentials.TransportCredentials{
		"plaintext":   insecure.NewCredentials(),
		"tls-no-cert": credentials.NewTLS(&tls.Config{InsecureSkipVerify: true}),
	} {
		t.Run(name, func(t *testing.T) {
			conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(creds))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			c, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			_, err = grpc_health_v1.NewHealthClient(conn).Check(c, &grpc_health_v1.HealthCheckRequest{Service: "plugin"})
			if err == nil {
				t.Fatal("a client without the host's certificate talked to the plugin")
			}
			t.Logf("refused as expected: %v", err)
		})
	}
}
