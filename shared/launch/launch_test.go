package launch_test

import (
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health/grpc_health_v1"

	"github.com/secrethost/secrethost/internal/testbin"
	"github.com/secrethost/secrethost/shared/launch"
	"github.com/secrethost/secrethost/shared/provider"
)

func TestMain(m *testing.M) {
	if path := os.Getenv("SECRETHOST_TEST_LAUNCH_HELPER"); path != "" {
		launchHelper(path)
		return
	}
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
	if _, err := proc.Client.GetInfo(ctx, provider.InfoRequest{}); err != nil {
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

// TestSocketDirIsPrivateAndRemoved: the plugin's socket is in a directory
// of its own (0700) in the host's temporary directory, or in /tmp when that
// is too deep for a socket path, and the directory is gone after Kill,
// also when the plugin did not exit cleanly.
func TestSocketDirIsPrivateAndRemoved(t *testing.T) {
	path := testbin.Build(t, testbin.PluginDir(), "test", "./host/internal/testplugin", "")
	short := shortTemp(t) // t.TempDir() is too deep for a socket path
	deep := filepath.Join(short, strings.Repeat("d", 80))
	if err := os.Mkdir(deep, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct{ tmpdir, want string }{
		"TMPDIR":          {short, short},
		"TMPDIR too deep": {deep, "/tmp"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("TMPDIR", c.tmpdir)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			proc, err := launch.Start(ctx, launch.Spec{Name: "test", Path: path})
			if err != nil {
				t.Fatal(err)
			}
			defer proc.Kill()
			dir := filepath.Dir(proc.Addr().String())
			if filepath.Dir(dir) != c.want || !strings.HasPrefix(filepath.Base(dir), "secrethost-plugin-") {
				t.Errorf("socket %s, want it in a secrethost-plugin-* directory of %s", proc.Addr(), c.want)
			}
			if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
				t.Errorf("socket directory: %v, %v; want mode 0700", st, err)
			}
			// Killed hard, the plugin cannot remove its socket itself.
			if err := syscall.Kill(proc.Pid(), syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-proc.Done()
			proc.Kill()
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("socket directory still there after Kill: %v", err)
			}
		})
	}
}

// TestOversizedAnswerIsRefused: the host holds a plugin to the protocol's
// message limit (go-plugin alone would accept 2 GiB): an answer above it is
// a clear protocol error naming the limit, the host does not buffer it, and
// the plugin goes on serving.
func TestOversizedAnswerIsRefused(t *testing.T) {
	defer launch.SetMaxReceive(1 << 20)()
	path := testbin.Build(t, testbin.PluginDir(), "test", "./host/internal/testplugin", "")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	proc, err := launch.Start(ctx, launch.Spec{Name: "test", Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer proc.Kill()
	if _, err := proc.Client.Configure(ctx, provider.ConfigureRequest{Config: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	_, err = proc.Client.Resolve(ctx, provider.ResolveRequest{References: []string{"test://bytes-2097152"}})
	if err == nil || !strings.Contains(err.Error(), "exceeds the 1048576-byte message limit") {
		t.Fatalf("a 2 MiB answer with a 1 MiB limit: %v, want the limit named", err)
	}
	resp, err := proc.Client.Resolve(ctx, provider.ResolveRequest{References: []string{"test://bytes-1000"}})
	if err != nil || len(resp.Results) != 1 || len(resp.Results[0].Value) != 1000 {
		t.Fatalf("the plugin no longer serves after the refused answer: %v", err)
	}
}
