package host

import (
	"bytes"
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

	"github.com/secrethost/secrethost/host/catalog"
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

// skip marks the remaining steps as not run.
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

// diagnose runs the steps, then scrubs the result of every value read with
// env() or file() and every sensitive value the plugin was configured with.
func (in *instance) diagnose(ctx context.Context, full bool) Diagnosis {
	secrets := in.static
	d := in.diagnoseSteps(ctx, full, &secrets)
	d.Plugin, d.Path, d.SHA256 = scrub(d.Plugin, secrets), scrub(d.Path, secrets), scrub(d.SHA256, secrets)
	for i := range d.Steps {
		d.Steps[i].Detail = scrub(d.Steps[i].Detail, secrets)
		d.Steps[i].Fix = scrub(d.Steps[i].Fix, secrets)
	}
	return d
}

func (in *instance) diagnoseSteps(ctx context.Context, full bool, secrets *[]string) Diagnosis {
	d := in.newDiagnosis()
	later := []string{StepChecksum, StepStarts, StepProtocol}
	if full {
		later = append(later, StepConfigure, StepCheck)
	}

	path, err := in.locate()
	if err != nil {
		d.add(StepFound, StatusFailed, err.Error(), in.locateFix(err))
		d.skip(later...)
		return d
	}
	d.Path = path
	d.add(StepFound, StatusOK, path, "")

	sum, err := fileSHA256(path)
	switch {
	case err != nil:
		d.add(StepChecksum, StatusFailed, err.Error(), "make the plugin binary readable by the user running secrethost")
		d.skip(later[1:]...)
		return d
	case !d.Pinned:
		d.SHA256 = sum
		d.add(StepChecksum, StatusOK, "not pinned; sha256 "+sum,
			"")
	case !strings.EqualFold(sum, hex.EncodeToString(in.pin)):
		d.SHA256 = sum
		d.add(StepChecksum, StatusFailed,
			fmt.Sprintf("the binary's sha256 is %s, but %s pins %s; it was not executed", sum, in.spec.Pos, hex.EncodeToString(in.pin)),
			fmt.Sprintf("reinstall the plugin build you pinned; if you upgraded it on purpose, set sha256 = %q in the provider block at %s", sum, in.spec.Pos))
		d.skip(later[1:]...)
		return d
	default:
		d.SHA256 = sum
		d.add(StepChecksum, StatusOK, "matches the pin "+sum, "")
	}

	start := time.Now()
	proc, err := in.launch(ctx, path)
	if err != nil {
		d.add(StepStarts, StatusFailed, err.Error(),
			fmt.Sprintf("run %s by hand: a working plugin says it is a secrethost plugin and exits; anything else (a crash, a missing library, a different program) is the problem", path))
		d.skip(later[2:]...)
		return d
	}
	defer in.shutdown(proc)
	d.add(StepStarts, StatusOK, fmt.Sprintf("pid %d, handshake in %s", proc.Pid(), time.Since(start).Round(time.Millisecond)), "")

	info, err := proc.Provider.GetInfo(ctx, provider.InfoRequest{})
	if err != nil {
		d.add(StepProtocol, StatusFailed, "GetInfo: "+err.Error(), "the plugin does not answer GetInfo; reinstall it or report a bug to its author")
		d.skip(later[3:]...)
		return d
	}
	d.Info = &info
	if info.ProtocolVersion != provider.ProtocolVersion {
		d.add(StepProtocol, StatusFailed,
			fmt.Sprintf("plugin speaks protocol %d, this host speaks %d", info.ProtocolVersion, provider.ProtocolVersion),
			fmt.Sprintf("install a build of the plugin for protocol %d (one built against the same secrethost release)", provider.ProtocolVersion))
		d.skip(later[3:]...)
		return d
	}
	d.add(StepProtocol, StatusOK, fmt.Sprintf("protocol %d; %s %s; schemes %s", info.ProtocolVersion, info.Name, info.Version, schemeNames(info.Schemes)), "")
	if !full {
		return d
	}

	cfg := in.configFor(info)
	*secrets = in.configSecrets(info, cfg)
	resp, err := proc.Provider.Configure(ctx, provider.ConfigureRequest{Config: cfg})
	if err != nil {
		d.add(StepConfigure, StatusFailed, scrub(err.Error(), *secrets), in.configFix(info, cfg))
		d.skip(StepCheck)
		return d
	}
	detail := "accepted"
	if names := keys(cfg); len(names) > 0 {
		detail += "; settings given: " + strings.Join(names, ", ")
	}
	for _, w := range resp.Warnings {
		detail += "; warning: " + scrub(w, *secrets)
	}
	d.add(StepConfigure, StatusOK, detail, "")

	check, err := proc.Provider.Check(ctx, provider.CheckRequest{})
	if err != nil {
		d.add(StepCheck, StatusFailed, scrub(err.Error(), *secrets), in.checkFix(cfg))
		return d
	}
	failed := false
	for _, it := range check.Items {
		st, fix := StatusOK, ""
		if !it.OK {
			st, fix, failed = StatusFailed, in.checkFix(cfg), true
		}
		d.add(scrub(it.Name, *secrets), st, scrub(it.Detail, *secrets), fix)
	}
	if !check.Healthy && !failed {
		d.add(StepCheck, StatusFailed, "the provider reports itself unhealthy", in.checkFix(cfg))
	}
	if len(check.Items) == 0 && check.Healthy {
		d.add(StepCheck, StatusOK, "healthy", "")
	}
	return d
}

func (in *instance) locateFix(err error) string {
	dir := in.host.ShownPluginDir()
	switch {
	case errors.Is(err, catalog.ErrNotFound):
		return fmt.Sprintf("install the plugin binary as %s/%s (make build puts plugins in bin/plugins), or point plugin_dir in the configuration at the directory that holds it", dir, in.shownPlugin())
	case errors.Is(err, catalog.ErrUnsafe):
		return "make the plugin a regular, executable file that only root or the user running secrethost may replace, in a directory only they may write; the detail names the path and the command to run"
	case errors.Is(err, catalog.ErrOutsideDir):
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

func schemeNames(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(x + "://")
	}
	return b.String()
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return slices.Compact(out)
}
