package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/secrethost/secrethost/host/plugindir"
	"github.com/secrethost/secrethost/shared/provider"
)

// Status is the outcome of one diagnosis step.
type Status string

const (
	StatusOK      Status = "ok"
	StatusFailed  Status = "fail"
	StatusSkipped Status = "skipped"
)

// Step is one check of a provider, in the order they run: binary found,
// checksum, start, protocol, configuration, then the provider's own health
// items. Details and fixes name files, attributes and the providers' own
// messages; never a secret value.
type Step struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Fix says what to do about a failed step, in words.
	Fix string `json:"fix,omitempty"`
}

// Diagnosis describes one configured provider and how far it got.
type Diagnosis struct {
	Provider string `json:"provider"`
	Plugin   string `json:"plugin"`
	Pos      string `json:"config_pos"`
	// Path is the plugin binary, once found.
	Path string `json:"path,omitempty"`
	// SHA256 is the binary's checksum (hex), once found; Pinned says
	// whether the configuration pins it.
	SHA256 string `json:"sha256,omitempty"`
	Pinned bool   `json:"pinned"`
	// Info is the plugin's self-description, once it started.
	Info  *provider.InfoResponse `json:"info,omitempty"`
	Steps []Step                 `json:"steps"`
}

// OK reports whether no step failed.
func (d *Diagnosis) OK() bool {
	for _, s := range d.Steps {
		if s.Status == StatusFailed {
			return false
		}
	}
	return true
}

// Diagnose checks every configured provider from the ground up, each in a
// fresh plugin process that is stopped again before Diagnose returns: the
// binary, its pin, start-up, protocol, configuration, and the provider's
// Check (backend reachable, credentials accepted, what it can see). It
// never returns secret values and does not use or disturb the plugins the
// Host runs for Resolve.
func (h *Host) Diagnose(ctx context.Context) []Diagnosis {
	return h.diagnoseAll(ctx, true)
}

// Describe starts each configured provider just far enough to learn what it
// is (binary, checksum, version, protocol, schemes, configuration schema),
// without configuring it, and stops it again. Failures are steps, as in
// Diagnose.
func (h *Host) Describe(ctx context.Context) []Diagnosis {
	return h.diagnoseAll(ctx, false)
}

func (h *Host) diagnoseAll(ctx context.Context, full bool) []Diagnosis {
	out := make([]Diagnosis, len(h.providers))
	if err := h.usable(); err != nil {
		for i, in := range h.providers {
			out[i] = in.newDiagnosis()
			out[i].add("host", StatusFailed, err.Error(), "")
		}
		return out
	}
	var wg sync.WaitGroup
	for i, in := range h.providers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = in.diagnose(ctx, full)
		}()
	}
	wg.Wait()
	return out
}

func (in *instance) newDiagnosis() Diagnosis {
	return Diagnosis{Provider: in.spec.Name, Plugin: in.shownPlugin(), Pos: in.spec.Pos, Pinned: len(in.pin) > 0}
}

func (d *Diagnosis) add(name string, st Status, detail, fix string) {
	d.Steps = append(d.Steps, Step{Name: name, Status: st, Detail: detail, Fix: fix})
}

// skip marks steps as not run.
func (d *Diagnosis) skip(names ...string) {
	for _, n := range names {
		d.add(n, StatusSkipped, "not run: an earlier step failed", "")
	}
}

// Step names, shared by Diagnose and Describe.
const (
	StepFound     = "plugin binary found"
	StepChecksum  = "checksum"
	StepStarts    = "plugin starts"
	StepProtocol  = "protocol version"
	StepConfigure = "configuration valid"
	StepCheck     = "backend check"
)

// fact is something a diagnosis has established, which later steps need.
type fact uint8

const (
	hasPath     fact = 1 << iota // the binary is found (run.path)
	hasVerified                  // its checksum is known and matches any pin
	hasProcess                   // it runs (run.proc)
	hasInfo                      // it described itself in our protocol (run.info)
	hasConfig                    // it accepted its configuration (run.cfg)
)

// diagRun is one diagnosis in progress: what the steps have established.
type diagRun struct {
	in    *instance
	d     *Diagnosis
	facts fact
	path  string
	proc  *process
	info  provider.InfoResponse
	cfg   map[string]string
}

// diagStep is one row of the diagnosis: its name, what it needs from
// earlier steps, whether only Diagnose runs it (it configures the plugin),
// and what it does. run reports its outcome with d.add (one step, or
// several: the provider's own health items) and returns the facts it
// established; a step that reports a failure stops the diagnosis, and the
// steps whose needs are then unmet are reported as skipped.
type diagStep struct {
	name  string
	needs fact
	full  bool
	run   func(r *diagRun, ctx context.Context) fact
}

// diagSteps is the table Diagnose and Describe run, in order. The starts,
// protocol and configuration steps are the lifecycle's own (launch,
// checkInfo, configure), run on a process of the diagnosis's own.
var diagSteps = []diagStep{
	{StepFound, 0, false, (*diagRun).found},
	{StepChecksum, hasPath, false, (*diagRun).checksum},
	{StepStarts, hasVerified, false, (*diagRun).starts},
	{StepProtocol, hasProcess, false, (*diagRun).protocol},
	{StepConfigure, hasInfo, true, (*diagRun).configure},
	{StepCheck, hasConfig, true, (*diagRun).check},
}

// diagnose runs the table, then scrubs the result of every value read with
// env() or file() and every sensitive value the plugin was configured with:
// what the plugin said has been scrubbed by the redaction layer already,
// but the host's own words here name paths and settings from the
// configuration.
func (in *instance) diagnose(ctx context.Context, full bool) Diagnosis {
	d := in.newDiagnosis()
	r := &diagRun{in: in, d: &d}
	failed := false
	for _, st := range diagSteps {
		if st.full && !full {
			continue
		}
		if failed || r.facts&st.needs != st.needs {
			d.skip(st.name)
			continue
		}
		n := len(d.Steps)
		r.facts |= st.run(r, ctx)
		for _, s := range d.Steps[n:] {
			failed = failed || s.Status == StatusFailed
		}
	}
	secrets := in.static
	if r.proc != nil {
		secrets = r.proc.secretsNow()
		in.shutdown(r.proc)
	}
	d.Plugin, d.Path, d.SHA256 = scrub(d.Plugin, secrets), scrub(d.Path, secrets), scrub(d.SHA256, secrets)
	for i := range d.Steps {
		d.Steps[i].Name = scrub(d.Steps[i].Name, secrets)
		d.Steps[i].Detail = scrub(d.Steps[i].Detail, secrets)
		d.Steps[i].Fix = scrub(d.Steps[i].Fix, secrets)
	}
	return d
}

func (r *diagRun) found(context.Context) fact {
	path, err := r.in.locate()
	if err != nil {
		r.d.add(StepFound, StatusFailed, err.Error(), r.in.locateFix(err))
		return 0
	}
	r.path, r.d.Path = path, path
	r.d.add(StepFound, StatusOK, path, "")
	return hasPath
}

func (r *diagRun) checksum(context.Context) fact {
	in, d := r.in, r.d
	sum, err := fileSHA256(r.path)
	switch {
	case err != nil:
		d.add(StepChecksum, StatusFailed, err.Error(), "make the plugin binary readable by the user running secrethost")
		return 0
	case !d.Pinned:
		d.SHA256 = sum
		d.add(StepChecksum, StatusOK, "not pinned; sha256 "+sum, "")
	case !strings.EqualFold(sum, hex.EncodeToString(in.pin)):
		d.SHA256 = sum
		d.add(StepChecksum, StatusFailed,
			fmt.Sprintf("the binary's sha256 is %s, but %s pins %s; it was not executed", sum, in.spec.Pos, hex.EncodeToString(in.pin)),
			fmt.Sprintf("reinstall the plugin build you pinned; if you upgraded it on purpose, set sha256 = %q in the provider block at %s", sum, in.spec.Pos))
		return 0
	default:
		d.SHA256 = sum
		d.add(StepChecksum, StatusOK, "matches the pin "+sum, "")
	}
	return hasVerified
}

func (r *diagRun) starts(ctx context.Context) fact {
	start := time.Now()
	proc, err := r.in.launch(ctx, r.path)
	if err != nil {
		r.d.add(StepStarts, StatusFailed, err.Error(),
			fmt.Sprintf("run %s by hand: a working plugin says it is a secrethost plugin and exits; anything else (a crash, a missing library, a different program) is the problem", r.path))
		return 0
	}
	r.proc = proc
	r.d.add(StepStarts, StatusOK, fmt.Sprintf("pid %d, handshake in %s", proc.Pid(), time.Since(start).Round(time.Millisecond)), "")
	return hasProcess
}

func (r *diagRun) protocol(ctx context.Context) fact {
	info, err := r.proc.Provider.GetInfo(ctx, provider.InfoRequest{})
	if err != nil {
		r.d.add(StepProtocol, StatusFailed, "GetInfo: "+err.Error(), "the plugin does not answer GetInfo; reinstall it or report a bug to its author")
		return 0
	}
	r.d.Info = &info
	var perr *protocolError
	switch err := r.in.checkInfo(info); {
	case errors.As(err, &perr):
		r.d.add(StepProtocol, StatusFailed, err.Error(),
			fmt.Sprintf("install a build of the plugin for protocol %d (one built against the same secrethost release)", provider.ProtocolVersion))
		return 0
	case err != nil:
		r.d.add(StepProtocol, StatusFailed, err.Error(),
			fmt.Sprintf("set schemes in the provider block at %s to the schemes the plugin handles, or remove it", r.in.spec.Pos))
		return 0
	}
	r.info, r.proc.info = info, info
	r.d.add(StepProtocol, StatusOK, fmt.Sprintf("protocol %d; %s %s; schemes %s", info.ProtocolVersion, info.Name, info.Version, provider.SchemeList(info.Schemes)), "")
	return hasInfo
}

func (r *diagRun) configure(ctx context.Context) fact {
	in := r.in
	r.cfg = in.configFor(r.info)
	warnings, err := in.configure(ctx, r.proc, false)
	if err != nil {
		r.d.add(StepConfigure, StatusFailed, err.Error(), in.configFix(r.info, r.cfg))
		return 0
	}
	detail := "accepted"
	if names := keys(r.cfg); len(names) > 0 {
		detail += "; settings given: " + strings.Join(names, ", ")
	}
	for _, w := range warnings {
		detail += "; warning: " + w
	}
	r.d.add(StepConfigure, StatusOK, detail, "")
	return hasConfig
}

func (r *diagRun) check(ctx context.Context) fact {
	in, d := r.in, r.d
	check, err := r.proc.Provider.Check(ctx, provider.CheckRequest{})
	if err != nil {
		d.add(StepCheck, StatusFailed, err.Error(), in.checkFix(r.cfg))
		return 0
	}
	failed := false
	for _, it := range check.Items {
		st, fix := StatusOK, ""
		if !it.OK {
			st, fix, failed = StatusFailed, in.checkFix(r.cfg), true
		}
		d.add(it.Name, st, it.Detail, fix)
	}
	if !check.Healthy && !failed {
		d.add(StepCheck, StatusFailed, "the provider reports itself unhealthy", in.checkFix(r.cfg))
	}
	if len(check.Items) == 0 && check.Healthy {
		d.add(StepCheck, StatusOK, "healthy", "")
	}
	return 0
}

func (in *instance) locateFix(err error) string {
	dir := in.host.ShownPluginDir()
	switch {
	case errors.Is(err, plugindir.ErrNotFound):
		return fmt.Sprintf("install the plugin binary as %s/%s (make build puts plugins in bin/plugins), or point plugin_dir in the configuration at the directory that holds it", dir, in.shownPlugin())
	case errors.Is(err, plugindir.ErrUnsafe):
		return "make the plugin a regular, executable file that only root or the user running secrethost may replace, in a directory only they may write; the detail names the path and the command to run"
	case errors.Is(err, plugindir.ErrOutsideDir):
		return fmt.Sprintf("plugins must live inside the plugin directory %s; set plugin to a file name in it (provider block at %s)", dir, in.spec.Pos)
	default:
		return fmt.Sprintf("check that the plugin directory %s exists and is readable", dir)
	}
}

func (in *instance) configFix(info provider.InfoResponse, given map[string]string) string {
	var required, all []string
	for _, a := range info.ConfigSchema {
		all = append(all, a.Name)
		if a.Required {
			required = append(required, a.Name)
		}
	}
	var b strings.Builder
	b.WriteString("fix the setting the message names")
	if len(required) > 0 {
		fmt.Fprintf(&b, "; required: %s", strings.Join(required, ", "))
	}
	if len(all) > 0 {
		fmt.Fprintf(&b, "; accepted: %s", strings.Join(all, ", "))
	}
	if names := keys(given); len(names) > 0 {
		fmt.Fprintf(&b, "; given now: %s", strings.Join(names, ", "))
	} else {
		b.WriteString("; none is set now")
	}
	fmt.Fprintf(&b, ". Set them in the config map of the provider block at %s", in.spec.Pos)
	if in.spec.ConfigFromEnv {
		b.WriteString(", or as environment variables of the same name (config_from_env is on)")
	}
	return b.String()
}

func (in *instance) checkFix(given map[string]string) string {
	msg := "the detail says what the backend answered: check that its address is right and reachable from here, and that the credentials are current and allowed to read the vaults you use"
	if names := keys(given); len(names) > 0 {
		msg += "; settings now given: " + strings.Join(names, ", ")
	}
	return msg + " (provider block at " + in.spec.Pos + ")"
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return slices.Compact(out)
}
