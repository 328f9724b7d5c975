// Package launch starts one plugin process the safe way: gRPC only with
// AutoMTLS, no shell, none of the host's environment, in /, an optional
// sha256 pin checked against the very bytes that are executed, a start
// timeout, a private directory for the plugin's socket that is removed when
// the plugin is gone (or, after a SIGKILL of the host, by the next host),
// and on Linux a parent-death signal so that no plugin outlives its host.
package launch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/secrethost/secrethost/shared/plugin"
	"github.com/secrethost/secrethost/shared/provider"
)

// DefaultStartTimeout bounds exec + handshake. A healthy plugin needs tens of
// milliseconds; the margin is for loaded CI machines.
const DefaultStartTimeout = 20 * time.Second

// CloseTimeout bounds the polite Close call before the process is killed.
const CloseTimeout = 2 * time.Second

// ErrChecksum: the binary does not match its pin; it was not executed.
var ErrChecksum = errors.New("plugin binary does not match its sha256 pin")

// ErrStart: the plugin failed during start-up.
var ErrStart = errors.New("plugin failed to start")

// maxReceive is the largest message the host accepts from a plugin;
// a variable only so that a test can lower it.
var maxReceive = plugin.MaxMessageSize

// Spec says what to launch.
type Spec struct {
	Name         string // provider instance name, for logs and errors
	Path         string // absolute path, already checked by Locate
	SHA256       []byte // optional pin
	LogLevel     hclog.Level
	StartTimeout time.Duration
	Logger       hclog.Logger
	// NetworkEnv ("NAME=value") is given only to a plugin whose GetInfo
	// says it uses the network (provider.InfoResponse.UsesNetwork): Start
	// then starts it without, asks, and starts it again with them (from the
	// same sealed copy when pinned). Empty: one start, as always.
	NetworkEnv []string
	// Network, when not nil, is what the caller knows of the plugin's
	// schema (a configuration's declaration): true starts the plugin once
	// with NetworkEnv, false once without; the caller checks GetInfo
	// agrees. Nil: Start asks the plugin, as described above.
	Network *bool
}

// Process is one running plugin.
type Process struct {
	// Client is the plugin's raw gRPC client, as provider.Provider: what
	// the plugin says, unfiltered (the host wraps it in its redaction
	// layer; the conformance kit checks it as it is).
	Client provider.Provider
	// NetworkEnv reports whether the plugin was given Spec.NetworkEnv.
	NetworkEnv bool
	client     *goplugin.Client
	stderr     *tail
	done       <-chan struct{} // closed by go-plugin when the process exits
	exited     chan struct{}

	// socketDir is the private directory the plugin creates its Unix
	// socket in; removed by Kill. "" when none could be made.
	socketDir  string
	removeOnce sync.Once
}

// Start launches the plugin and completes the handshake. ctx bounds the
// start; cancelling it later does not stop the plugin (Kill does).
func Start(ctx context.Context, spec Spec) (*Process, error) {
	if spec.StartTimeout <= 0 {
		spec.StartTimeout = DefaultStartTimeout
	}
	if d, ok := ctx.Deadline(); ok && time.Until(d) < spec.StartTimeout {
		spec.StartTimeout = max(time.Until(d), time.Millisecond)
	}
	logger := spec.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	// A pinned plugin runs from a sealed copy of the bytes its pin was
	// checked against (see verify); go-plugin's SecureConfig would hash the
	// path and then execute the path, a race a rename wins.
	execPath := spec.Path
	if len(spec.SHA256) > 0 {
		v, err := verify(spec.Name, spec.Path, spec.SHA256)
		if err != nil {
			return nil, fmt.Errorf("plugin %q (%s): %w; it was not executed", spec.Name, spec.Path, err)
		}
		defer v.Close() // once started, the plugin needs it no more
		execPath = v.execPath
	}

	if len(spec.NetworkEnv) == 0 || (spec.Network != nil && !*spec.Network) {
		return startOnce(spec, execPath, nil, logger)
	}
	if spec.Network != nil {
		p, err := startOnce(spec, execPath, spec.NetworkEnv, logger)
		if err == nil {
			p.NetworkEnv = true
		}
		return p, err
	}
	// The probe's exit is no news: go-plugin's info lines about it go to
	// debug.
	p, err := startOnce(spec, execPath, nil, demoted{logger})
	if err != nil {
		return nil, err
	}
	// The plugin's schema says whether it may have the network settings;
	// only a running plugin can tell. A plugin that does not answer is
	// left as it is, for the caller's own GetInfo to report.
	info, ierr := p.Client.GetInfo(ctx, provider.InfoRequest{})
	if ierr != nil || !info.UsesNetwork {
		return p, nil
	}
	p.Kill()
	names := make([]string, 0, len(spec.NetworkEnv))
	for _, kv := range spec.NetworkEnv {
		n, _, _ := strings.Cut(kv, "=")
		names = append(names, n)
	}
	logger.Debug("plugin uses the network; relaunching it with the network settings", "variables", strings.Join(names, ","))
	if d, ok := ctx.Deadline(); ok && time.Until(d) < spec.StartTimeout {
		spec.StartTimeout = max(time.Until(d), time.Millisecond)
	}
	if p, err = startOnce(spec, execPath, spec.NetworkEnv, logger); err == nil {
		p.NetworkEnv = true
	}
	return p, err
}

// demoted logs info lines at debug.
type demoted struct{ hclog.Logger }

func (d demoted) Info(msg string, args ...any) { d.Logger.Debug(msg, args...) }

func (d demoted) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.Info {
		level = hclog.Debug
	}
	d.Logger.Log(level, msg, args...)
}

// startOnce starts one process of the plugin, with extra in its
// environment.
func startOnce(spec Spec, execPath string, extra []string, logger hclog.Logger) (*Process, error) {
	stderrLog := newStderrLog(logger, spec.Path, 20)
	stderr := stderrLog.tail

	cmd := exec.Command(execPath)
	cmd.Args[0] = spec.Path // what ps and the plugin's os.Args[0] show
	// Only what the plugin needs: its log level, where to put its socket,
	// and for a plugin that uses the network the network settings. Tokens
	// reach it through Configure, never through the environment or argv.
	cmd.Env = []string{plugin.LogLevelEnv + "=" + strings.ToLower(spec.LogLevel.String())}
	cmd.Env = append(cmd.Env, extra...)
	// Left to itself, go-plugin's server creates its socket as
	// plugin<random> in the plugin's os.TempDir() (/tmp, as the plugin has
	// no TMPDIR) and removes it only on a clean shutdown, so every plugin
	// that crashed or was killed left one behind. A directory of our own
	// (0700, in the host's temporary directory) is removed by Kill whatever
	// way the plugin ended.
	socketDir, err := makeSocketDir()
	if err != nil {
		logger.Warn("cannot create a socket directory for the plugin; it will use its own temporary directory", "error", err)
	} else {
		cmd.Env = append(cmd.Env, goplugin.EnvUnixSocketDir+"="+socketDir)
	}
	// Not the plugin directory, where the plugin would find whatever was
	// put next to it and resolve relative paths against it: /, which
	// always exists and where only root can add files.
	cmd.Dir = "/"
	setParentDeathSignal(cmd)

	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  plugin.Handshake,
		VersionedPlugins: plugin.VersionedPlugins(nil),
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		Cmd:              cmd,
		SkipHostEnv:      true,
		AutoMTLS:         true,
		StartTimeout:     spec.StartTimeout,
		Logger:           quietStderr{Logger: logger},
		Stderr:           stderrLog,
		// go-plugin accepts messages up to 2 GiB; a plugin is held to the
		// protocol's limit, so whatever it sends, the host never buffers
		// more than that.
		GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(maxReceive), grpc.MaxCallSendMsgSize(plugin.MaxMessageSize))},
	})

	p := &Process{client: client, stderr: stderr, exited: make(chan struct{}), socketDir: socketDir}
	if err := p.start(); err != nil {
		p.Kill()
		if execPath != spec.Path {
			// go-plugin's diagnostics name what it executed.
			err = errors.New(strings.ReplaceAll(err.Error(), execPath, spec.Path+" (run from a sealed in-memory copy)"))
		}
		return nil, p.startError(spec, err)
	}
	return p, nil
}

func (p *Process) startError(spec Spec, err error) error {
	msg := fmt.Sprintf("plugin %q (%s): %v", spec.Name, spec.Path, err)
	if lines := p.stderr.String(); lines != "" {
		msg += "\nlast lines of the plugin's stderr:\n" + lines
	}
	return fmt.Errorf("%w: %s", ErrStart, msg)
}

// Exited reports whether the plugin process has ended.
func (p *Process) Exited() bool { return p.client.Exited() }

// Pid is the plugin's process ID, or 0 before start.
func (p *Process) Pid() int {
	if rc := p.client.ReattachConfig(); rc != nil {
		return rc.Pid
	}
	return 0
}

// connect completes the handshake and dispenses the provider client.
func (p *Process) connect() error {
	rpc, err := p.client.Client()
	if err != nil {
		return explainHandshake(err)
	}
	if err := awaitTLS(rpc, p.Addr()); err != nil {
		p.killNow()
		return err
	}
	raw, err := rpc.Dispense(plugin.PluginName)
	if err != nil {
		return err
	}
	c, ok := raw.(*plugin.Client)
	if !ok {
		return fmt.Errorf("unexpected plugin client type %T", raw)
	}
	p.Client = c
	p.done = c.Done()
	return nil
}

// Done is closed when the plugin process has exited.
func (p *Process) Done() <-chan struct{} { return p.exited }

// Addr is where the plugin serves gRPC (a Unix socket on Linux).
func (p *Process) Addr() net.Addr {
	if rc := p.client.ReattachConfig(); rc != nil {
		return rc.Addr
	}
	return nil
}

// StderrTail returns the last lines the plugin wrote to stderr.
func (p *Process) StderrTail() string { return p.stderr.String() }

// Kill asks the plugin to shut down, then force-kills it after go-plugin's
// grace period, and removes the plugin's socket directory. Safe to call
// more than once.
func (p *Process) Kill() {
	p.client.Kill() // returns once the process has exited
	p.removeOnce.Do(func() {
		if p.socketDir != "" {
			_ = os.RemoveAll(p.socketDir)
		}
	})
}
