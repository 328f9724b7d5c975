package plugin

import (
	"errors"
	"os"
	"sync"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/secrethost/secrethost/internal/harden"
	"github.com/secrethost/secrethost/shared/provider"
)

// MaxMessageSize is the largest gRPC message either side of the plugin
// protocol sends or accepts. It raises gRPC's 4 MB default, which a batch of
// certificates or files can exceed; the host holds plugins to it too
// (shared/launch), so a plugin cannot make the host buffer more.
const MaxMessageSize = 256 << 20

// ServeOpt configures Serve.
type ServeOpt func(*serveConfig)

type serveConfig struct {
	logger hclog.Logger
}

// WithLogger replaces the default plugin logger (Logger) as the logger of
// go-plugin's server and, with ServeFactory, of the provider.
func WithLogger(l hclog.Logger) ServeOpt {
	return func(c *serveConfig) { c.logger = l }
}

var (
	loggerOnce sync.Once
	logger     hclog.Logger
)

// Logger returns the plugin process's logger: JSON lines on stderr, which
// the host re-emits under the provider's name with their own level. The
// level comes from the host through LogLevelEnv. Never log secret values.
func Logger() hclog.Logger {
	loggerOnce.Do(func() {
		level := hclog.LevelFromString(os.Getenv(LogLevelEnv))
		if level == hclog.NoLevel {
			level = hclog.Info
		}
		logger = hclog.New(&hclog.LoggerOptions{
			Level:      level,
			Output:     os.Stderr,
			JSONFormat: true,
		})
	})
	return logger
}

// Serve runs p as a secrethost plugin and blocks until the host closes it.
// Run directly, without a host, it explains that it is a plugin and exits.
//
// On Linux it first makes the process non-dumpable with a core size limit
// of 0, so that a crash writes no core file holding the plugin's token and
// other processes of the same user cannot ptrace it (see internal/harden),
// and it replaces the stdin go-plugin passes on from the host with
// /dev/null.
//
// A provider that logs should use ServeFactory, which hands it the logger
// Serve uses.
func Serve(p provider.Provider, opts ...ServeOpt) {
	ServeFactory(func(hclog.Logger) provider.Provider { return p }, opts...)
}

// ServeFactory is Serve for a provider built with the plugin's logger:
// newProvider is called once, after the process has been hardened and the
// options applied, with the logger Serve gives go-plugin (WithLogger's, or
// else Logger()), so that the provider's lines and the plugin's own go to
// the same place, at the same level:
//
//	func main() {
//		plugin.ServeFactory(func(log hclog.Logger) provider.Provider { return myprovider.New(log) })
//	}
func ServeFactory(newProvider func(hclog.Logger) provider.Provider, opts ...ServeOpt) {
	nameProcess()
	hardenErr := errors.Join(harden.Process(), dropStdin())
	cfg := serveConfig{}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.logger == nil {
		cfg.logger = Logger()
	}
	if hardenErr != nil {
		cfg.logger.Warn("cannot harden the plugin process", "error", hardenErr)
	}
	p := newProvider(cfg.logger)
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: VersionedPlugins(p),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			opts = append(opts, grpc.MaxRecvMsgSize(MaxMessageSize), grpc.MaxSendMsgSize(MaxMessageSize))
			return grpc.NewServer(opts...)
		},
		Logger: cfg.logger,
	})
}
