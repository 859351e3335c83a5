"""The matrix's reports: matrix.json, matrix.md, index.html and inputs/.

index.html is static (no script, no external reference; the look of the
nightly report, scripts/campaign/report.py): per implementation a table of
opcode family x protocol, each cell coloured by its agreement rate and,
when some comparison in it did not agree, linking to the smallest such
input (inputs/<sha1>.pickle, its first 16 hex digits of SHA-1).
"""

import html
import json
import os

from . import BUCKETS, FAMILIES, PROTOCOLS, _pct, known as known_mod

COLUMNS = ('all',) + PROTOCOLS


def build(results, meta):
    """The JSON-ready report."""
    impls = []
    for name, r in results.items():
        a = r['adapter']
        d = {'name': name, 'title': a.title, 'status': r['status'], 'view': a.view,
             'python_errors': a.python_errors, 'notes': a.notes}
        if r['status'] != 'ok':
            d['reason'] = r['reason']
        else:
            d.update(r['tally'].to_dict())
            d['seconds'] = r['seconds']
        impls.append(d)
    out = dict(meta)
    out['format'] = 'brine-matrix/1'
    out['families'] = list(FAMILIES)
    out['implementations'] = impls
    out['divergences'] = [{'id': d.id, 'issues': list(d.issues), 'description': d.description}
                          for d in known_mod.DIVERGENCES]
    return out


def write(report, out_dir):
    """Write the three files and inputs/, whose *.pickle files are exactly
    those the report links (older ones are removed)."""
    inputs = os.path.join(out_dir, 'inputs')
    os.makedirs(inputs, exist_ok=True)
    wanted = {}
    for impl in report['implementations']:
        for sha, rec in impl.get('inputs', {}).items():
            wanted[sha + '.pickle'] = rec['hex']
    for name in os.listdir(inputs):
        if name.endswith('.pickle') and name not in wanted:
            os.unlink(os.path.join(inputs, name))
    for name, hx in wanted.items():
        path = os.path.join(inputs, name)
        if not os.path.exists(path):
            with open(path, 'wb') as f:
                f.write(bytes.fromhex(hx))
    with open(os.path.join(out_dir, 'matrix.json'), 'w', encoding='utf-8') as f:
        json.dump(report, f, indent=1)
        f.write('\n')
    with open(os.path.join(out_dir, 'matrix.md'), 'w', encoding='utf-8') as f:
        f.write(markdown(report))
    with open(os.path.join(out_dir, 'index.html'), 'w', encoding='utf-8') as f:
        f.write(page(report))


def _cell(impl, fam, col):
    return impl.get('cells', {}).get(fam, {}).get(col)


def summary_rows(report):
    """[(name, overall cell or None, [protocol cells], status text)]."""
    rows = []
    for impl in report['implementations']:
        if impl['status'] != 'ok':
            rows.append((impl['name'], None, [], 'unavailable: ' + impl['reason']))
            continue
        rows.append((impl['name'], _cell(impl, 'all', 'all'),
                     [_cell(impl, 'all', p) for p in PROTOCOLS[:6]], ''))
    return rows


def text_summary(report):
    head = '%-14s %6s %7s %6s %6s %6s %6s  ' % ('impl', 'total', 'agree%', 'known', 'cannot',
                                                 'crash', 'fail')
    head += ' '.join('%7s' % ('p' + p) for p in PROTOCOLS[:6])
    lines = [head]
    for name, c, protos, status in summary_rows(report):
        if c is None:
            lines.append('%-14s %s' % (name, status))
            continue
        lines.append('%-14s %6d %7s %6d %6d %6d %6d  ' % (
            name, c['total'], _pct(c['rate']), c['known'], c['cannot'], c['crash'], c['fail'])
            + ' '.join('%7s' % (_pct(p['rate']) if p else '-') for p in protos))
    return '\n'.join(lines) + '\n'


def markdown(report):
    out = ['# Conformance matrix', '',
           '- reference: CPython %s C unpickler (inert stubs, symbolic policy)'
           % report.get('cpython'),
           '- inputs: %s; excluded: %s' % (
               ', '.join('%s %d' % kv for kv in report['sources'].items()),
               ', '.join('%s %d' % kv for kv in report['excluded'].items()) or 'none'),
           '- %.0f s; agreement = agree / (total - cannot - resource); see docs/adapters.md'
           % report.get('elapsed_seconds', 0), '',
           '## Summary', '',
           '| implementation | total | agree % | agree+known % | known | cannot | resource | '
           'crash | fail | ' + ' | '.join('p' + p for p in PROTOCOLS[:6]) + ' |',
           '|---|' + '---:|' * (8 + 6)]
    for name, c, protos, status in summary_rows(report):
        if c is None:
            out.append('| %s | %s |' % (name, status) + ' |' * 13)
            continue
        out.append('| %s | %d | %s | %s | %d | %d | %d | %d | %d | ' % (
            name, c['total'], _pct(c['rate']), _pct(c['rate_with_known']), c['known'],
            c['cannot'], c['resource'],
            c['crash'], c['fail']) + ' | '.join(_pct(p['rate']) if p else '-' for p in protos)
            + ' |')
    for impl in report['implementations']:
        out += ['', '## %s' % impl['name'], '', impl['title'] + (
            '; view `%s`' % impl['view'] if impl['view'] else '')]
        if impl['status'] != 'ok':
            out += ['', 'Unavailable: %s' % impl['reason']]
            continue
        out += ['', '| family | ' + ' | '.join(COLUMNS) + ' |', '|---|' + '---:|' * len(COLUMNS)]
        for fam in ('all',) + FAMILIES:
            row = []
            for col in COLUMNS:
                c = _cell(impl, fam, col)
                if not c:
                    row.append('')
                    continue
                t = _pct(c['rate'])
                if c.get('smallest'):
                    t += ' [%s](inputs/%s.pickle)' % (c['smallest'][:6], c['smallest'])
                row.append(t)
            out.append('| %s | %s |' % (fam, ' | '.join(row)))
        if impl.get('known'):
            out += ['', 'Known divergences (comparisons; smallest input): ' + ', '.join(
                '`%s` %d [%s](inputs/%s.pickle)' % (k, v, impl['known_smallest'][k][:6],
                                                     impl['known_smallest'][k])
                for k, v in sorted(impl['known'].items()))]
        out += ['', 'Classes: ' + ', '.join('%s %d' % kv for kv in sorted(impl['classes'].items()))]
    out += ['', '## Known divergences between CPython unpicklers', '',
            '| id | CPython issues | what |', '|---|---|---|']
    for d in report['divergences']:
        out.append('| %s | %s | %s |' % (d['id'], ', '.join(d['issues']), d['description']))
    out += encoders_md(report.get('encoders'))
    return '\n'.join(out) + '\n'


def encoders_md(enc):
    if not enc:
        return []
    out = ['', '## Encoders', '',
           '%d plain values (oracle/matrix/encode.py); each encoder writes them at protocols '
           '0-5 and CPython loads the pickles; agree / values. Not covered: %s.'
           % (enc['values'], ', '.join(enc['not_covered']) or 'none'), '',
           '| encoder | ' + ' | '.join('p%d' % p for p in range(6)) + ' | smallest disagreement |',
           '|---|' + '---:|' * 6 + '---|']
    for name, per in enc['encoders'].items():
        worst = next((v['smallest'] for v in per.values() if v['smallest']), None)
        out.append('| %s | %s | %s |' % (name, ' | '.join(
            '%d' % per[str(p)]['counts'].get('agree', 0) for p in range(6)),
            '%s `%s`: `%s`' % (worst['class'], worst['value'][:80], worst['encoder'][:80])
            if worst else ''))
    return out


CSS = """
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1240px;
       padding: 12px 20px 40px; color: #222; background: #fff; }
h1 { font-size: 24px; margin: 8px 0 4px; }
h2 { font-size: 19px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 3px; }
p.meta { margin: 2px 0; color: #444; }
table { border-collapse: collapse; margin: 6px 0 10px; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.r100 { background: #c8ecd2; } td.r99 { background: #e3f4d0; }
td.r90 { background: #fbeec1; } td.r50 { background: #f8d3b0; }
td.r0 { background: #f2b8b5; } td.na { background: #eee; color: #777; }
td a { color: #111; }
.legend span { display: inline-block; padding: 1px 8px; margin-right: 6px; }
code { font-size: 12px; overflow-wrap: anywhere; }
"""


def _e(x):
    return html.escape('' if x is None else str(x), quote=True)


def _tone(rate):
    if rate is None:
        return 'na'
    if rate >= 1.0:
        return 'r100'
    if rate >= 0.99:
        return 'r99'
    if rate >= 0.9:
        return 'r90'
    return 'r50' if rate >= 0.5 else 'r0'


def _td(impl, c):
    if not c:
        return '<td class="na"></td>'
    title = ', '.join('%s %d' % (b, c[b]) for b in ('total',) + BUCKETS)
    text = _e(_pct(c['rate']))
    sm = c.get('smallest')
    if sm:
        rec = impl['inputs'][sm]
        title += '; smallest non-agreeing input: %d bytes, %s%s' % (
            rec['size'], rec['class'], (', ' + rec['known']['id'] + ' ' + ' '.join(
                rec['known']['issues'])) if rec.get('known') else '')
        text = '<a href="inputs/%s.pickle">%s</a>' % (_e(sm), text)
    return '<td class="num %s" title="%s">%s</td>' % (_tone(c['rate']), _e(title), text)


def page(report):
    h = ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
         '<title>brine conformance matrix</title><style>%s</style></head><body>' % CSS,
         '<h1>Conformance matrix</h1>',
         '<p class="meta">Reference: CPython %s C unpickler with inert stubs. Inputs: %s. '
         'Excluded: %s. %.0f s.</p>' % (
             _e(report.get('cpython')),
             _e(', '.join('%s %d' % kv for kv in report['sources'].items())),
             _e(', '.join('%s %d' % kv for kv in report['excluded'].items()) or 'none'),
             report.get('elapsed_seconds', 0)),
         '<p class="meta">Agreement = agree / (total &minus; cannot-represent &minus; '
         'resource). A linked cell opens the smallest input that did not agree. '
         'See docs/adapters.md.</p>',
         '<p class="legend"><span class="r100" style="background:#c8ecd2">100%</span>'
         '<span style="background:#e3f4d0">&ge; 99%</span>'
         '<span style="background:#fbeec1">&ge; 90%</span>'
         '<span style="background:#f8d3b0">&ge; 50%</span>'
         '<span style="background:#f2b8b5">&lt; 50%</span>'
         '<span style="background:#eee">nothing comparable</span></p>',
         '<h2 id="summary">Summary</h2><table><tr><th>implementation</th><th>total</th>'
         '<th>agree</th><th>agree + known</th><th>known</th><th>cannot represent</th>'
         '<th>resource</th>'
         '<th>crash</th><th>fail</th>' + ''.join('<th>p%s</th>' % p for p in PROTOCOLS[:6])
         + '</tr>']
    for impl in report['implementations']:
        name = '<a href="#impl-%s">%s</a>' % (_e(impl['name']), _e(impl['name']))
        if impl['status'] != 'ok':
            h.append('<tr><td>%s</td><td colspan="14">unavailable: %s</td></tr>'
                     % (name, _e(impl['reason'])))
            continue
        c = _cell(impl, 'all', 'all')
        h.append('<tr><td>%s</td><td class="num">%d</td>%s' % (name, c['total'], _td(impl, c))
                 + '<td class="num">%s</td>' % _e(_pct(c['rate_with_known']))
                 + ''.join('<td class="num">%d</td>' % c[b] for b in
                           ('known', 'cannot', 'resource', 'crash', 'fail'))
                 + ''.join(_td(impl, _cell(impl, 'all', p)) for p in PROTOCOLS[:6]) + '</tr>')
    h.append('</table>')
    for impl in report['implementations']:
        h.append('<h2 id="impl-%s">%s</h2><p class="meta">%s%s%s</p>' % (
            _e(impl['name']), _e(impl['name']), _e(impl['title']),
            _e('; view ' + impl['view']) if impl['view'] else '',
            _e('; ' + impl['notes']) if impl.get('notes') else ''))
        if impl['status'] != 'ok':
            h.append('<p>Unavailable: %s</p>' % _e(impl['reason']))
            continue
        h.append('<table><tr><th>family</th>' + ''.join('<th>%s</th>' % _e(c) for c in COLUMNS)
                 + '</tr>')
        for fam in ('all',) + FAMILIES:
            h.append('<tr><th>%s</th>%s</tr>' % (_e(fam), ''.join(
                _td(impl, _cell(impl, fam, col)) for col in COLUMNS)))
        h.append('</table>')
        if impl.get('known'):
            issues = {d['id']: d['issues'] for d in report['divergences']}
            h.append('<p>Known divergences (comparisons; smallest input): %s</p>' % ', '.join(
                '%s (%s) %d <a href="inputs/%s.pickle">%s</a>' % (
                    _e(k), _e(', '.join(issues.get(k, ()))), v,
                    _e(impl['known_smallest'][k]), _e(impl['known_smallest'][k][:6]))
                for k, v in sorted(impl['known'].items())))
        h.append('<p class="meta">Classes: %s</p>' % _e(', '.join(
            '%s %d' % kv for kv in sorted(impl['classes'].items()))))
    h.append('<h2 id="divergences">Known divergences between CPython unpicklers</h2>'
             '<table><tr><th>id</th><th>CPython issues</th><th>what</th></tr>')
    for d in report['divergences']:
        h.append('<tr><td>%s</td><td>%s</td><td>%s</td></tr>' % (
            _e(d['id']), _e(', '.join(d['issues'])), _e(d['description'])))
    h.append('</table>')
    enc = report.get('encoders')
    if enc:
        h.append('<h2 id="encoders">Encoders</h2><p class="meta">%d plain values; each '
                 'encoder writes them at protocols 0-5 and CPython loads the pickles '
                 '(agree / values). Not covered: %s.</p>' % (
                     enc['values'], _e(', '.join(enc['not_covered']) or 'none')))
        h.append('<table><tr><th>encoder</th>%s<th>smallest disagreement</th></tr>'
                 % ''.join('<th>p%d</th>' % p for p in range(6)))
        for name, per in enc['encoders'].items():
            worst = next((v['smallest'] for v in per.values() if v['smallest']), None)
            cells = ''
            for p in range(6):
                n = per[str(p)]['counts'].get('agree', 0)
                cells += '<td class="num %s">%d</td>' % (
                    _tone(n / enc['values'] if enc['values'] else None), n)
            h.append('<tr><td>%s</td>%s<td><code>%s</code></td></tr>' % (
                _e(name), cells, _e('%s %s: %s' % (worst['class'], worst['value'][:80],
                                                   worst['encoder'][:80])) if worst else ''))
        h.append('</table>')
    h.append('</body></html>')
    return '\n'.join(h) + '\n'
