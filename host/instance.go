package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/host/config"
	"github.com/secrethost/secrethost/host/plugindir"
	"github.com/secrethost/secrethost/shared/launch"
	"github.com/secrethost/secrethost/shared/plugin"
	"github.com/secrethost/secrethost/shared/provider"
)

// ErrCrashed: a plugin crashed, was restarted, and crashed again.
var ErrCrashed = errors.New("plugin crashed again after a restart")

// The lifecycle of a provider's plugin process. There is one per provider
// instance (Diagnose and Describe run the same steps on processes of their
// own, see diagnose.go):
//
//	stopped ──launch, GetInfo, protocol and schemes checked──▶ described
//	described ──Configure accepted──▶ configured
//	described ──Configure refused (invalid_config)──▶ rejected
//	any ──exits, crashes, hangs after a deadline, Close──▶ stopped
//
// A described process answers what needs no configuration (its schema, for
// SensitiveEnv); a rejected one serves Validate only, and is stopped after
// that call; a configured one serves everything. A step that fails leaves
// no process behind: the next call starts from stopped again.
type state int

const (
	stateStopped    state = iota // no process
	stateDescribed               // process up, GetInfo answered, protocol checked once
	stateRejected                // described, and Configure refused the configuration
	stateConfigured              // configured: serves every call
)

func (s state) String() string {
	return [...]string{"stopped", "described", "rejected", "configured"}[s]
}

// need is what a call needs of the process.
type need int

const (
	needDescribed  need = iota // its self-description (schema, schemes)
	needValidate               // configured if the configuration is accepted, else rejected will do
	needConfigured             // configured
)

func (s state) serves(n need) bool {
	switch n {
	case needDescribed:
		return s >= stateDescribed
	case needValidate:
		return s == stateRejected || s == stateConfigured
	default:
		return s == stateConfigured
	}
}

// instance is one configured provider and, once started, its process.
type instance struct {
	spec config.ProviderBlock
	pin  []byte
	host *Host
	log  hclog.Logger

	// staticRaw are the configuration's values read with env() or file()
	// (and plugin paths derived from them); static is them in every form
	// to scrub (secretForms). Fixed at New.
	staticRaw, static []string

	mu   sync.Mutex
	proc *process // nil when stopped
	// step is the lifecycle step in progress, if any: every caller that
	// needs the plugin meanwhile waits for it, each only as long as its own
	// context allows.
	step *advance
	// secrets are static plus, from the moment the plugin is configured,
	// the values of sensitive attributes it is configured with: scrubbed
	// from whatever the plugin and the logger say. Atomic, so the logger
	// can read it from any goroutine.
	secrets atomic.Pointer[[]string]
}

// advance is one move of the lifecycle towards need, shared by the callers
// waiting for it; err and refused are set before done is closed.
type advance struct {
	need need
	done chan struct{}
	err  error
	// refused: Configure refused the configuration (invalid_config); err
	// says why. The process is kept, in stateRejected, when the step was
	// for Validate.
	refused bool
	// retire is a rejected process this step replaces.
	retire *process
}

// process is one started plugin, where it is in the lifecycle, and what
// the host did to it.
type process struct {
	*launch.Process
	// Provider is the plugin's client behind the redaction layer: every
	// call of the host goes through it. Only launch (below) reaches the
	// raw client (launch.Process.Client).
	Provider provider.Provider
	// info is the plugin's self-description, set when it is described.
	info provider.InfoResponse
	// state and rejected (why Configure refused) change under the
	// instance's mu.
	state    state
	rejected error
	// secrets is what the redaction layer scrubs for this process.
	secrets atomic.Pointer[[]string]
	// stopped: the host killed it (Close, or it hung after a deadline), so
	// a call it breaks is not a crash.
	stopped atomic.Bool
	probing atomic.Bool
}

func (p *process) secretsNow() []string { return *p.secrets.Load() }

// ready returns the instance's process once it serves n, moving it along
// the lifecycle as far as needed. Concurrent callers share each step, which
// runs on its own (bounded by launch.DefaultStartTimeout, not by the caller
// that happened to begin it): a caller that gives up stops waiting, and the
// step goes on for the others.
func (in *instance) ready(ctx context.Context, n need) (*process, error) {
	for {
		in.mu.Lock()
		if p := in.proc; p != nil {
			select {
			case <-p.Done():
				in.log.Warn("plugin exited; starting it again")
				p.Kill()
				in.proc = nil
			default:
				if p.state.serves(n) {
					in.mu.Unlock()
					return p, nil
				}
			}
		}
		if err := in.host.usable(); err != nil {
			in.mu.Unlock()
			return nil, err
		}
		a := in.step
		if a == nil {
			a = &advance{need: n, done: make(chan struct{})}
			if p := in.proc; p != nil && p.state == stateRejected {
				// Configured again from scratch, in a fresh process: the
				// environment or a token file may have changed since.
				in.proc, a.retire = nil, p
			}
			in.step = a
			go in.run(context.WithoutCancel(ctx), a)
		}
		in.mu.Unlock()
		select {
		case <-a.done:
		case <-ctx.Done():
			return nil, in.errorf("starting the plugin: %s: %w", endedBy(ctx.Err()), ctx.Err())
		}
		if a.err != nil && !(a.refused && n == needValidate) {
			return nil, a.err
		}
		// Further along now (or stopped again already, by Close or a
		// probe; or a step for Resolve was refused its configuration, and
		// Validate needs a step of its own that keeps the process): look
		// once more.
	}
}

// run moves the process towards a.need: from stopped to described, then,
// unless only a description is needed, to configured or rejected.
func (in *instance) run(ctx context.Context, a *advance) {
	ctx, cancel := context.WithTimeout(ctx, launch.DefaultStartTimeout)
	defer cancel()
	if a.retire != nil {
		a.retire.stopped.Store(true)
		in.shutdown(a.retire)
	}
	in.mu.Lock()
	p := in.proc
	in.mu.Unlock()

	var err error
	if p == nil {
		p, err = in.describe(ctx)
	}
	next, why, refused := stateDescribed, error(nil), false
	if err == nil && a.need != needDescribed && p.state == stateDescribed {
		var warnings []string
		if warnings, err = in.configure(ctx, p, true); err != nil {
			err = in.configureError(err)
		}
		switch {
		case err == nil:
			next = stateConfigured
			for _, w := range warnings {
				in.log.Warn(w)
			}
			in.log.Debug("plugin started", "pid", p.Pid(), "plugin_version", p.info.Version, "schemes", p.info.Schemes, "network_settings", p.NetworkEnv)
		case !errors.Is(err, provider.ErrInvalidConfig):
		case a.need != needValidate:
			refused = true
		default:
			// Kept for Validate, which needs no configuration.
			refused = true
			in.log.Debug("configuration rejected; the described plugin serves Validate only", "error", err)
			next, why = stateRejected, err
		}
	}

	var drop *process
	in.mu.Lock()
	switch {
	case p == nil:
	case in.host.usable() != nil:
		// Closed meanwhile: Close waits for this step, and its process
		// must not outlive the host.
		err, drop = in.host.usable(), p
	case err != nil && next != stateRejected:
		drop = p
	default:
		if p.state == stateDescribed {
			p.state, p.rejected = next, why
		}
	}
	if drop != nil && in.proc == drop {
		in.proc = nil
	} else if drop == nil && p != nil {
		in.proc = p
	}
	a.err, a.refused = err, refused
	in.step = nil
	in.mu.Unlock()
	if drop != nil {
		drop.stopped.Store(true)
		in.shutdown(drop)
	}
	close(a.done)
}

// retireRejected stops the instance's process if it is (still) a rejected
// one: it served a Validate call and is of no use to anything else.
func (in *instance) retireRejected() {
	in.mu.Lock()
	p := in.proc
	if p == nil || p.state != stateRejected || in.step != nil {
		in.mu.Unlock()
		return
	}
	in.proc = nil
	in.mu.Unlock()
	p.stopped.Store(true)
	in.shutdown(p)
}

// describe is the first step: find and launch the plugin, ask GetInfo, and
// check its protocol and schemes (checkInfo). It returns a process in
// stateDescribed.
func (in *instance) describe(ctx context.Context) (*process, error) {
	path, err := in.locate()
	if err != nil {
		return nil, in.errorf("%w", err)
	}
	p, err := in.launch(ctx, path)
	if err != nil {
		return nil, in.errorf("%w", err)
	}
	info, err := p.Provider.GetInfo(ctx, provider.InfoRequest{})
	if err == nil {
		err = in.checkInfo(info)
	}
	if err != nil {
		p.Kill()
		var cerr *ConfigError
		if errors.As(err, &cerr) {
			return nil, err
		}
		return nil, in.errorf("GetInfo: %w", err)
	}
	p.info, p.state = info, stateDescribed
	return p, nil
}

// protocolError: the plugin speaks another protocol version than the host.
type protocolError struct{ got int }

func (e *protocolError) Error() string {
	return fmt.Sprintf("plugin speaks protocol %d, this host speaks %d", e.got, provider.ProtocolVersion)
}

// checkInfo is the one check of a plugin's self-description: its protocol
// version, and, when the provider block declares schemes or network use,
// that the plugin's schema agrees.
func (in *instance) checkInfo(info provider.InfoResponse) error {
	if info.ProtocolVersion != provider.ProtocolVersion {
		return &protocolError{info.ProtocolVersion}
	}
	if declared := in.spec.Schemes; len(declared) > 0 {
		got := lowered(info.Schemes)
		if !slices.Equal(got, lowered(declared)) {
			return &ConfigError{in.errorf("the plugin handles %s, but the provider block declares schemes = %s; make the two lists agree (or drop schemes to take the plugin's)",
				provider.SchemeList(got), provider.SchemeList(lowered(declared)))}
		}
	}
	if declared := in.spec.Network; declared != nil && *declared != info.UsesNetwork {
		says := "does not use the network"
		if info.UsesNetwork {
			says = "uses the network"
		}
		return &ConfigError{in.errorf("the plugin's schema says it %s, but the provider block declares network = %t; make the two agree (or drop network to take the plugin's word)", says, *declared)}
	}
	return nil
}

func lowered(s []string) []string {
	out := make([]string, 0, len(s))
	for _, x := range s {
		out = append(out, strings.ToLower(x))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// configure is the second step: Configure with the provider's settings
// (configFor). The values to scrub are set before the call, so that the
// plugin's answer and its logs during the call are scrubbed of them too;
// shared says they are the instance's (its logger's) as well. The error
// and warnings come back through the redaction layer, as the plugin said
// them.
func (in *instance) configure(ctx context.Context, p *process, shared bool) ([]string, error) {
	cfg := in.configFor(p.info)
	secrets := in.configSecrets(p.info, cfg)
	p.secrets.Store(&secrets)
	if shared {
		in.secrets.Store(&secrets)
	}
	resp, err := p.Provider.Configure(ctx, provider.ConfigureRequest{Config: cfg})
	return resp.Warnings, err
}

// configureError is how the lifecycle reports a failed Configure: a
// *ConfigError when the plugin refused the configuration (invalid_config).
func (in *instance) configureError(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return in.errorf("starting the plugin: %s: %w", endedBy(err), err)
	}
	err = in.errorf("configuration rejected: %w", err)
	if errors.Is(err, provider.ErrInvalidConfig) {
		err = &ConfigError{err}
	}
	return err
}

// locate finds the plugin binary; when plugin or plugin_dir was read with
// env() or file(), its errors name no path derived from them.
func (in *instance) locate() (string, error) {
	path, err := plugindir.LocateSecret(in.host.pluginDir, in.spec.Plugin, in.host.pluginDirSecret, in.spec.IsSecret("plugin"))
	return path, in.host.explainLocate(err)
}

// shownPlugin is the plugin name for a message.
func (in *instance) shownPlugin() string {
	if in.spec.IsSecret("plugin") {
		return "(plugin, read with env() or file(), not shown)"
	}
	return in.spec.Plugin
}

// launch starts the plugin binary at path with this provider's pin, log
// level and logger, behind the redaction layer. Its errors are scrubbed of
// the configuration's env() and file() values.
func (in *instance) launch(ctx context.Context, path string) (*process, error) {
	lp, err := launch.Start(ctx, launch.Spec{
		Name:     in.spec.Name,
		Path:     path,
		SHA256:   in.pin,
		LogLevel: in.host.log.GetLevel(),
		Logger:   in.log,
		// Only for a plugin whose schema says it uses the network.
		NetworkEnv: in.host.net.env,
		Network:    in.spec.Network,
	})
	if err != nil {
		return nil, scrubError(err, in.static)
	}
	p := &process{Process: lp}
	p.secrets.Store(&in.static)
	p.Provider = redacting(lp.Client, p.secretsNow)
	return p, nil
}

// shutdown asks the plugin to Close, then kills its process.
func (in *instance) shutdown(proc *process) {
	ctx, cancel := context.WithTimeout(context.Background(), launch.CloseTimeout)
	defer cancel()
	if err := proc.Provider.Close(ctx); err != nil {
		in.log.Debug("plugin Close failed", "error", err)
	}
	proc.Kill()
}

// configFor builds the Configure map: declared environment variables first
// (config_from_env), then the explicit config map on top. Only declared
// names are read, so the plugin never sees the rest of the environment.
//
// A relative value of an attribute the schema marks Path or SecretFile is
// made absolute, so that it means what the person who wrote it meant
// whatever the plugin's working directory: one from the environment against
// the caller's working directory, one from the config map against the
// configuration file's directory (the working directory for the built-in
// default). A plugin never receives a relative path; empty stays empty.
func (in *instance) configFor(info provider.InfoResponse) map[string]string {
	isPath := map[string]bool{}
	for _, attr := range info.ConfigSchema {
		if attr.Path || attr.SecretFile {
			isPath[attr.Name] = true
		}
	}
	cfg := map[string]string{}
	if in.spec.ConfigFromEnv {
		for _, attr := range info.ConfigSchema {
			if v, ok := in.host.lookupEnv(attr.Name); ok && v != "" {
				if isPath[attr.Name] {
					v = absPath(v, "")
				}
				cfg[attr.Name] = v
			}
		}
	}
	for k, v := range in.spec.Config {
		if isPath[k] {
			v = absPath(v, in.spec.Dir)
		}
		cfg[k] = v
	}
	return cfg
}

// absPath makes a relative path absolute against base, or against the
// working directory when base is "". "" and absolute paths are returned as
// they are.
func absPath(p, base string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	if base == "" {
		wd, err := os.Getwd()
		if err != nil {
			return p // the plugin then reports the path it cannot use
		}
		base = wd
	}
	return filepath.Join(base, p)
}

// DefaultProbeTimeout is how long a plugin has to answer a liveness probe
// (GetInfo) after one of its calls ran past its deadline. A plugin that
// answers keeps serving; one that does not is stuck and is stopped.
const DefaultProbeTimeout = 3 * time.Second

// maxRestarts bounds how often one call follows a plugin the host itself
// stopped (after another caller's deadline, say) into a fresh process.
const maxRestarts = 3

// call runs fn against the plugin. Only the caller's own call ends with its
// context: a cancelled or timed-out caller never stops the process the
// other callers share. After a deadline the plugin is probed in the
// background and stopped only if it does not answer within the grace period
// (DefaultProbeTimeout). A plugin that died on its own is restarted once;
// if the fresh process dies too, the error says so (ErrCrashed). A process
// the host stopped is not a crash: the call moves to a fresh one.
func (in *instance) call(ctx context.Context, n need, method string, fn func(provider.Provider) error) error {
	crashes, restarts := 0, 0
	for {
		proc, err := in.ready(ctx, n)
		if err != nil {
			return err
		}
		err = fn(proc.Provider)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, plugin.ErrPluginUnavailable) && !proc.stopped.Load():
			// The process ended without the host stopping it: a crash.
			tail := in.scrub(proc.StderrTail())
			in.discard(proc, "crashed")
			crashes++
			if ctx.Err() != nil {
				return in.errorf("%s: the plugin crashed, and the call was %s: %w", method, endedBy(ctx.Err()), ctx.Err())
			}
			if crashes == 1 {
				in.log.Warn("plugin crashed; restarting it", "method", method, "pid", proc.Pid())
				continue
			}
			msg := in.errorf("%s: %w", method, ErrCrashed)
			if tail != "" {
				msg = fmt.Errorf("%w\nlast lines of the plugin's stderr:\n%s", msg, tail)
			}
			return msg
		case errors.Is(err, plugin.ErrPluginUnavailable):
			// The host stopped this process under the call (it hung after
			// someone's deadline, or the host is closing).
			if err := in.host.usable(); err != nil {
				return err
			}
			if ctx.Err() != nil {
				return in.errorf("%s: %s: %w", method, endedBy(ctx.Err()), ctx.Err())
			}
			if restarts++; restarts <= maxRestarts {
				in.log.Debug("plugin was stopped during the call; retrying with a fresh one", "method", method)
				continue
			}
			return in.errorf("%s: %w", method, ErrStopped)
		case errors.Is(err, context.Canceled):
			// The caller gave up: its own call ends, the plugin serves on.
			in.log.Debug("call cancelled by its caller", "method", method)
			return in.errorf("%s: cancelled: %w", method, context.Canceled)
		case errors.Is(err, context.DeadlineExceeded):
			// The error's cause, not ctx: gRPC's own deadline timer can
			// fire a moment before ctx reports it.
			in.log.Warn("call exceeded its deadline; checking that the plugin still answers", "method", method)
			in.probe(proc)
			return in.errorf("%s: deadline exceeded: %w", method, context.DeadlineExceeded)
		default:
			return in.errorf("%s: %w", method, err) // scrubbed by the redaction layer
		}
	}
}

// ErrStopped: the host stopped the plugin under a call again and again.
var ErrStopped = errors.New("plugin was stopped by the host during the call (it did not answer after a deadline)")

func endedBy(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "deadline exceeded"
	}
	return "cancelled"
}

// probe asks proc, in the background, whether it still answers, and stops
// it if it does not answer within the grace period: a plugin that ignores
// its deadlines and no longer serves anything is stuck for good. One probe
// at a time per process.
func (in *instance) probe(proc *process) {
	if !proc.probing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer proc.probing.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), in.host.probeTimeout)
		defer cancel()
		_, err := proc.Provider.GetInfo(ctx, provider.InfoRequest{})
		switch {
		case errors.Is(err, plugin.ErrPluginUnavailable):
			// Gone already; the next call starts a fresh one.
		case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
			in.log.Warn("plugin did not answer within the grace period after a deadline; stopping it",
				"pid", proc.Pid(), "grace", in.host.probeTimeout)
			in.discard(proc, "stuck")
		default:
			// It answered (an error in its answer is still an answer).
			in.log.Debug("plugin still answers after a deadline; keeping it", "pid", proc.Pid())
		}
	}()
}

// discard kills proc, marking it as stopped by the host unless it died on
// its own (why says which), and forgets it unless another caller already
// replaced it.
func (in *instance) discard(proc *process, why string) {
	if why != "crashed" {
		proc.stopped.Store(true)
	}
	in.mu.Lock()
	if in.proc == proc {
		in.proc = nil
	}
	in.mu.Unlock()
	proc.Kill()
}

func (in *instance) stop() {
	in.mu.Lock()
	proc, a := in.proc, in.step
	in.proc = nil
	in.mu.Unlock()
	if a != nil {
		<-a.done // its process is stopped as it sees the host closed
	}
	if proc != nil {
		proc.stopped.Store(true)
		in.shutdown(proc)
	}
}

func (in *instance) errorf(format string, args ...any) error {
	return fmt.Errorf("provider %q (%s): %w", in.spec.Name, in.spec.Pos, fmt.Errorf(format, args...))
}
