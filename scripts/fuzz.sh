#!/bin/sh
# make fuzz: runs every libFuzzer target of tests/fuzz/targets until
# FUZZ_EXECS executions (default 10 million) or FUZZ_SECONDS seconds
# (default 600), whichever comes first, growing its corpus in
# $BUILD/corpus-NAME, then prints a table: target, executions, seconds,
# coverage (edges), features, corpus size, crashes.  The table also goes to
# $BUILD/fuzz-table.md (the README's reliability section shows one).
# A crash, leak, timeout or out-of-memory input lands in
# $BUILD/artifacts-NAME/; the run goes on with the next target, and the
# exit status is 1.  FUZZ_ONLY="fuzz_tcp fuzz_api" runs only those.
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
FUZZ_EXECS=${FUZZ_EXECS:-10000000}
FUZZ_SECONDS=${FUZZ_SECONDS:-600}
FUZZ_ONLY=${FUZZ_ONLY:-}
table="$BUILD/fuzz-table.md"
rows=""
bad=0

# row NAME LOG CRASHES: a line of the table from libFuzzer's last status line
row() {
	awk -v name="$1" -v crashes="$3" '
		/^#[0-9]+/ { execs = substr($1, 2); for (i = 2; i < NF; i++) {
			if ($i == "cov:") cov = $(i + 1); if ($i == "ft:") ft = $(i + 1)
			if ($i == "corp:") corp = $(i + 1) } }
		/^Done [0-9]+ runs in/ { execs = $2; secs = $5 }
		END { printf "| %s | %d | %d | %d | %d | %s | %d |\n",
			name, execs, secs, cov, ft, corp, crashes }' "$2"
}

while read -r name seeds maxlen; do
	case "$name" in ''|\#*) continue ;; esac
	if [ -n "$FUZZ_ONLY" ]; then
		case " $FUZZ_ONLY " in *" $name "*) ;; *) continue ;; esac
	fi
	corpus="$BUILD/corpus-$name" artifacts="$BUILD/artifacts-$name"
	log="$BUILD/$name-long.log"
	mkdir -p "$corpus" "$artifacts"
	dict=
	[ -f "tests/fuzz/$name.dict" ] && dict="-dict=tests/fuzz/$name.dict"
	echo "== $name: up to $FUZZ_EXECS executions or ${FUZZ_SECONDS}s"
	# shellcheck disable=SC2086
	"$BUILD/$name" -runs="$FUZZ_EXECS" -max_total_time="$FUZZ_SECONDS" \
		-max_len="$maxlen" -timeout=10 -print_final_stats=0 $dict \
		-artifact_prefix="$artifacts/" "$corpus" "$seeds" >"$log" 2>&1
	rc=$?
	crashes=$(find "$artifacts" -type f | wc -l)
	if [ "$rc" -ne 0 ]; then
		grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -n 5
		[ "$crashes" -eq 0 ] && crashes=1
	fi
	[ "$crashes" -ne 0 ] && bad=1
	r=$(row "$name" "$log" "$crashes")
	echo "$r"
	rows="$rows$r
"
done <tests/fuzz/targets

{
	echo "| target | executions | seconds | coverage (edges) | features | corpus (inputs/size) | crashes |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	printf '%s' "$rows"
} >"$table"
echo
cat "$table"
exit "$bad"
