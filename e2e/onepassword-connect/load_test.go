package onepasswordconnect_test

// Load: 50 concurrent callers share one host.Host (the library API, as
// doco-cd uses it) and the real plugin binary against the emulator. A
// resolution is one ResolveSecretReferences call of three variables, as a
// small deployment would send: the username and password of one item
// named by title, and the Details/host of another item named by IDs. So
// 10,000 resolutions are 30,000 values, each checked exactly.
//
// Also checked: no error at all; exactly one plugin process throughout
// (children of this test process, sampled from /proc); no goroutine or
// file-descriptor growth once the host is closed; no plugin process left.
// The figures go to one line for RELIABILITY.md:
//
//	LOAD: n=10000 callers=50 errors=0 p50=... p99=... throughput=.../s goroutines before/after=.../... fds before/after=.../... plugin processes max=1
//
// `go test -short` (make test) runs 1,000 resolutions; without -short,
// 10,000.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/secrethost/secrethost/internal/syncbuf"

	"github.com/hashicorp/go-hclog"

	"github.com/secrethost/secrethost/host"
	"github.com/secrethost/secrethost/host/config"
	"github.com/secrethost/secrethost/plugins/onepassword-connect/emulator"
)

const (
	loadCallers = 50
	loadVaults  = 4
	loadItems   = 25 // per vault: 100 items
)

// children returns the PIDs of this process's children whose command name
// (/proc/PID/stat's comm, at most 15 bytes) is comm, zombies included.
func children(comm string) []int {
	if len(comm) > 15 {
		comm = comm[:15]
	}
	self := os.Getpid()
	dirs, _ := os.ReadDir("/proc")
	var out []int
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		// "pid (comm) state ppid ...": comm may hold spaces and parens.
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		fields := strings.Fields(s[end+1:])
		if len(fields) < 2 || s[open+1:end] != comm {
			continue
		}
		if ppid, _ := strconv.Atoi(fields[1]); ppid == self {
			out = append(out, pid)
		}
	}
	return out
}

func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count file descriptors: %v", err)
	}
	return len(ents) - 1 // the directory being read
}

// settle polls until cond holds or 10s pass.
func settle(cond func() bool) {
	for deadline := time.Now().Add(10 * time.Second); !cond() && time.Now().Before(deadline); {
		runtime.GC()
		time.Sleep(50 * time.Millisecond)
	}
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// loadCase is resolution k's variables and their exact values.
func loadCase(d *emulator.Data, k int) (map[string]string, map[string]string) {
	v, i := k%loadVaults, (k/loadVaults)%loadItems
	v2, i2 := (k+1)%loadVaults, (k*7+3)%loadItems
	vars := map[string]string{
		"DB_USER":     fmt.Sprintf("op://Vault %02d/Item %03d/username", v, i),
		"DB_PASSWORD": fmt.Sprintf("op://Vault %02d/Item %03d/password", v, i),
		"DB_HOST":     fmt.Sprintf("op://%s/%s/Details/host", d.Vaults[v2].ID, d.Vaults[v2].Items[i2].ID),
	}
	want := map[string]string{
		"DB_USER":     fmt.Sprintf("user-%d-%d", v, i),
		"DB_PASSWORD": fmt.Sprintf("pw-%d-%d", v, i),
		"DB_HOST":     fmt.Sprintf("db%d.example.com", i2),
	}
	return vars, want
}

func TestLoad(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 1000
	}
	dir := pluginDir(t) // build outside the measurement
	data := emulator.Generate(loadVaults, loadItems)
	srv := emulator.NewTestServer(t, data)

	// The baseline: the emulator is listening, no host exists yet.
	runtime.GC()
	time.Sleep(100 * time.Millisecond)
	goroutinesBefore, fdsBefore := runtime.NumGoroutine(), openFDs(t)
	if c := children(pluginName); len(c) != 0 {
		t.Fatalf("plugin processes before the host exists: %v", c)
	}

	sink := &syncbuf.Buffer{}
	h, err := host.New(&config.Config{Source: "test", Providers: []config.ProviderBlock{{
		Name: pluginName, Plugin: pluginName, Pos: "load_test.go:1:1",
		Config: cfg(srv.URL(), emulator.GeneratedToken),
	}}}, host.WithPluginDir(dir),
		// Not the machine's proxy and CA settings (SSL_CERT_FILE is set on
		// many machines): with any, the host starts a network plugin once
		// more to give it them (network_e2e_test.go), a second PID here.
		host.WithLookupEnv(withoutNetworkEnv),
		host.WithLogger(hclog.New(&hclog.LoggerOptions{Level: hclog.Info, Output: sink})))
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			h.Close()
		}
	})

	// Sample the plugin processes every 10ms until the host is closed (a
	// scan reads every /proc/PID/stat: more often would load the machine).
	var (
		maxProcs  atomic.Int32
		pidsMu    sync.Mutex
		pidsSeen  = map[int]bool{}
		samples   atomic.Int64
		stopProbe = make(chan struct{})
		probeDone = make(chan struct{})
	)
	go func() {
		defer close(probeDone)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			pids := children(pluginName)
			samples.Add(1)
			if int32(len(pids)) > maxProcs.Load() {
				maxProcs.Store(int32(len(pids)))
			}
			pidsMu.Lock()
			for _, p := range pids {
				pidsSeen[p] = true
			}
			pidsMu.Unlock()
			select {
			case <-stopProbe:
				return
			case <-tick.C:
			}
		}
	}()

	var (
		next      atomic.Int64
		errs      atomic.Int64
		wrong     atomic.Int64
		firstErrs sync.Map // at most a few, for the report
		latencies = make([]time.Duration, n)
		wg        sync.WaitGroup
	)
	c, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	for range loadCallers {
		wg.Go(func() {
			for {
				k := int(next.Add(1)) - 1
				if k >= n {
					return
				}
				vars, want := loadCase(data, k)
				t0 := time.Now()
				got, err := h.ResolveSecretReferences(c, vars)
				latencies[k] = time.Since(t0)
				if err != nil {
					if errs.Add(1) <= 3 {
						firstErrs.Store(k, err.Error())
					}
					continue
				}
				for name, w := range want {
					if got[name] != w || len(got) != len(want) {
						if wrong.Add(1) <= 3 {
							t.Errorf("resolution %d: %s = %q, want %q (%d values)", k, name, got[name], w, len(got))
						}
					}
				}
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)

	h.Close()
	closed = true
	close(stopProbe)
	<-probeDone

	// After Close: the plugin process is gone (reaped, not a zombie), and
	// goroutines and file descriptors are back to the baseline.
	settle(func() bool {
		return len(children(pluginName)) == 0 && runtime.NumGoroutine() <= goroutinesBefore+2 && openFDs(t) <= fdsBefore
	})
	goroutinesAfter, fdsAfter := runtime.NumGoroutine(), openFDs(t)
	left := children(pluginName)

	slices.Sort(latencies)
	p50, p99 := percentile(latencies, 0.50), percentile(latencies, 0.99)
	t.Logf("LOAD: n=%d callers=%d errors=%d p50=%s p99=%s throughput=%.0f/s goroutines before/after=%d/%d fds before/after=%d/%d plugin processes max=%d",
		n, loadCallers, errs.Load(), p50.Round(time.Microsecond), p99.Round(time.Microsecond), float64(n)/wall.Seconds(),
		goroutinesBefore, goroutinesAfter, fdsBefore, fdsAfter, maxProcs.Load())
	t.Logf("load detail: %d values checked, wall %s, %d process samples, plugin PIDs seen %v, %d requests to the emulator (max %d in flight)",
		3*n, wall.Round(time.Millisecond), samples.Load(), keys(&pidsMu, pidsSeen), srv.RequestCount(), srv.MaxInFlight())

	if e := errs.Load(); e != 0 {
		firstErrs.Range(func(k, v any) bool {
			t.Errorf("resolution %v failed: %v", k, v)
			return true
		})
		t.Errorf("%d of %d resolutions failed", e, n)
	}
	if w := wrong.Load(); w != 0 {
		t.Errorf("%d wrong values", w)
	}
	if m := maxProcs.Load(); m != 1 {
		t.Errorf("at most %d plugin processes at once, want exactly 1", m)
	}
	if len(pidsSeen) != 1 {
		t.Errorf("plugin PIDs seen: %v; want one process throughout (no restart)", keys(&pidsMu, pidsSeen))
	}
	if len(left) != 0 {
		t.Errorf("plugin processes left after Close: %v", left)
	}
	if goroutinesAfter > goroutinesBefore+2 {
		t.Errorf("goroutines: %d before the host, %d after Close", goroutinesBefore, goroutinesAfter)
		buf := make([]byte, 1<<20)
		t.Logf("goroutines after Close:\n%s", buf[:runtime.Stack(buf, true)])
	}
	if fdsAfter > fdsBefore {
		t.Errorf("file descriptors: %d before the host, %d after Close", fdsBefore, fdsAfter)
	}
	for _, s := range []string{"stopping the plugin", "restarting it", "starting it again"} {
		if strings.Contains(sink.String(), s) {
			t.Errorf("the host log says %q:\n%s", s, sink.String())
		}
	}
	if log := sink.String(); strings.Contains(log, "pw-") || strings.Contains(log, "user-") {
		t.Errorf("the host log holds a value:\n%s", log)
	}
}

func keys(mu *sync.Mutex, m map[int]bool) []int {
	mu.Lock()
	defer mu.Unlock()
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
