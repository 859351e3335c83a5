#!/bin/bash -eu
# .clusterfuzzlite/build.sh - brine's fuzz targets, built the way OSS-Fuzz
# and ClusterFuzzLite expect: the environment gives the compiler ($CC), the
# sanitizer and coverage flags ($CFLAGS) and the engine ($LIB_FUZZING_ENGINE);
# CMake builds with BRINE_FUZZ_ENGINE=external (cmake/fuzzing.cmake), which
# adds no flags of its own and links the engine named there.
#
# For every target of harness/targets.cmake this writes to $OUT:
#   <target>                  the fuzzer
#   <target>_seed_corpus.zip  corpus/seeds/<target>/ plus the archived
#                             regressions of that target (corpus/regressions/<target>-*/)
#   <target>.dict             the dictionary its options name (corpus/pickle.dict)
#   <target>.options          corpus/options/<target>.options turned into the
#                             [libfuzzer] section ClusterFuzz reads
#
# The diff target is left out: it embeds CPython 3.11 and imports the
# oracle (oracle/) from the source tree at a path compiled in, and finds the
# standard library at the build machine's sys.base_prefix. A ClusterFuzz
# runner has $OUT only, so the target could not start there (and MSan would
# need an instrumented libpython). scripts/nightly and the PR workflow fuzz it.
#
# Outside the builder image it runs as well, e.g.:
#   CC=clang CFLAGS="-fsanitize=address,fuzzer-no-link" LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
#   OUT=/tmp/cfl-out SRC=/tmp .clusterfuzzlite/build.sh

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# In the builder image this script is $SRC/build.sh, beside the checkout.
[ -f "$root/harness/targets.cmake" ] || root="${SRC:?}/brine"
: "${OUT:?}" "${LIB_FUZZING_ENGINE:?}"
build="${WORK:-$(mktemp -d)}/brine-build"
jobs="$(nproc 2>/dev/null || echo 2)"
mkdir -p "$OUT"

# CMAKE_BUILD_TYPE=None: no -O2/-g/-DNDEBUG of CMake's own, the environment's
# CFLAGS only (and brine's assert()s stay on). Werror off: the environment's
# compiler is newer than the one the warnings are kept clean with.
cmake -S "$root" -B "$build" \
    -DCMAKE_C_COMPILER="${CC:-clang}" \
    -DCMAKE_BUILD_TYPE=None \
    -DBRINE_FUZZ_ENGINE=external \
    -DBRINE_FUZZ_ENGINE_LINK="$LIB_FUZZING_ENGINE" \
    -DBRINE_TESTS=OFF \
    -DBRINE_WERROR=OFF \
    -DCMAKE_DISABLE_FIND_PACKAGE_Python3=ON
cmake --build "$build" -j "$jobs"

# [libfuzzer] options from our flag files: -name=value lines, '#' comments;
# the dictionary travels as <target>.dict, which ClusterFuzz finds by name.
options_ini() { # OPTIONS_FILE
    echo "[libfuzzer]"
    sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$1" \
        | grep -v '^-dict=' \
        | sed -n 's/^-\([A-Za-z_][A-Za-z0-9_]*\)=\(.*\)$/\1 = \2/p'
}

built=() skipped=()
for target in $(cmake -P "$root/harness/targets.cmake"); do
    bin="$build/harness/$target"
    if [ ! -x "$bin" ]; then
        skipped+=("$target")
        continue
    fi
    cp "$bin" "$OUT/$target"

    stage="$(mktemp -d)"
    if [ -d "$root/corpus/seeds/$target" ]; then
        find "$root/corpus/seeds/$target" -type f -exec cp -t "$stage" {} +
    fi
    for dir in "$root/corpus/regressions/$target"-*/; do
        [ -d "$dir" ] || continue
        sig="$(basename "$dir")"
        for f in "$dir"input "$dir"original; do
            if [ -f "$f" ]; then cp "$f" "$stage/$sig-$(basename "$f")"; fi
        done
    done
    rm -f "$OUT/${target}_seed_corpus.zip"
    (cd "$stage" && find . -type f | zip -q -j "$OUT/${target}_seed_corpus.zip" -@)
    rm -rf "$stage"

    opts="$root/corpus/options/$target.options"
    if [ -f "$opts" ]; then
        options_ini "$opts" >"$OUT/$target.options"
        dict="$(sed -n 's/^-dict=//p' "$opts" | tail -n 1)"
        if [ -n "$dict" ]; then
            case "$dict" in /*) ;; *) dict="$root/$dict" ;; esac
            cp "$dict" "$OUT/$target.dict"
        fi
    fi
    built+=("$target")
done

echo "brine: built ${built[*]:-nothing}${skipped[*]:+; not built: ${skipped[*]}} (into $OUT)"
[ ${#built[@]} -gt 0 ]
