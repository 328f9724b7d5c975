// Command testplugin serves internal/testprovider for the host's tests.
// Start-up misbehaviour is chosen at build time (-ldflags "-X
// main.mode=..."), because a plugin receives nothing from the host before
// the handshake.
package main

import (
	"bytes"
	"fmt"
	"os"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	"github.com/secrethost/secrethost/internal/testprovider"
	"github.com/secrethost/secrethost/shared/plugin"
)

// mode: "" (well behaved), "stdout" (writes to stdout before the
// handshake), "crash" (exits during start-up), "shortbatch", "longbatch" and "extra"
// (break the one-result-per-reference rule), "rawutf8" (puts bytes that are
// not UTF-8 into the strings it sends, as a plugin not built with the SDK
// could), "slowstart" (takes a second before its handshake), "badlog"
// (writes hclog-like JSON lines whose fields have the wrong types to
// stderr, as a plugin in another language could), "network" (says it uses
// the network, so the host gives it the network settings).
var mode string

func main() {
	switch mode {
	case "stdout":
		fmt.Println("hello from a plugin that prints before its handshake")
	case "crash":
		fmt.Fprintln(os.Stderr, "fatal: cannot open the backend's state directory")
		os.Exit(1)
	case "rawutf8":
		serveRaw()
		return
	case "badlog":
		for _, line := range badLogLines {
			fmt.Fprintln(os.Stderr, line)
		}
	case "slowstart":
		time.Sleep(time.Second) // a plugin with a slow start-up
	}
	plugin.Serve(testprovider.New(mode))
}

// serveRaw serves with a codec that replaces testprovider.RawMarker, after
// marshalling, with as many bytes that are not UTF-8: what arrives is what
// a plugin in another language that does not check its strings sends.
func serveRaw() {
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig:  plugin.Handshake,
		VersionedPlugins: plugin.VersionedPlugins(testprovider.New(mode)),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, grpc.ForceServerCodecV2(rawCodec{}))...)
		},
		Logger: plugin.Logger(),
	})
}

type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	b, err := proto.Marshal(v.(proto.Message))
	if err != nil {
		return nil, err
	}
	b = bytes.ReplaceAll(b, []byte(testprovider.RawMarker), bytes.Repeat([]byte{0xff}, len(testprovider.RawMarker)))
	return mem.BufferSlice{mem.SliceBuffer(b)}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	return proto.Unmarshal(data.Materialize(), v.(proto.Message))
}

// badLogLines: "@message" and "@level" of the wrong JSON types.
var badLogLines = []string{
	`{"@level":"error","@message":42}`,
	`{"@level":7,"@message":{"nested":true},"@timestamp":"yesterday"}`,
	`{"@level":"info","@message":null,"key":[1,2]}`,
	`{"@level":"error","@message":"badlog-marker: a well-formed line after the bad ones"}`,
}
