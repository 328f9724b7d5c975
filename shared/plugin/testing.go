package plugin

import (
	"context"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	pb "github.com/secrethost/secrethost/shared/internal/providerv1"
	"github.com/secrethost/secrethost/shared/provider"
)

// TestClient serves impl over an in-process gRPC connection and returns the
// host-side client, so tests exercise the real adapters and converters
// without building a binary. The connection is an in-memory pipe (no
// socket file in the temporary directory, where a test looking for
// leftover plugin sockets would find it); it closes with the test.
func TestClient(t testing.TB, impl provider.Provider) provider.Provider {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer(grpc.MaxRecvMsgSize(MaxMessageSize), grpc.MaxSendMsgSize(MaxMessageSize))
	pb.RegisterProviderServiceServer(srv, &server{impl: impl})
	go func() { _ = srv.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///provider",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize)))
	if err != nil {
		t.Fatalf("connect to the provider: %v", err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		srv.Stop()
	})
	return &Client{rpc: pb.NewProviderServiceClient(conn), done: context.Background()}
}
