#!/bin/sh
# Runs every suite of 'make check' (after make built them) and ends with the
# line "N passed, N failed".  Exit status: 0 only if nothing failed.
#
#   unit tests (cmocka, TAP output), the same under ASan+UBSan, the XDP
#   program's policy verdicts (BPF_PROG_TEST_RUN), a short run of each
#   fuzzer (tests/fuzz/targets), and the
#   end-to-end tests (pytest, as root).
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
FUZZ_SMOKE_SECONDS=${FUZZ_SMOKE_SECONDS:-10}
passed=0
failed=0

count() { # count PASSED FAILED
	passed=$((passed + $1))
	failed=$((failed + $2))
}

# Sums the numbers before the words matching $2 in pytest's summary line $1.
pytest_count() {
	printf '%s\n' "$1" | awk -v w="^($2)" \
		'{ for (i = 1; i < NF; i++) if ($(i + 1) ~ w) s += $i } END { print s + 0 }'
}

# A cmocka binary: count its TAP lines; a crash with no "not ok" is a failure.
run_unit() {
	out=$(CMOCKA_MESSAGE_OUTPUT=TAP "$1" 2>&1)
	rc=$?
	p=$(printf '%s\n' "$out" | grep -c '^ok ')
	f=$(printf '%s\n' "$out" | grep -c '^not ok ')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	printf '%s\n' "$out" | grep -E '^(not ok|#)|ERROR|runtime error' || true
	echo "== $1: $p passed, $f failed"
	count "$p" "$f"
}

echo "== unit tests"
for t in "$BUILD"/tests/test_*; do run_unit "$t"; done
echo "== unit tests under AddressSanitizer and UndefinedBehaviorSanitizer"
for t in "$BUILD"/asan/test_*; do run_unit "$t"; done
echo "== the XDP program's egress verdicts against the engine's (BPF_PROG_TEST_RUN)"
if [ "$(id -u)" -ne 0 ]; then
	echo "loading the XDP program needs root: run make check as root"
	count 0 1
else
	for t in "$BUILD"/bpf-tests/test_*; do run_unit "$t"; done
fi

# fuzz_smoke NAME SEEDS MAX_LEN: a short libFuzzer run counts as one test
fuzz_smoke() {
	name=$1 seeds=$2 maxlen=$3
	echo "== fuzz smoke: $name, ${FUZZ_SMOKE_SECONDS}s"
	mkdir -p "$BUILD/corpus-$name"
	dict=
	[ -f "tests/fuzz/$name.dict" ] && dict="-dict=tests/fuzz/$name.dict"
	# shellcheck disable=SC2086
	if "$BUILD/$name" -max_total_time="$FUZZ_SMOKE_SECONDS" -timeout=10 \
		-max_len="$maxlen" $dict -artifact_prefix="$BUILD/" "$BUILD/corpus-$name" \
		"$seeds" >"$BUILD/$name.log" 2>&1; then
		tail -n 1 "$BUILD/$name.log"
		count 1 0
	else
		tail -n 30 "$BUILD/$name.log"
		count 0 1
	fi
}
while read -r name seeds maxlen; do
	case "$name" in ''|\#*) ;; *) fuzz_smoke "$name" "$seeds" "$maxlen" ;; esac
done <tests/fuzz/targets

# e2e_suite LOG QUEUES ENV TESTS...: pytest on TESTS with XDPSLIRP_TEST_QUEUES
# and the variables in ENV ("-": none); log in $BUILD/LOG.log
e2e_suite() {
	name=$1 queues=$2 vars=$3
	log="$BUILD/$name.log"
	shift 3
	[ "$vars" = "-" ] && vars=
	echo "== $name: $queues queues${vars:+, $vars}"
	# shellcheck disable=SC2086
	env XDPSLIRP_TEST_QUEUES="$queues" $vars /usr/bin/python3 -m pytest -q -rf \
		-p no:cacheprovider "$@" >"$log" 2>&1
	rc=$?
	cat "$log"
	summary=$(tail -n 1 "$log")
	p=$(pytest_count "$summary" 'passed')
	f=$(pytest_count "$summary" 'failed|errors?')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1	# pytest itself failed (collection error, no tests)
	fi
	count "$p" "$f"
}

# e2e_sanitized NAME BINARY QUEUES ENV TESTS...: e2e_suite against a
# sanitized build of the engine (make asan); any report a sanitizer writes
# (one file per process) fails it, whether or not a test noticed.  The
# sanitizers' runtimes read /proc and trace threads, which the sandbox
# forbids: these runs use --no-sandbox (every other suite runs sandboxed).
e2e_sanitized() {
	name=$1 binary=$2 queues=$3 vars=$4
	shift 4
	dir="$PWD/$BUILD/$name-reports"
	rm -rf "$dir"
	mkdir -p "$dir"
	[ "$vars" = "-" ] && vars=
	e2e_suite "$name" "$queues" "XDPSLIRP=$PWD/$binary XDPSLIRP_TEST_ARGS=--no-sandbox \
ASAN_OPTIONS=log_path=$dir/asan UBSAN_OPTIONS=log_path=$dir/ubsan:print_stacktrace=1 \
TSAN_OPTIONS=log_path=$dir/tsan $vars" "$@"
	reports=$(ls "$dir" | wc -l)
	if [ "$reports" -ne 0 ]; then
		cat "$dir"/* | head -n 80
		echo "== $name: $reports sanitizer reports (in $dir)"
		count 0 1
	fi
}

echo "== end-to-end tests"
if [ "$(id -u)" -ne 0 ]; then
	echo "end-to-end tests need root (namespaces, XDP, AF_XDP): run make check as root"
	count 0 1
else
	# every suite with two queues (flows hashed to two workers), then
	# the TCP and UDP suites again with four, both families; then on
	# the tap backend, as root and as an unprivileged user
	tap=XDPSLIRP_TEST_BACKEND=tap
	e2e_suite e2e 2 - tests/e2e
	e2e_suite e2e-4q 4 - tests/e2e/test_tcp.py tests/e2e/test_udp.py
	e2e_suite e2e6-4q 4 - tests/e2e/test_ipv6.py -k "tcp6 or udp6"
	e2e_suite e2e-tap 2 $tap tests/e2e/test_tcp.py tests/e2e/test_udp.py \
		tests/e2e/test_forward.py tests/e2e/test_ipv6.py tests/e2e/test_policy.py \
		tests/e2e/test_sandbox.py tests/e2e/test_capture.py
	e2e_suite e2e-tap-4q 4 $tap tests/e2e/test_tcp.py tests/e2e/test_udp.py
	e2e_suite e2e-rootless 2 "$tap XDPSLIRP_TEST_ROOTLESS=65534" tests/e2e/test_tcp.py \
		tests/e2e/test_forward.py tests/e2e/test_policy.py \
		tests/e2e/test_udp.py tests/e2e/test_ipv6.py tests/e2e/test_sandbox.py \
		tests/e2e/test_capture.py
	if [ -n "${CHECK_FULL:-}" ]; then
		# make check-full: every suite against each sanitized build,
		# on both backends
		for san in asan tsan; do
			e2e_sanitized "e2e-$san-full" "$BUILD/xdpslirp-$san" 2 - tests/e2e
			e2e_sanitized "e2e-$san-tap-full" "$BUILD/xdpslirp-$san" 2 $tap tests/e2e
		done
	else
		# the engine under ASan+UBSan and under TSan: TCP, UDP, forwards
		# and the API, IPv6, faults, the daemon (guests coming and going
		# while workers run) and the CNI plugin driving it (both under
		# ASan), two workers (hand-off rings, claims),
		# and the tap (the faults without the 50 restarts: that one tests
		# the kernel's cleanup)
		e2e_sanitized e2e-asan "$BUILD/xdpslirp-asan" 2 \
			"XDPSLIRP_CNI=$PWD/$BUILD/xdpslirp-cni-asan" tests/e2e/test_tcp.py \
			tests/e2e/test_faults.py tests/e2e/test_udp.py tests/e2e/test_forward.py \
			tests/e2e/test_ipv6.py tests/e2e/test_daemon.py tests/e2e/test_cni.py \
			-k "not sigkill_50"
		e2e_sanitized e2e-asan-tap "$BUILD/xdpslirp-asan" 2 $tap tests/e2e/test_tcp.py \
			tests/e2e/test_udp.py
		e2e_sanitized e2e-tsan "$BUILD/xdpslirp-tsan" 2 - tests/e2e/test_tcp.py \
			tests/e2e/test_udp.py tests/e2e/test_forward.py tests/e2e/test_daemon.py
	fi
fi

echo "$passed passed, $failed failed" | tee "$BUILD/check-summary"
[ "$failed" -eq 0 ]
