#!/usr/bin/env bash
# Tests fuzz_result (scripts/fuzzresult.sh) on recorded outputs of go test
# -fuzz. Run: scripts/fuzzresult_test.sh (make reliability runs it first).
set -euo pipefail
cd "$(dirname "$0")"
. ./fuzzresult.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() { # name want rc new <<log
	local name=$1 want=$2 rc=$3 new=$4 got
	cat >"$tmp/$name.log"
	got=$(fuzz_result "$rc" "$tmp/$name.log" FuzzParse "$new")
	if [ "$got" != "$want" ]; then
		echo "FAIL $name: got $got, want $want" >&2
		fails=$((fails + 1))
	fi
}

check clean ok 0 0 <<'LOG'
fuzz: elapsed: 0s, gathering baseline coverage: 0/12 completed
fuzz: elapsed: 30s, execs: 1234567 (41152/sec), new interesting: 3 (total: 15)
PASS
ok  	github.com/secrethost/secrethost/plugins/internal/opref	30.112s
LOG

# The race of golang/go#75804, as Go 1.26 prints it under load.
check deadline-flake deadline 1 0 <<'LOG'
fuzz: elapsed: 27s, execs: 92743 (2771/sec), new interesting: 34 (total: 34)
fuzz: elapsed: 30s, execs: 101343 (2865/sec), new interesting: 36 (total: 36)
fuzz: elapsed: 31s, execs: 101343 (0/sec), new interesting: 36 (total: 36)
--- FAIL: FuzzParse (31.00s)
    context deadline exceeded
FAIL
exit status 1
FAIL	github.com/secrethost/secrethost/plugins/internal/opref	31.021s
LOG

check crash crash 1 1 <<'LOG'
fuzz: elapsed: 3s, execs: 40304 (13431/sec), new interesting: 104 (total: 108)
--- FAIL: FuzzParse (3.20s)
    --- FAIL: FuzzParse (0.00s)
        opref_test.go:88: round trip: got "a", want "b"

    Failing input written to testdata/fuzz/FuzzParse/582528ddfad69eb5
    To re-run:
    go test -run=FuzzParse/582528ddfad69eb5
FAIL
exit status 1
FAIL	github.com/secrethost/secrethost/plugins/internal/opref	3.302s
LOG

# A crasher file appeared though the log was cut short: still a crash.
check crash-file-only crash 1 1 <<'LOG'
--- FAIL: FuzzParse (31.00s)
    context deadline exceeded
FAIL
LOG

# A deadline message from the target itself, next to a real failure.
check deadline-and-failure error 1 0 <<'LOG'
--- FAIL: FuzzParse (31.00s)
    opref_test.go:12: seed #3: unexpected error
    context deadline exceeded
FAIL
LOG

check seed-corpus-fails error 1 0 <<'LOG'
--- FAIL: FuzzParse (0.01s)
    --- FAIL: FuzzParse/bad_utf8 (0.00s)
        opref_test.go:40: panic: runtime error: index out of range
FAIL
exit status 1
LOG

check build-fails error 1 0 <<'LOG'
# github.com/secrethost/secrethost/plugins/internal/opref [github.com/secrethost/secrethost/plugins/internal/opref.test]
./opref_test.go:9:2: undefined: nope
FAIL	github.com/secrethost/secrethost/plugins/internal/opref [build failed]
LOG

check test-timeout error 1 0 <<'LOG'
panic: test timed out after 10m0s
	running tests:
		FuzzParse (10m0s)
FAIL	github.com/secrethost/secrethost/plugins/internal/opref	600.1s
LOG

check other-target-fails error 1 0 <<'LOG'
--- FAIL: FuzzParse (31.00s)
    context deadline exceeded
--- FAIL: TestSomethingElse (0.00s)
    x_test.go:3: boom
FAIL
LOG

if [ "$fails" -gt 0 ]; then
	echo "fuzzresult_test: $fails failed" >&2
	exit 1
fi
echo "fuzzresult_test: ok"
