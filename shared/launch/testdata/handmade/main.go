// Command handmade is a plugin that does go-plugin's handshake by hand,
// as a plugin in another language does, with one mistake chosen by the
// binary's name (plugins get no arguments). Every mode first writes log
// lines of the wrong JSON types to stderr.
//
//	good    no mistake (the control)
//	nosan   its certificate has the common name localhost but no DNS SAN
//	padded  the handshake line's certificate is base64 with '=' padding
//	        (the certificate is made until its DER length needs padding)
//	notls   it announces a certificate but serves gRPC without TLS
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/secrethost/secrethost/examples/file-provider/fileprovider"
	"github.com/secrethost/secrethost/shared/plugin"
)

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

func main() {
	mode := filepath.Base(os.Args[0])
	if os.Getenv(plugin.Handshake.MagicCookieKey) != plugin.Handshake.MagicCookieValue {
		fail("this is a secrethost plugin")
	}
	signal.Ignore(syscall.SIGINT)
	// Log lines of the wrong types, which go-plugin v1.8.0's own stderr
	// parser would panic on.
	for _, l := range []string{
		`{"@level":"error","@message":42}`,
		`{"@level":7,"@message":{"nested":true},"@timestamp":1}`,
		`{"@level":"warn","@message":null,"k":[1,2]}`,
		`{"@message":"handmade-marker","@level":"info"}`,
	} {
		fmt.Fprintln(os.Stderr, l)
	}

	clients := x509.NewCertPool()
	if !clients.AppendCertsFromPEM([]byte(os.Getenv("PLUGIN_CLIENT_CERT"))) {
		fail("no PLUGIN_CLIENT_CERT")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		fail("key: %v", err)
	}
	var der []byte
	for {
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(time.Now().UnixNano()),
			Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"handmade"}},
			NotBefore:             time.Now().Add(-time.Minute),
			NotAfter:              time.Now().Add(time.Hour),
			KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
			ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			BasicConstraintsValid: true,
			IsCA:                  true,
		}
		if mode != "nosan" {
			tmpl.DNSNames = []string{"localhost"}
		}
		der, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			fail("certificate: %v", err)
		}
		if mode != "padded" || len(der)%3 != 0 {
			break
		}
	}
	field := base64.RawStdEncoding.EncodeToString(der)
	if mode == "padded" {
		field = base64.StdEncoding.EncodeToString(der)
	}

	creds := credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clients,
		MinVersion:   tls.VersionTLS12,
	})
	serverOpts := []grpc.ServerOption{grpc.Creds(creds)}
	if mode == "notls" {
		serverOpts = nil
	}
	srv := grpc.NewServer(append(serverOpts, grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		// go-plugin's GRPCController.Shutdown: answer, then exit.
		if m, _ := grpc.MethodFromServerStream(stream); m == "/plugin.GRPCController/Shutdown" {
			_ = stream.RecvMsg(&emptypb.Empty{})
			_ = stream.SendMsg(&emptypb.Empty{})
			go func() { time.Sleep(10 * time.Millisecond); os.Exit(0) }()
			return nil
		}
		<-stream.Context().Done()
		return nil
	}))...)
	if err := (&plugin.GRPCProviderPlugin{Impl: fileprovider.New()}).GRPCServer(nil, srv); err != nil {
		fail("register: %v", err)
	}
	hs := health.NewServer()
	hs.SetServingStatus("plugin", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(srv, hs)

	sock := filepath.Join(os.Getenv("PLUGIN_UNIX_SOCKET_DIR"), "handmade.sock")
	lis, err := (&net.ListenConfig{}).Listen(context.Background(), "unix", sock)
	if err != nil {
		fail("listen: %v", err)
	}
	fmt.Printf("1|1|unix|%s|grpc|%s\n", sock, field)
	if err := srv.Serve(lis); err != nil {
		fail("serve: %v", err)
	}
}
