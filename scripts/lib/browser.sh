# scripts/lib/browser.sh - a headless browser for the tests that look at a
# page as a person would (tests/py/test_report_browser.py renders the
# nightly report in it). Source it after common.sh; do not run it.

# need_chromium: Debian's Chromium (/usr/bin/chromium) and a font for it.
# Chromium only recommends a font package (fonts-liberation), which
# need_packages leaves out (--no-install-recommends); with no font at all a
# bare machine renders pages without text. fonts-dejavu-core is small.
need_chromium() {
    local pkgs=()
    command -v chromium >/dev/null 2>&1 || pkgs+=(chromium)
    [ -n "$(fc-list 2>/dev/null | head -n 1)" ] || pkgs+=(fonts-dejavu-core)
    [ ${#pkgs[@]} -eq 0 ] || need_packages "${pkgs[@]}"
    command -v chromium >/dev/null 2>&1 || die "chromium is not on PATH after installing it"
}
