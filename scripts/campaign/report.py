"""The nightly campaign's report: summary.json -> summary.md and index.html.

    python3 -m campaign.report REPORT_DIR [--repo-root DIR]

reads REPORT_DIR/summary.json (schema 1, written by scripts/nightly) and
writes, next to it:

- summary.md: a compact Markdown summary for CI logs and GitHub's job
  summary (headline, runs, findings with their repro commands, coverage
  totals, conformance per protocol);
- index.html: one self-contained static page for people: inline CSS and
  SVG charts (campaign.svg), no JavaScript, no network, no external fonts.

The summary is treated defensively: any field may be missing, null or of
the wrong type, and is then shown as "-" rather than failing the report.
Every string from the file is escaped (HTML by campaign.svg.esc, Markdown
by md_text/md_code), so a finding's description cannot inject markup.
Links to inputs (findings, the smallest failing conformance case) are
relative to REPORT_DIR, computed from repository-relative paths, so the
page works wherever the repository is checked out.

Exit status: 0 when both files were written, 1 when summary.json cannot be
read, 2 on a usage error.
"""

import argparse
import json
import math
import os
import re
import sys

from . import svg
from .conformance_view import conformance_html, conformance_md
from .svg import esc, finite

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DASH = '\u2013'
MD_MAX_FINDINGS = 100       # GitHub caps a job summary at 1 MiB


# --- reading the summary ---------------------------------------------------------


def get(obj, *keys):
    """obj[k1][k2]... or None when any level is missing or not a container."""
    for k in keys:
        if isinstance(obj, dict):
            obj = obj.get(k)
        elif isinstance(obj, list) and isinstance(k, int) and -len(obj) <= k < len(obj):
            obj = obj[k]
        else:
            return None
    return obj


def dicts(value):
    """The dict items of value when it is a list, else []."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def fmt_num(value, digits=1):
    """1,234,567 for integral numbers, 5,487.3 otherwise, '-' for non-numbers."""
    v = finite(value)
    if v is None:
        return DASH
    if v == int(v) and abs(v) < 1e18:
        return '{:,}'.format(int(v))
    return '{:,.{}f}'.format(v, digits)


def fmt_pct(value):
    v = finite(value)
    return DASH if v is None else '%.1f%%' % v


def fmt_bool(value, yes, no):
    return yes if value is True else no if value is False else DASH


def text(value):
    """A string field shown as-is (escaped later), '-' when absent."""
    if value is None or value == '':
        return DASH
    if isinstance(value, (list, tuple)):
        return ', '.join(svg.clean(v) for v in value) or DASH
    return svg.clean(value)


def headline(s):
    """(title, [lines]) shared by the Markdown and the HTML page."""
    n_find = len(dicts(s.get('findings')))
    new = finite(s.get('new_findings'))
    if new is None:
        new = sum(1 for f in dicts(s.get('findings')) if f.get('new') is True)
    verdict = ('%d new finding%s' % (new, '' if new == 1 else 's') if new else 'no new findings')
    if n_find:
        verdict += ' (%d in all)' % n_find
    cfg = s.get('config') if isinstance(s.get('config'), dict) else {}
    mach = s.get('machine') if isinstance(s.get('machine'), dict) else {}
    commit = text(s.get('brine_commit'))
    if s.get('brine_dirty') is True:
        commit += ' (dirty)'
    dur = finite(s.get('duration_seconds'))
    lines = [
        'Run %s to %s (%s)' % (text(s.get('started')), text(s.get('finished')),
                               svg.fmt_duration(dur) if dur is not None else DASH),
        'Config: %s min, %s job(s), engines %s, targets %s'
        % (fmt_num(cfg.get('minutes')), fmt_num(cfg.get('jobs')), text(cfg.get('engines')),
           text(cfg.get('targets'))),
        'Machine: %s core(s), %s, %s, host %s' % (fmt_num(mach.get('cores')), text(mach.get('cpu')),
                                                text(mach.get('os')), text(mach.get('hostname'))),
        'CPython %s, brine %s' % (text(s.get('cpython')), commit),
    ]
    return 'brine nightly: ' + verdict, lines


RUN_COLUMNS = ('target', 'engine', 'seconds', 'instances', 'execs', 'exec/s', 'corpus start',
               'corpus end', 'coverage', 'unit', 'findings')


def run_row(r):
    return [text(r.get('target')), text(r.get('engine')), fmt_num(r.get('seconds')),
            fmt_num(r.get('instances')), fmt_num(r.get('execs')), fmt_num(r.get('exec_per_sec')),
            fmt_num(r.get('corpus_start')), fmt_num(r.get('corpus_end')),
            fmt_num(r.get('coverage')),
            text(r.get('coverage_unit')), fmt_num(r.get('findings'))]


def sorted_findings(s):
    return sorted(dicts(s.get('findings')),
                  key=lambda f: (f.get('new') is not True, str(f.get('class')),
                                 str(f.get('signature'))))


def new_seen(f):
    if f.get('new') is True:
        return 'new'
    if f.get('seen_before') is True:
        return 'seen before'
    return DASH


def sizes(f):
    return '%s \u2192 %s' % (fmt_num(f.get('size_original')), fmt_num(f.get('size_minimized')))


def findings_by_class(s):
    """{class: count}: the summary's own counts, else counted from findings."""
    given = s.get('findings_by_class')
    if isinstance(given, dict) and given:
        return {str(k): v for k, v in given.items()}
    out = {}
    for f in dicts(s.get('findings')):
        c = str(f.get('class') or 'unclassified')
        out[c] = out.get(c, 0) + 1
    return out


def coverage_lines(cov):
    """Coverage totals as lines of text, or [] when not measured."""
    if not isinstance(cov, dict):
        return []
    out = []
    for key in ('lines', 'branches'):
        part = cov.get(key)
        if isinstance(part, dict):
            out.append('%s: %s of %s (%s)' % (key, fmt_num(part.get('covered')),
                                              fmt_num(part.get('total')),
                                              fmt_pct(part.get('percent'))))
    if cov.get('decoder_lines_percent') is not None:
        out.append('decoder lines: %s' % fmt_pct(cov.get('decoder_lines_percent')))
    if cov.get('tool'):
        out.append('tool: %s' % text(cov.get('tool')))
    return out


def corpus_rows(s):
    corpus = s.get('corpus')
    if not isinstance(corpus, dict):
        return []
    return [[svg.clean(t)] + [fmt_num(get(c, k)) for k in ('seeds', 'before', 'after_merge',
                                                           'afl_cmin')]
            for t, c in corpus.items()]


# --- Markdown -------------------------------------------------------------------

_MD_SPECIAL = re.compile(r'([\\`*_\[\]{}<>|#!~])')
# GitHub turns bare URLs and www. names into links; a backslash before the
# ':' or '.' keeps them text (shown the same).
_MD_AUTOLINK = re.compile(r'(?i)\b(https?|ftp|www)(:|\.)')


def md_text(value):
    """Markdown-inert text for a table cell: punctuation backslash-escaped,
    '&' written as an entity, URLs kept from autolinking, newlines folded."""
    t = svg.clean(value).replace('&', '&amp;')
    t = _MD_SPECIAL.sub(r'\\\1', t)
    t = _MD_AUTOLINK.sub(lambda m: m.group(1) + '\\' + m.group(2), t)
    return re.sub(r'\s*[\r\n]+\s*', ' ', t)


def md_code(value):
    """An inline code span holding value, safe inside a table row: GFM
    splits rows on '|' even inside code spans unless it is escaped."""
    t = re.sub(r'\s*[\r\n]+\s*', ' ', svg.clean(value))
    if not t:
        return DASH
    fence = '`' * (max((len(m) for m in re.findall('`+', t)), default=0) + 1)
    pad = ' ' if t.startswith('`') or t.endswith('`') else ''
    return fence + pad + t.replace('|', '\\|') + pad + fence


def md_table(header, rows):
    out = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    out += ['| ' + ' | '.join(row) + ' |' for row in rows]
    return out


def render_md(s):
    title, lines = headline(s)
    out = ['## ' + md_text(title), '']
    out += [md_text(line) + '  ' for line in lines]
    runs = dicts(s.get('runs'))
    out += ['', '### Runs', '']
    if runs:
        out += md_table(RUN_COLUMNS, [[md_text(c) for c in run_row(r)] for r in runs])
    else:
        out.append('No runs.')
    found = sorted_findings(s)
    out += ['', '### Findings', '']
    if found:
        rows = [[md_code(f.get('signature')), md_text(text(f.get('class'))),
                 md_text(text(f.get('target'))), md_text(text(f.get('engine'))), new_seen(f),
                 md_text(sizes(f)), md_code(f.get('repro'))] for f in found[:MD_MAX_FINDINGS]]
        out += md_table(('signature', 'class', 'target', 'engine', 'new/seen',
                         'size original \u2192 minimized', 'repro'), rows)
        if len(found) > MD_MAX_FINDINGS:
            out += ['', '%d more findings: see index.html.' % (len(found) - MD_MAX_FINDINGS)]
    else:
        out.append('No findings.')
    out += ['', '### Coverage', '']
    cov = coverage_lines(s.get('coverage'))
    out += ['- ' + md_text(c) for c in cov] if cov else ['Not measured.']
    corpus = corpus_rows(s)
    if corpus:
        out += ['', '### Corpus', '']
        out += md_table(('target', 'seeds', 'before', 'after merge', 'after afl-cmin'),
                        [[md_text(c) for c in row] for row in corpus])
    out += ['', '### Conformance', ''] + conformance_md(s.get('conformance'), md_text)
    notes = s.get('notes')
    if isinstance(notes, list) and notes:
        out += ['', '### Notes', ''] + ['- ' + md_text(n) for n in notes]
    return '\n'.join(out) + '\n'


# --- HTML -----------------------------------------------------------------------

CSS = """
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1240px;
       padding: 12px 20px 40px; color: #222; background: #fff; }
h1 { font-size: 24px; margin: 8px 0 4px; }
h2 { font-size: 19px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 3px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
p.meta { margin: 2px 0; color: #444; }
nav a { margin-right: 12px; }
table { border-collapse: collapse; margin: 6px 0 10px; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.desc { max-width: 420px; overflow-wrap: anywhere; }
code { font-size: 12px; overflow-wrap: anywhere; }
.charts { display: flex; flex-wrap: wrap; gap: 14px; align-items: flex-start; }
.new { color: #b00020; font-weight: bold; }
.verdict-bad { color: #b00020; }
.verdict-ok { color: #1b7f3b; }
.note { color: #555; }
a.cell:hover rect { stroke: #000; stroke-width: 2; }
"""

_NUM = re.compile(r'^[\u2013\d,.%\s\u2192-]+$')


def h_table(header, rows, raw_cols=()):
    """An HTML table; cells are escaped unless their column is in raw_cols
    (cells the caller built from escaped parts)."""
    out = ['<table><thead><tr>'] + ['<th>%s</th>' % esc(h) for h in header]
    out.append('</tr></thead><tbody>')
    for row in rows:
        out.append('<tr>')
        for i, cell in enumerate(row):
            if i in raw_cols:
                out.append('<td>%s</td>' % cell)
            else:
                cls = ' class="num"' if _NUM.match(str(cell)) else ''
                out.append('<td%s>%s</td>' % (cls, esc(cell)))
        out.append('</tr>')
    out.append('</tbody></table>')
    return ''.join(out)


def rel_link(path, out_dir, root):
    """A relative href from out_dir to the repository path, or None."""
    if not isinstance(path, str) or not path or os.path.isabs(path) \
            or re.match(r'^[A-Za-z][A-Za-z0-9+.-]*:', path):
        return None
    target = os.path.normpath(os.path.join(root, path))
    return svg.rel_href(os.path.relpath(target, out_dir))


def path_cell(path, out_dir, root):
    href = rel_link(path, out_dir, root)
    if href is None:
        return esc(text(path))
    return '<a href="%s">%s</a>' % (esc(href), esc(path))


def target_colors(s):
    order = [t for t in (get(s, 'config', 'targets') or []) if isinstance(t, str)]
    for r in dicts(s.get('runs')):
        if isinstance(r.get('target'), str) and r['target'] not in order:
            order.append(r['target'])
    return {t: svg.PALETTE[i % len(svg.PALETTE)] for i, t in enumerate(order)}


def run_charts(s, field, y_title, from_zero):
    """One line chart per engine (and per coverage unit for coverage, since
    engines count coverage differently), one line per target."""
    colors = target_colors(s)
    panels = {}
    for r in dicts(s.get('runs')):
        engine = text(r.get('engine'))
        key = (engine, text(r.get('coverage_unit')) if field == 'coverage' else y_title)
        points = [(p.get('t'), p.get(field)) for p in dicts(r.get('series'))]
        name = '%s (%s)' % (text(r.get('target')), engine)
        panels.setdefault(key, []).append(
            svg.Series(name, colors.get(r.get('target'), '#555'), points, dash=engine == 'afl'))
    if not panels:
        return svg.empty_chart(y_title, 'no runs')
    title = 'coverage' if field == 'coverage' else 'exec/s'
    return ''.join(svg.line_chart(series, '%s: %s' % (title, engine), unit,
                                  y_from_zero=from_zero)
                   for (engine, unit), series in panels.items())


def findings_chart(s):
    counts = findings_by_class(s)
    new = {}
    for f in dicts(s.get('findings')):
        if f.get('new') is True:
            c = str(f.get('class') or 'unclassified')
            new[c] = new.get(c, 0) + 1
    if not counts:
        return svg.empty_chart('findings by class', 'no findings')
    bars = [(c, v, new.get(c), '%s: %s finding(s), %d new' % (c, fmt_num(v), new.get(c, 0)))
            for c, v in sorted(counts.items(), key=lambda kv: (-(finite(kv[1]) or 0), kv[0]))]
    return svg.bar_chart(bars, 'findings by class (dark: new)', 'findings')


def render_html(s, out_dir, root):
    title, lines = headline(s)
    new = 'no new findings' not in title
    out = ['<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"/>',
           '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
           '<title>%s</title><style>%s</style></head><body>' % (esc(title), CSS),
           '<header><h1>brine nightly campaign</h1>',
           '<p class="meta %s"><strong>%s</strong></p>'
           % ('verdict-bad' if new else 'verdict-ok', esc(title))]
    out += ['<p class="meta">%s</p>' % esc(line) for line in lines]
    out.append('<nav><a href="#runs">Runs</a><a href="#findings">Findings</a>'
               '<a href="#coverage">Coverage</a><a href="#throughput">Throughput</a>'
               '<a href="#conformance">Conformance</a><a href="#notes">Notes</a></nav></header>')

    runs = dicts(s.get('runs'))
    out.append('<section id="runs"><h2>Runs</h2>')
    out.append(h_table(RUN_COLUMNS, [run_row(r) for r in runs]) if runs
               else '<p class="note">No runs.</p>')
    corpus = corpus_rows(s)
    if corpus:
        out.append('<h3>Corpus</h3>')
        out.append(h_table(('target', 'seeds', 'before', 'after merge', 'after afl-cmin'), corpus))
    out.append('</section>')

    found = sorted_findings(s)
    out.append('<section id="findings"><h2>Findings</h2><div class="charts">%s</div>'
               % findings_chart(s))
    if found:
        rows = []
        for f in found:
            ns = new_seen(f)
            rows.append([
                '<code>%s</code>' % esc(text(f.get('signature'))), esc(text(f.get('class'))),
                esc(text(f.get('target'))), esc(text(f.get('engine'))), esc(text(f.get('kind'))),
                '<span class="new">new</span>' if ns == 'new' else esc(ns), esc(sizes(f)),
                '<div class="desc">%s</div>' % esc(text(f.get('description'))),
                path_cell(f.get('path'), out_dir, root),
                '<code>%s</code>' % esc(text(f.get('repro'))),
                esc('%s / %s' % (text(f.get('first_seen')), text(f.get('last_seen'))))])
        out.append(h_table(('signature', 'class', 'target', 'engine', 'kind', 'new/seen',
                            'size original \u2192 minimized', 'description', 'input', 'repro',
                            'first / last seen'), rows, raw_cols=range(11)))
    else:
        out.append('<p class="note">No findings.</p>')
    out.append('</section>')

    out.append('<section id="coverage"><h2>Coverage</h2><div class="charts">%s</div>'
               % run_charts(s, 'coverage', 'coverage', False))
    cov = s.get('coverage')
    cov_lines = coverage_lines(cov)
    if cov_lines:
        out.append('<h3>Totals</h3><ul>%s</ul>'
                   % ''.join('<li>%s</li>' % esc(c) for c in cov_lines))
        files = dicts(get(cov, 'files'))
        if files:   # folded: one row per source file is long
            out.append('<details><summary>Per file (%d files)</summary>%s</details>' % (
                len(files), h_table(('file', 'lines', 'branches'),
                                    [[text(f.get('file')), fmt_pct(f.get('lines_percent')),
                                      fmt_pct(f.get('branches_percent'))] for f in files])))
    else:
        out.append('<p class="note">Source coverage was not measured in this run.</p>')
    out.append('</section>')

    out.append('<section id="throughput"><h2>Throughput</h2><div class="charts">%s</div></section>'
               % run_charts(s, 'exec_per_sec', 'executions per second', True))
    out.append('<section id="conformance"><h2>Conformance</h2>%s</section>'
               % conformance_html(s.get('conformance'), lambda p: rel_link(p, out_dir, root)))
    notes = s.get('notes')
    out.append('<section id="notes"><h2>Notes</h2>')
    if isinstance(notes, list) and notes:
        out.append('<ul>%s</ul>' % ''.join('<li>%s</li>' % esc(text(n)) for n in notes))
    else:
        out.append('<p class="note">No notes.</p>')
    out.append('</section><footer><p class="note">Written by scripts/campaign/report.py from '
               'summary.json (schema %s).</p></footer></body></html>\n'
               % esc(text(s.get('schema'))))
    return '\n'.join(out)


# --- command line ---------------------------------------------------------------


def write_atomic(path, content):
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write(content)
    os.replace(tmp, path)


def render_dir(report_dir, root=ROOT):
    """Reads report_dir/summary.json, writes summary.md and index.html there.
    Raises OSError or ValueError when the summary cannot be read."""
    with open(os.path.join(report_dir, 'summary.json'), encoding='utf-8') as f:
        s = json.load(f, parse_constant=lambda c: math.nan)   # NaN/Infinity: drawn as missing
    if not isinstance(s, dict):
        raise ValueError('summary.json is not a JSON object')
    if s.get('schema') != 1:
        print('warning: summary.json schema is %r, this renderer knows 1'
              % (s.get('schema'),), file=sys.stderr)
    write_atomic(os.path.join(report_dir, 'summary.md'), render_md(s))
    write_atomic(os.path.join(report_dir, 'index.html'),
                 render_html(s, os.path.abspath(report_dir), os.path.abspath(root)))


def main(argv=None):
    ap = argparse.ArgumentParser(prog='python3 -m campaign.report',
                                 description='Render REPORT_DIR/summary.json as summary.md '
                                             'and index.html.')
    ap.add_argument('report_dir')
    ap.add_argument('--repo-root', default=ROOT,
                    help='the checkout that finding paths are relative to (default: %(default)s)')
    args = ap.parse_args(argv)
    try:
        render_dir(args.report_dir, args.repo_root)
    except (OSError, ValueError) as e:
        print('error: %s' % e, file=sys.stderr)
        return 1
    print(os.path.join(args.report_dir, 'index.html'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
