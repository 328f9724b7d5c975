package host_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/internal/testprovider"
	"github.com/secrethost/secrethost/shared/launch"
	"github.com/secrethost/secrethost/shared/provider"
)

// BenchmarkColdStart measures what the first use of a provider costs:
// exec, go-plugin handshake with AutoMTLS, GetInfo and Configure.
func BenchmarkColdStart(b *testing.B) {
	path := filepath.Join(pluginDir(b), "test")
	ctx := context.Background()
	for b.Loop() {
		proc, err := launch.Start(ctx, launch.Spec{Name: "test", Path: path, LogLevel: hclog.Error})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := proc.Client.GetInfo(ctx, provider.InfoRequest{}); err != nil {
			b.Fatal(err)
		}
		if _, err := proc.Client.Configure(ctx, provider.ConfigureRequest{Config: map[string]string{"prefix": "v-"}}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		proc.Kill()
		b.StartTimer()
	}
}

var oneRef = provider.ResolveRequest{References: []string{"test://db_password"}}

// BenchmarkResolveViaPlugin is one Resolve of one reference through a
// running plugin: gRPC over a Unix socket with mTLS, both converters.
func BenchmarkResolveViaPlugin(b *testing.B) {
	ctx := context.Background()
	proc, err := launch.Start(ctx, launch.Spec{Name: "test", Path: filepath.Join(pluginDir(b), "test"), LogLevel: hclog.Error})
	if err != nil {
		b.Fatal(err)
	}
	defer proc.Kill()
	benchResolve(b, proc.Client)
}

// BenchmarkResolveInProcess is the same provider called directly: the
// baseline that the plugin boundary adds to.
func BenchmarkResolveInProcess(b *testing.B) {
	benchResolve(b, testprovider.New(""))
}

func benchResolve(b *testing.B, p provider.Provider) {
	ctx := context.Background()
	if _, err := p.Configure(ctx, provider.ConfigureRequest{Config: map[string]string{"prefix": "v-"}}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		resp, err := p.Resolve(ctx, oneRef)
		if err != nil || len(resp.Results) != 1 || string(resp.Results[0].Value) != "v-db_password" {
			b.Fatalf("resolve: %v %+v", err, resp)
		}
	}
}
