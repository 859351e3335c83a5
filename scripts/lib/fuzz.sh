# scripts/lib/fuzz.sh - shared by scripts/fuzz, corpus tooling and
# bench/fuzz_throughput: the list of fuzz targets and their options.
# Source it after common.sh; do not run it.

# fuzz_targets: the fuzz targets, one per line (harness/targets.cmake is
# the only list).
fuzz_targets() {
    cmake -P "$BRINE_ROOT/harness/targets.cmake"
}

# fuzz_check_target NAME: dies unless NAME is a fuzz target.
fuzz_check_target() {
    local all
    all="$(fuzz_targets)" || die "cannot read harness/targets.cmake"
    # Not `fuzz_targets | grep -q`: grep exiting early fails the pipe under pipefail.
    grep -qx -- "$1" <<<"$all" || die "unknown fuzz target '$1' (targets: $(echo $all))"
}

# fuzz_libfuzzer_flags NAME: the flags of corpus/options/NAME.options, one
# per line, with relative paths made absolute.
fuzz_libfuzzer_flags() {
    local file="$BRINE_ROOT/corpus/options/$1.options"
    [ -f "$file" ] || return 0
    sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$file" \
        | sed -e "s|^-dict=\([^/]\)|-dict=$BRINE_ROOT/\1|"
}

# fuzz_flag NAME FLAG [DEFAULT]: the value of -FLAG= in NAME's options.
fuzz_flag() {
    local v
    v="$(fuzz_libfuzzer_flags "$1" | sed -n "s/^-$2=//p" | tail -n 1)"
    printf '%s\n' "${v:-${3:-}}"
}
