# fuzz_result RC LOG TARGET NEW: what one `go test -fuzz` run came to, from
# its exit status RC, its output LOG (a file), the fuzz target's name and
# NEW, the number of files that appeared under testdata/fuzz/TARGET during
# the run. Prints one word:
#   ok        the run passed
#   crash     a failing input was found (and written)
#   deadline  the run failed only with "context deadline exceeded" when
#             -fuzztime ran out, with no failing input: Go's fuzzing
#             coordinator racing its own deadline under load
#             (golang/go#75804, fixed in Go 1.27), not a crash
#   error     anything else (the seed corpus failed, the build did, ...)
# Sourced by scripts/reliability; tested by scripts/fuzzresult_test.sh.
fuzz_result() {
	local rc=$1 log=$2 target=$3 new=$4
	if [ "$rc" -eq 0 ]; then
		echo ok
		return
	fi
	if [ "$new" -gt 0 ] || grep -q 'Failing input written to' "$log"; then
		echo crash
		return
	fi
	# The flake's signature: the target's FAIL block says nothing but
	# "context deadline exceeded", and nothing else in the log failed.
	if awk -v t="$target" '
		$0 ~ "^--- FAIL: " t " \\(" { inblock = 1; fails++; next }
		inblock && /^[ \t]/ { sub(/^[ \t]+/, ""); if ($0 == "context deadline exceeded") ok++; else other++; next }
		{ inblock = 0 }
		/^--- FAIL: / || /^panic: / || /^fatal error: / { other++ }
		END { exit !(fails == 1 && ok == 1 && other == 0) }
	' "$log"; then
		echo deadline
		return
	fi
	echo error
}
