# scripts/lib/adapters.sh - installs the implementations of the conformance
# matrix (oracle/adapters/, docs/adapters.md) on a fresh Debian machine.
# Source it after common.sh; do not run it. Every function prints why it
# failed and returns non-zero instead of exiting: an implementation that
# cannot be installed is reported "unavailable" by the matrix, and the run
# goes on with the others.

BRINE_MATRIX_BUILD="${BRINE_MATRIX_BUILD:-$BRINE_ROOT/build-matrix}"
export BRINE_MATRIX_BUILD

# _try_packages PKG...: need_packages in a subshell (it exits on failure);
# apt-get update runs here, once per script, so that the subshell skips it.
_try_packages() {
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    if [ "$_apt_updated" -eq 0 ]; then
        $sudo apt-get update -qq >&2 && _apt_updated=1
    fi
    ( need_packages "$@" ) || { echo "matrix: could not install $*" >&2; return 1; }
}

# need_pypy3: PyPy 3 (runs the oracle's stdlib-only adapter).
need_pypy3() { command -v pypy3 >/dev/null 2>&1 || _try_packages pypy3; }

# need_zodbpickle: Debian's python3 with zodbpickle.
need_zodbpickle() {
    /usr/bin/python3 -c 'import zodbpickle.pickle' >/dev/null 2>&1 || _try_packages python3-zodbpickle
}

# need_js_adapters: node, npm, and pickleparser + jpickle in build-matrix/.
need_js_adapters() {
    command -v node >/dev/null 2>&1 || _try_packages nodejs || return 1
    command -v npm >/dev/null 2>&1 || _try_packages npm || return 1
    local dir="$BRINE_MATRIX_BUILD"
    if [ -d "$dir/node_modules/pickleparser" ] && [ -d "$dir/node_modules/jpickle" ]; then
        return 0
    fi
    mkdir -p "$dir"
    [ -f "$dir/package.json" ] || echo '{"name": "brine-matrix", "private": true}' >"$dir/package.json"
    step "npm install pickleparser jpickle (into $dir)"
    (cd "$dir" && npm install --no-audit --no-fund --silent pickleparser jpickle >&2) \
        || { echo "matrix: npm install failed" >&2; return 1; }
}

# need_go_adapter: golang-go, stalecucumber's Debian package, and the adapter
# binary built offline in GOPATH mode into build-matrix/go/bin/.
need_go_adapter() {
    command -v go >/dev/null 2>&1 || _try_packages golang-go || return 1
    [ -d /usr/share/gocode/src/github.com/hydrogen18/stalecucumber ] \
        || _try_packages golang-github-hydrogen18-stalecucumber-dev || return 1
    local gopath="$BRINE_MATRIX_BUILD/go" src="$BRINE_ROOT/oracle/adapters/go/stalecucumber-adapter"
    local bin="$gopath/bin/stalecucumber-adapter"
    if [ -x "$bin" ] && [ "$bin" -nt "$src/main.go" ]; then
        return 0
    fi
    mkdir -p "$gopath/src/stalecucumber-adapter" "$gopath/bin"
    cp "$src/main.go" "$gopath/src/stalecucumber-adapter/main.go"
    step "go build stalecucumber-adapter"
    (cd "$gopath/src/stalecucumber-adapter" \
        && GO111MODULE=off GOPATH="/usr/share/gocode:$gopath" GOCACHE="$gopath/cache" \
            GOFLAGS= go build -o "$bin" .) \
        || { echo "matrix: go build of the stalecucumber adapter failed" >&2; return 1; }
}

# need_matrix_adapters: all of the above; each failure only makes that
# adapter unavailable.
need_matrix_adapters() {
    need_pypy3 || true
    need_zodbpickle || true
    need_js_adapters || true
    need_go_adapter || true
}
