# scripts/lib/common.sh - shared by the scripts in scripts/: finding the
# repository, installing what a script needs on a fresh Debian machine, and
# printing steps. Source it; do not run it.

BRINE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BRINE_JOBS="${BRINE_JOBS:-$(nproc 2>/dev/null || echo 2)}"

step() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

_apt_updated=0
# need_packages PKG... : installs the Debian packages that are missing.
need_packages() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    step "installing ${missing[*]}"
    if [ $_apt_updated -eq 0 ]; then
        $sudo apt-get update -qq >&2 || die "apt-get update failed"
        _apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
}

# need_python311: the reference CPython (3.11) with its headers and libpython.
need_python311() {
    if command -v python3 >/dev/null 2>&1 \
        && python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
        return 0
    fi
    need_packages python3 python3-dev
    python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
        || die "the reference is CPython 3.11; python3 is $(python3 -V 2>&1)"
}

# need_build_tools: a C toolchain and CMake.
need_build_tools() {
    local pkgs=()
    command -v cmake >/dev/null 2>&1 || pkgs+=(cmake)
    command -v gcc >/dev/null 2>&1 || pkgs+=(gcc libc6-dev)
    command -v make >/dev/null 2>&1 || pkgs+=(make)
    [ ${#pkgs[@]} -eq 0 ] || need_packages "${pkgs[@]}"
    need_python311
}

# need_clang_fuzz: clang with libFuzzer and the sanitizer runtimes.
need_clang_fuzz() {
    command -v clang >/dev/null 2>&1 || need_packages clang
    local rt
    rt="$(clang -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null || true)"
    [ -f "$rt" ] || need_packages libclang-rt-14-dev
}

# need_llvm_cov: llvm-profdata and llvm-cov for coverage reports.
need_llvm_cov() {
    command -v llvm-cov-14 >/dev/null 2>&1 || command -v llvm-cov >/dev/null 2>&1 \
        || need_packages llvm-14
}

# need_afl: AFL++ (afl-fuzz, afl-clang-fast, afl-cmin, afl-tmin).
need_afl() {
    command -v afl-clang-fast >/dev/null 2>&1 || need_packages afl++
}

# configure_build PRESET: configures (if needed) and builds a CMake preset.
configure_build() {
    local preset="$1"
    cmake --preset "$preset" -S "$BRINE_ROOT" >/dev/null || die "cmake --preset $preset failed"
    cmake --build --preset "$preset" -j "$BRINE_JOBS" || die "build of preset $preset failed"
}
