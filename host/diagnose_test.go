package host_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/secrethost/secrethost/host"
	"github.com/secrethost/secrethost/host/config"
	"github.com/secrethost/secrethost/shared/provider"
)

func TestValidateRoutesBySchemeAndKeepsOrder(t *testing.T) {
	h := newHost(t,
		config.ProviderBlock{Name: "file", Config: map[string]string{"dir": t.TempDir()}},
		config.ProviderBlock{Name: "test"},
	)
	refs := []string{"file://ok", "file://../bad", "test://anything", "vault://x", "file://ok", "no-scheme"}
	res, err := h.Validate(ctx(t), refs)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(refs) {
		t.Fatalf("%d results for %d references", len(res), len(refs))
	}
	wantOK := []bool{true, false, true, false, true, false}
	for i, r := range res {
		if r.Reference != refs[i] {
			t.Errorf("result %d is for %q, want %q", i, r.Reference, refs[i])
		}
		if (r.Err == nil) != wantOK[i] {
			t.Errorf("%s: err = %v, want ok=%v", refs[i], r.Err, wantOK[i])
		}
		if r.Err != nil && r.Err.Code != provider.CodeInvalidReference {
			t.Errorf("%s: code %s", refs[i], r.Err.Code)
		}
	}
	if !strings.Contains(res[3].Err.Message, "not a reference of a configured scheme (the value is not shown)") {
		t.Errorf("unrouted reference: %v", res[3].Err)
	}
	schemes, err := h.Schemes(ctx(t))
	if err != nil || !slices.Equal(schemes, []string{"file", "test"}) {
		t.Errorf("Schemes = %v, %v", schemes, err)
	}
	h.Close()
	if _, err := h.Validate(ctx(t), refs); !errors.Is(err, host.ErrClosed) {
		t.Errorf("Validate after Close: %v", err)
	}
}

func stepsOf(d host.Diagnosis) map[string]host.Step {
	m := map[string]host.Step{}
	for _, s := range d.Steps {
		m[s.Name] = s
	}
	return m
}

func TestDiagnoseHealthyProvider(t *testing.T) {
	dir := t.TempDir()
	h := newHost(t, config.ProviderBlock{Name: "file", Config: map[string]string{"dir": dir}})
	ds := h.Diagnose(ctx(t))
	if len(ds) != 1 {
		t.Fatalf("%d diagnoses", len(ds))
	}
	d := ds[0]
	if !d.OK() || d.Info == nil || d.Info.Version != "0.1.0" || len(d.SHA256) != 64 || d.Path == "" {
		t.Fatalf("diagnosis: %+v", d)
	}
	var names []string
	for _, s := range d.Steps {
		names = append(names, s.Name)
		if s.Status != host.StatusOK {
			t.Errorf("step %s: %s %s", s.Name, s.Status, s.Detail)
		}
	}
	want := []string{host.StepFound, host.StepChecksum, host.StepStarts, host.StepProtocol, host.StepConfigure, "directory readable"}
	if !slices.Equal(names, want) {
		t.Errorf("steps %q, want %q", names, want)
	}
	// Diagnose uses its own process: the host still resolves afterwards.
	os.WriteFile(filepath.Join(dir, "a"), []byte("A"), 0o600)
	if v, err := h.GetSecret(ctx(t), "file://a"); err != nil || v != "A" {
		t.Errorf("GetSecret after Diagnose: %q, %v", v, err)
	}
}

func TestDiagnoseFailuresSayWhatToDo(t *testing.T) {
	dir := pluginDir(t)
	h := newHost(t,
		config.ProviderBlock{Name: "missing", Plugin: "no-such-plugin"},
		config.ProviderBlock{Name: "pinned", Plugin: "file", SHA256: strings.Repeat("0", 64)},
		config.ProviderBlock{Name: "crash", Plugin: "test-crash"},
		config.ProviderBlock{Name: "badconfig", Plugin: "file", Config: map[string]string{"dir": "/does/not/exist"}},
	)
	ds := h.Diagnose(ctx(t))
	byName := map[string]host.Diagnosis{}
	for _, d := range ds {
		byName[d.Provider] = d
		if d.OK() {
			t.Errorf("%s: diagnosis OK", d.Provider)
		}
	}

	s := stepsOf(byName["missing"])
	if s[host.StepFound].Status != host.StatusFailed || !strings.Contains(s[host.StepFound].Fix, filepath.Join(dir, "no-such-plugin")) {
		t.Errorf("missing: %+v", s[host.StepFound])
	}
	if s[host.StepStarts].Status != host.StatusSkipped {
		t.Errorf("missing: later steps not skipped: %+v", byName["missing"].Steps)
	}

	s = stepsOf(byName["pinned"])
	if c := s[host.StepChecksum]; c.Status != host.StatusFailed || !strings.Contains(c.Fix, "set sha256 = ") || !strings.Contains(c.Detail, byName["pinned"].SHA256) {
		t.Errorf("pinned: %+v", c)
	}

	s = stepsOf(byName["crash"])
	if st := s[host.StepStarts]; st.Status != host.StatusFailed || !strings.Contains(st.Detail, "cannot open the backend's state directory") {
		t.Errorf("crash: %+v", st)
	}

	s = stepsOf(byName["badconfig"])
	if c := s[host.StepConfigure]; c.Status != host.StatusFailed || !strings.Contains(c.Detail, "not a readable directory") || !strings.Contains(c.Fix, "required: dir") {
		t.Errorf("badconfig: %+v", c)
	}
	if s[host.StepCheck].Status != host.StatusSkipped {
		t.Errorf("badconfig: check not skipped")
	}
}

func TestDescribeDoesNotConfigure(t *testing.T) {
	// No dir: Configure would fail, Describe does not call it.
	h := newHost(t, config.ProviderBlock{Name: "file"})
	d := h.Describe(ctx(t))[0]
	if !d.OK() || d.Info == nil || !slices.Equal(d.Info.Schemes, []string{"file"}) {
		t.Errorf("describe: %+v", d)
	}
	if _, ok := stepsOf(d)[host.StepConfigure]; ok {
		t.Error("Describe configured the plugin")
	}
}
