// Command footprint measures what each provider costs the processes that
// run it: binary sizes, and the peak resident memory (VmHWM) of the
// secrethost process and of its plugin process, for the host alone, the
// host with the Connect plugin (against the emulator) and the host with the
// service-account plugin. It prints medians over -runs runs as a Markdown
// table; scripts/bench calls it for BENCHMARKS.md.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	bin := flag.String("bin", "bin", "directory written by make build")
	data := flag.String("data", "examples/demo/connect-data.json", "emulator seed data")
	from := flag.String("from", "examples/demo/.doco-cd.yml", "references for the Connect scenario")
	runs := flag.Int("runs", 5, "runs per scenario")
	flag.Parse()
	if err := run(*bin, *data, *from, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "footprint:", err)
		os.Exit(1)
	}
}

type scenario struct {
	name string
	env  []string
	args []string
	// ok reports whether the exit code is the expected one.
	ok func(code int) bool
}

func run(bin, data, from string, runs int) error {
	bin, _ = filepath.Abs(bin)
	work, err := os.MkdirTemp("", "footprint-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	emu := exec.Command(filepath.Join(bin, "connect-emulator"), "-data", data, "-addr", "127.0.0.1:0", "-addr-file", filepath.Join(work, "addr"))
	if err := emu.Start(); err != nil {
		return err
	}
	defer func() { emu.Process.Kill(); emu.Wait() }()
	var url string
	for range 200 {
		if b, err := os.ReadFile(filepath.Join(work, "addr")); err == nil && len(b) > 0 {
			url = strings.TrimSpace(string(b))
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if url == "" {
		return fmt.Errorf("emulator did not start")
	}

	fromAbs, _ := filepath.Abs(from)
	scenarios := []scenario{
		{name: "host alone (secrethost version)", args: []string{"version"}, ok: func(c int) bool { return c == 0 }},
		{name: "host + onepassword-connect (resolve the demo's 4 references)",
			env:  []string{"SECRET_PROVIDER=1password", "SECRET_PROVIDER_CONNECT_HOST=" + url, "SECRET_PROVIDER_CONNECT_TOKEN=demo-token"},
			args: []string{"resolve", "--from", fromAbs, "--format", "json"}, ok: func(c int) bool { return c == 0 }},
		// Validation in service-account mode loads neither the SDK's core
		// nor the network (issue 13, item 2); the core loads only when a
		// Resolve needs it, which offline cannot be measured here.
		{name: "host + onepassword-sa (validate one reference: no SDK core, offline)",
			env:  []string{"SECRET_PROVIDER=1password", "SECRET_PROVIDER_ACCESS_TOKEN=ops_e30"},
			args: []string{"validate", "op://Demo/Postgres/password"}, ok: func(c int) bool { return c == 0 }},
	}

	fmt.Println("| binary | size |")
	fmt.Println("|---|---|")
	for _, b := range []string{"secrethost", "plugins/onepassword-connect", "plugins/onepassword-sa", "plugins/file", "connect-emulator"} {
		st, err := os.Stat(filepath.Join(bin, b))
		if err != nil {
			return err
		}
		fmt.Printf("| bin/%s | %.1f MiB |\n", b, float64(st.Size())/(1<<20))
	}
	fmt.Println()
	fmt.Printf("| scenario (median of %d) | wall time | secrethost peak RSS | plugin peak RSS | total |\n", runs)
	fmt.Println("|---|---|---|---|---|")
	for _, s := range scenarios {
		var walls []time.Duration
		var hosts, plugins []int
		for range runs {
			wall, host, plugin, err := measure(filepath.Join(bin, "secrethost"), work, s)
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			walls, hosts, plugins = append(walls, wall), append(hosts, host), append(plugins, plugin)
		}
		h, p := median(hosts), median(plugins)
		pl := "-"
		if p > 0 {
			pl = mib(p)
		}
		fmt.Printf("| %s | %s | %s | %s | %s |\n", s.name, median(walls).Round(time.Millisecond), mib(h), pl, mib(h+p))
	}
	return nil
}

// measure runs secrethost once, sampling the peak RSS of it and its child
// processes every 2 ms (VmHWM only grows, so the last sample is the peak).
func measure(exe, dir string, s scenario) (time.Duration, int, int, error) {
	cmd := exec.Command(exe, s.args...)
	cmd.Dir = dir // no SECRETHOST_CONFIG in Env: the built-in doco-cd default applies
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, s.env...)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, 0, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	pid := cmd.Process.Pid
	host, plugin := 0, 0
	for {
		select {
		case <-done:
			wall := time.Since(start)
			if code := cmd.ProcessState.ExitCode(); !s.ok(code) {
				return 0, 0, 0, fmt.Errorf("unexpected exit code %d", code)
			}
			return wall, host, plugin, nil
		case <-time.After(2 * time.Millisecond):
			host = max(host, hwm(pid))
			for _, c := range children(pid) {
				plugin = max(plugin, hwm(c))
			}
		}
	}
}

func hwm(pid int) int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return kb * 1024
		}
	}
	return 0
}

// children lists pid's child processes. Every thread counts: the host
// forks plugins from a dedicated, locked thread (see shared/launch).
func children(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

func median[T int | time.Duration](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func mib(b int) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
