// Command benchsummary turns the raw `go test -bench` output that
// scripts/bench writes into bench-results/ into one Markdown summary,
// results.md: every figure of BENCHMARKS.md side by side with its
// baseline, as medians over the runs, with the command that reproduces
// each.
//
//	go run ./scripts/benchsummary bench-results > bench-results/results.md
package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// samples: benchmark name (without the -N CPU suffix) -> unit -> values.
type samples map[string]map[string][]float64

var cpuSuffix = regexp.MustCompile(`-\d+$`)

func read(dir, file string) samples {
	out := samples{}
	f, err := os.Open(filepath.Join(dir, file))
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		name := cpuSuffix.ReplaceAllString(strings.TrimPrefix(fields[0], "Benchmark"), "")
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			if out[name] == nil {
				out[name] = map[string][]float64{}
			}
			out[name][fields[i+1]] = append(out[name][fields[i+1]], v)
		}
	}
	return out
}

// median of the samples of name in unit, and how many there were.
func (s samples) median(name, unit string) (float64, int) {
	vs := append([]float64(nil), s[name][unit]...)
	if len(vs) == 0 {
		return 0, 0
	}
	sort.Float64s(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2], n
	}
	return (vs[n/2-1] + vs[n/2]) / 2, n
}

func (s samples) ms(name string) string {
	v, n := s.median(name, "ns/op")
	if n == 0 {
		return "n/a"
	}
	return fmtDur(v)
}

func (s samples) metric(name, unit string) string {
	v, n := s.median(name, unit)
	if n == 0 {
		return "n/a"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func (s samples) runs(name string) int {
	_, n := s.median(name, "ns/op")
	return n
}

func fmtDur(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.2f s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.1f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.0f µs", ns/1e3)
	}
	return fmt.Sprintf("%.2f ns", ns)
}

func ratio(s samples, slow, fast, unit string) string {
	a, n1 := s.median(slow, unit)
	b, n2 := s.median(fast, unit)
	if n1 == 0 || n2 == 0 || b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f×", a/b)
}

func main() {
	dir := "bench-results"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }

	if b, err := os.ReadFile(filepath.Join(dir, "machine.txt")); err == nil {
		p("Run: %s", strings.TrimSpace(string(b)))
		p("")
	}

	c := read(dir, "connect.txt")
	const cold, warm, doco = "Connect100/name=cold", "Connect100/name=warm", "Connect100/name=doco-cd"
	p("### 1Password Connect: 100 references, 10 items, 2 vaults, 20 ms per request")
	p("")
	p("`go test -run '^$' -bench Connect100 -benchtime 5x -count 6 ./e2e/onepassword-connect/` (%d runs)", c.runs(warm))
	p("")
	p("| | requests | round trips | median wall | max in flight |")
	p("|---|---|---|---|---|")
	p("| secrethost, warm: the same plugin process again (`name=warm`) | **%s** | **%s** | **%s** | %s |", c.metric(warm, "requests/op"), c.metric(warm, "round-trips/op"), c.ms(warm), c.metric(warm, "max-in-flight"))
	p("| secrethost, cold: a plugin that has not seen the titles (`name=cold`) | %s | %s | %s | %s |", c.metric(cold, "requests/op"), c.metric(cold, "round-trips/op"), c.ms(cold), c.metric(cold, "max-in-flight"))
	p("| baseline: doco-cd's Connect strategy, GetItem per reference, 10 in flight (`name=doco-cd`) | %s | %s | %s | %s |", c.metric(doco, "requests/op"), c.metric(doco, "round-trips/op"), c.ms(doco), c.metric(doco, "max-in-flight"))
	p("| doco-cd ÷ warm | %s | %s | %s | |", ratio(c, doco, warm, "requests/op"), ratio(c, doco, warm, "round-trips/op"), ratio(c, doco, warm, "ns/op"))
	p("| doco-cd ÷ cold | %s | %s | %s | |", ratio(c, doco, cold, "requests/op"), ratio(c, doco, cold, "round-trips/op"), ratio(c, doco, cold, "ns/op"))
	p("| cold ÷ warm | | | %s | |", ratio(c, cold, warm, "ns/op"))
	p("")

	v := read(dir, "sa-validate.txt")
	const sh, sdk = "Validate100/name=secrethost", "Validate100/name=sdk"
	p("### Service accounts: validate 100 references")
	p("")
	p("`go test -run '^$' -bench Validate100 -benchtime 2x -count 5 ./e2e/onepassword-sa/` (%d runs)", v.runs(sh))
	p("")
	p("| | median wall |")
	p("|---|---|")
	p("| `secrethost validate`, SA mode, process start to exit (`name=secrethost`) | **%s** |", v.ms(sh))
	p("| baseline: the SDK's own first validation in a fresh process (`name=sdk`) | %s |", v.ms(sdk))
	p("| ratio | **%s** |", ratio(v, sdk, sh, "ns/op"))
	p("")

	cs := read(dir, "coldstart.txt")
	l := read(dir, "launch.txt")
	h := read(dir, "host.txt")
	p("### Cold start: `secrethost resolve` of one reference, process start to exit")
	p("")
	p("`go test -run '^$' -bench CLIColdStart -benchtime 10x -count 5 ./e2e/onepassword-connect/` (%d runs); "+
		"the parts: `go test -run '^$' -bench 'Start/onepassword-connect|PinSteps' -benchtime 10x -count 5 ./shared/launch/`, "+
		"`go test -run '^$' -bench ColdStart -benchtime 20x -count 10 ./host/`", cs.runs("CLIColdStart/name=default"))
	p("")
	p("| | median wall |")
	p("|---|---|")
	p("| `secrethost resolve` against the emulator, built-in doco-cd default configuration (`name=default`) | **%s** |", cs.ms("CLIColdStart/name=default"))
	p("| the same with the plugin pinned by sha256 in config.hcl (`name=pinned`) | %s |", cs.ms("CLIColdStart/name=pinned"))
	p("| of which: exec + go-plugin handshake (AutoMTLS) + GetInfo of the connect plugin, unpinned (`Start/onepassword-connect/unpinned`) | %s |", l.ms("Start/onepassword-connect/unpinned"))
	p("| the same, pinned: copy into a sealed memfd, hash, exec from it (`Start/onepassword-connect/pinned`) | %s |", l.ms("Start/onepassword-connect/pinned"))
	p("| pin step: copy the plugin binary into the memfd (`PinSteps/step=copy`) | %s |", l.ms("PinSteps/step=copy"))
	p("| pin step: sha256 of the copy (`PinSteps/step=hash`) | %s |", l.ms("PinSteps/step=hash"))
	p("| small test plugin: exec + handshake + GetInfo + Configure (host `ColdStart`) | %s |", h.ms("ColdStart"))
	p("")

	p("### Plugin boundary")
	p("")
	p("`go test -run '^$' -bench 'ResolveViaPlugin|ResolveInProcess' -benchtime 3000x -count 10 ./host/`")
	p("")
	p("| | median |")
	p("|---|---|")
	p("| one Resolve of one reference through a running plugin (`ResolveViaPlugin`) | %s |", h.ms("ResolveViaPlugin"))
	p("| the same provider in process (`ResolveInProcess`) | %s |", h.ms("ResolveInProcess"))
	p("")

	s := read(dir, "sa.txt")
	p("### Service-account plugin start-up")
	p("")
	p("`go test -run '^$' -bench Startup -benchtime 3x -count 3 ./plugins/onepassword-sa/serviceaccount/`: %s wall, %s ms handshake, %s MiB peak RSS, %s s plugin CPU",
		s.ms("Startup"), s.metric("Startup", "handshake-ms"), s.metric("Startup", "peak-RSS-MiB"), s.metric("Startup", "plugin-CPU-s"))
	p("")
	if b, err := os.ReadFile(filepath.Join(dir, "footprint.md")); err == nil {
		p("### Footprint (`go run ./internal/footprint -runs 5`)")
		p("")
		w.Write(b)
	}
}
