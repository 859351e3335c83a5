"""The conformance part of the campaign report (campaign.report).

Input: the JSON of ``python3 -m oracle conformance --json`` (by_protocol,
by_opcode with per-protocol counts, by_class, failures), read defensively:
any part may be missing. A cell's agreement rate is (agree + known) /
total; known differences (docs/known-differences.md) count as agreement but
are shown apart, and failures decide the colour whatever the rate rounds to.

Output: a per-protocol table (Markdown and HTML) and, in HTML, the protocol
x opcode matrix: rows are the opcodes grouped by what they do, columns the
protocols 0-5 and all of them; a cell with failures links to the smallest
failing input that has a path.
"""

import math

from . import svg
from .svg import esc, finite

DASH = '\u2013'
PROTOCOLS = ('0', '1', '2', '3', '4', '5')

# Every opcode of protocols 0-5, by what it does. Opcodes in the data but not
# here (a newer CPython) go under "other".
FAMILIES = (
    ('framing', ('PROTO', 'FRAME', 'STOP')),
    ('integers', ('INT', 'BININT', 'BININT1', 'BININT2', 'LONG', 'LONG1', 'LONG4')),
    ('floats', ('FLOAT', 'BINFLOAT')),
    ('None and booleans', ('NONE', 'NEWTRUE', 'NEWFALSE')),
    ('str', ('UNICODE', 'SHORT_BINUNICODE', 'BINUNICODE', 'BINUNICODE8')),
    ('bytes and Python 2 strings', ('STRING', 'BINSTRING', 'SHORT_BINSTRING', 'BINBYTES',
                                    'SHORT_BINBYTES', 'BINBYTES8', 'BYTEARRAY8')),
    ('out-of-band buffers', ('NEXT_BUFFER', 'READONLY_BUFFER')),
    ('lists', ('EMPTY_LIST', 'APPEND', 'APPENDS', 'LIST')),
    ('tuples', ('EMPTY_TUPLE', 'TUPLE', 'TUPLE1', 'TUPLE2', 'TUPLE3')),
    ('dicts', ('EMPTY_DICT', 'DICT', 'SETITEM', 'SETITEMS')),
    ('sets', ('EMPTY_SET', 'ADDITEMS', 'FROZENSET')),
    ('stack', ('MARK', 'POP', 'POP_MARK', 'DUP')),
    ('memo', ('PUT', 'BINPUT', 'LONG_BINPUT', 'MEMOIZE', 'GET', 'BINGET', 'LONG_BINGET')),
    ('globals and objects', ('GLOBAL', 'STACK_GLOBAL', 'REDUCE', 'BUILD', 'INST', 'OBJ',
                             'NEWOBJ', 'NEWOBJ_EX')),
    ('extension registry', ('EXT1', 'EXT2', 'EXT4')),
    ('persistent ids', ('PERSID', 'BINPERSID')),
)

COLORS = (  # (fill, legend)
    ('#74c476', 'all agree'),
    ('#c7e9c0', 'no failures (known differences or resource limits)'),
    ('#fee391', 'failures, agreement \u2265 99%'),
    ('#fdae6b', 'failures, agreement \u2265 90%'),
    ('#fb6a4a', 'failures, agreement < 90%'),
    ('#e0e0e0', 'no cases'),
)
BUCKETS = ('total', 'agree', 'known', 'resource', 'fail')


def counts(cell):
    """{bucket: float} of a cell (missing buckets: 0), or None when it has no
    count at all. 'resource': the reference ran out of memory or time."""
    if not isinstance(cell, dict):
        return None
    c = {k: finite(cell.get(k)) or 0.0 for k in BUCKETS}
    return c if any(c.values()) else None


def rate(c):
    """(agree + known) / total, or None for an empty cell."""
    return (c['agree'] + c['known']) / c['total'] if c['total'] > 0 else None


def rate_text(c):
    """'99.9%': rounded down, so that a cell with failures never says 100%."""
    r = rate(c)
    if r is None:
        return DASH
    if c['fail'] and r >= 1:
        r = 1 - 1e-9
    return '%g%%' % (math.floor(r * 1000) / 10)


def fill(c):
    """The colour: failures decide it, whatever the rate rounds to."""
    r = rate(c)
    if r is None:
        return COLORS[5][0]
    if not c['fail']:
        return COLORS[0][0] if not c['known'] and not c['resource'] else COLORS[1][0]
    return COLORS[2][0] if r >= 0.99 else COLORS[3][0] if r >= 0.9 else COLORS[4][0]


def protocol_key(value):
    """'2' for 2, '2' or 2.0; other strings ('invalid', 'unknown') as they
    are; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and finite(value) is not None and value == int(value):
        return str(int(value))
    if isinstance(value, str) and value.strip():
        return str(int(value)) if value.strip().isdigit() else value.strip()
    return None


def sized(f):
    size = finite(f.get('size'))
    return math.inf if size is None else size


def smallest_linkable(failures, link):
    """{(opcode or None, protocol or None): failure}: the smallest failing
    input that has a linkable path, for each opcode at a protocol, each
    opcode, each protocol and overall. The oracle keeps paths for inputs
    of the repository (regressions) only; generated ones come as hex."""
    best = {}
    for f in failures:
        if link(f.get('path')) is None:
            continue
        proto = protocol_key(f.get('protocol'))
        ops = [o for o in f.get('opcodes') or [] if isinstance(o, str)] \
            if isinstance(f.get('opcodes'), list) else []
        keys = [(o, proto) for o in ops] + [(o, None) for o in ops] + [(None, proto), (None, None)]
        for key in keys:
            if key not in best or sized(f) < sized(best[key]):
                best[key] = f
    return best


def cell(label, data, key, ctx):
    """One matrix cell from a conformance CELL; ctx = (failures by id,
    smallest_linkable(), link)."""
    c = counts(data)
    if c is None:
        return None
    by_id, linkable, link = ctx
    t = rate_text(c)
    if c['fail']:
        t += ' \u2717' + svg.fmt_si(c['fail'])
    elif c['known']:
        t += ' (%s known)' % svg.fmt_si(c['known'])
    elif c['resource']:
        t += ' (%s res.)' % svg.fmt_si(c['resource'])
    tip = ('%s: %s cases, %s agree, %s known differences, %s resource limits, %s fail; '
           'agreement %s' % (label, svg.fmt_si(c['total']), svg.fmt_si(c['agree']),
                             svg.fmt_si(c['known']), svg.fmt_si(c['resource']),
                             svg.fmt_si(c['fail']), rate_text(c)))
    href = None
    if c['fail']:
        named = by_id.get(data.get('smallest')) if isinstance(data.get('smallest'), str) else None
        if named is not None:
            where = named.get('path') or 'hex %s' % svg.clean(named.get('hex', ''))[:24]
            tip += '; smallest failing input %s: %s bytes, %s' % (
                svg.clean(data['smallest']), svg.fmt_si(named.get('size')), where)
        target = named if named is not None and link(named.get('path')) else linkable.get(key)
        if target is not None:
            href = link(target['path'])
            if target is not named:
                tip += '; smallest with a path: %s (%s bytes)' % (target['path'],
                                                                 svg.fmt_si(target.get('size')))
    return {'fill': fill(c), 'text': t, 'title': tip, 'href': href}


def failure_list(conf):
    failures = conf.get('failures')
    return [f for f in failures if isinstance(f, dict)] if isinstance(failures, list) else []


def protocol_columns(conf):
    """Protocols 0-5, then any other key with cases ('invalid', 'unknown')."""
    extra = []
    by_proto = conf.get('by_protocol') if isinstance(conf.get('by_protocol'), dict) else {}
    for k, v in by_proto.items():
        p = protocol_key(k)
        if p is not None and p not in PROTOCOLS and p not in extra and counts(v):
            extra.append(p)
    return list(PROTOCOLS) + extra


def matrix(conf, link):
    by_op = conf.get('by_opcode')
    if not isinstance(by_op, dict) or not by_op:
        return '<p class="note">No per-opcode counts in the conformance data.</p>'
    failures = failure_list(conf)
    ctx = ({f.get('id'): f for f in failures if isinstance(f.get('id'), str)},
           smallest_linkable(failures, link), link)
    protos = protocol_columns(conf)
    columns = ['protocol %s' % p if p in PROTOCOLS else p for p in protos] + ['all']
    known = {op for _, ops in FAMILIES for op in ops}
    families = list(FAMILIES) + [('other', tuple(sorted(str(o) for o in by_op if o not in known)))]

    def row(op, data):
        data = data if isinstance(data, dict) else {}
        per = data.get('protocols')
        per = {protocol_key(k): v for k, v in per.items()} if isinstance(per, dict) else {}
        cells = [cell('%s at protocol %s' % (op, p), per.get(p), (op, p), ctx) for p in protos]
        cells.append(cell('%s, all protocols' % op, data, (op, None), ctx))
        return (op, cells)

    by_proto = conf.get('by_protocol') if isinstance(conf.get('by_protocol'), dict) else {}
    by_proto = {protocol_key(k): v for k, v in by_proto.items()}
    overall = conf.get('overall')
    if counts(overall) is None:     # older or partial data: add the protocols up
        per = [counts(v) for v in by_proto.values() if counts(v)]
        overall = {k: sum(c[k] for c in per) for k in BUCKETS} if per else None
    totals = [cell('protocol %s' % p, by_proto.get(p), (None, p), ctx) for p in protos]
    totals.append(cell('all protocols', overall, (None, None), ctx))
    groups = [('all opcodes', [('by protocol', totals)])]
    for name, ops in families:
        rows = [row(op, by_op.get(op)) for op in ops if op in by_op or name != 'other']
        if rows:
            groups.append((name, rows))
    return svg.grid_chart('agreement with CPython by opcode and protocol', columns, groups,
                          list(COLORS))


PROTO_COLUMNS = ('protocol', 'cases', 'agree', 'known', 'resource', 'fail', 'agreement')


def protocol_rows(conf):
    """Rows of the per-protocol table: 0-5, other keys, then 'all'."""
    by_proto = conf.get('by_protocol')
    if not isinstance(by_proto, dict):
        return []
    order = {p: i for i, p in enumerate(PROTOCOLS)}
    rows = []
    for k in sorted(by_proto, key=lambda k: (order.get(protocol_key(k), len(order)), str(k))):
        c = counts(by_proto[k]) or dict.fromkeys(BUCKETS, 0.0)
        rows.append([svg.clean(k)] + ['{:,}'.format(int(c[b])) for b in BUCKETS] + [rate_text(c)])
    overall = counts(conf.get('overall'))
    if overall:
        rows.append(['all'] + ['{:,}'.format(int(overall[b])) for b in BUCKETS]
                    + [rate_text(overall)])
    return rows


def source_line(conf):
    src = conf.get('sources') if isinstance(conf.get('sources'), dict) else {}
    parts = ['%s %s' % (svg.fmt_si(v), svg.clean(k)) for k, v in src.items()
             if finite(v) is not None]
    return 'CPython %s, brine %s; cases: %s' % (
        svg.clean(conf.get('cpython') or DASH), svg.clean(conf.get('brine_commit') or DASH),
        ', '.join(parts) or DASH)


def conformance_md(conf, md_text):
    if not isinstance(conf, dict):
        return ['Not measured in this run.']
    out = [md_text(source_line(conf)), '']
    rows = protocol_rows(conf)
    if rows:
        out.append('| ' + ' | '.join(PROTO_COLUMNS) + ' |')
        out.append('|' + '---|' * len(PROTO_COLUMNS))
        out += ['| ' + ' | '.join(md_text(c) for c in r) + ' |' for r in rows]
    else:
        out.append('No per-protocol counts.')
    return out


def conformance_html(conf, link):
    """The conformance section's body; link(path) gives a relative href or None."""
    if not isinstance(conf, dict):
        return '<p class="note">Conformance was not measured in this run.</p>'
    out = ['<p class="meta">%s</p>' % esc(source_line(conf))]
    rows = protocol_rows(conf)
    if rows:
        out.append('<table><thead><tr>%s</tr></thead><tbody>'
                   % ''.join('<th>%s</th>' % esc(h) for h in PROTO_COLUMNS))
        out += ['<tr>%s</tr>' % ''.join('<td class="num">%s</td>' % esc(c) for c in r)
                for r in rows]
        out.append('</tbody></table>')
    by_class = conf.get('by_class')
    if isinstance(by_class, dict) and by_class:
        out.append('<h3>By outcome class</h3><table><tbody>')
        for k, v in sorted(by_class.items(), key=lambda kv: str(kv[0])):
            val = svg.fmt_si(v) if finite(v) is not None else (
                ', '.join('%s %s' % (svg.clean(a), svg.fmt_si(b)) for a, b in v.items())
                if isinstance(v, dict) else svg.clean(v))
            out.append('<tr><th>%s</th><td>%s</td></tr>' % (esc(k), esc(val)))
        out.append('</tbody></table>')
    out.append('<div class="charts">%s</div>' % matrix(conf, link))
    failures = sorted(failure_list(conf), key=sized)
    if failures:
        out.append('<h3>Smallest failures (%d of %d)</h3>'
                   % (min(len(failures), 50), len(failures)))
        out.append('<table><thead><tr><th>id</th><th>source</th><th>name</th><th>class</th>'
                   '<th>protocol</th><th>size</th><th>opcodes</th><th>input</th></tr></thead>'
                   '<tbody>')
        for f in failures[:50]:
            href = link(f.get('path'))
            where = ('<a href="%s">%s</a>' % (esc(href), esc(f.get('path'))) if href
                     else '<code>%s</code>' % esc(str(f.get('hex') or f.get('path') or DASH)[:96]))
            ops = f.get('opcodes') if isinstance(f.get('opcodes'), list) else []
            out.append('<tr>%s<td class="num">%s</td><td><code>%s</code></td><td>%s</td></tr>' % (
                ''.join('<td>%s</td>' % esc(f.get(k)) for k in ('id', 'source', 'name', 'class',
                                                                'protocol')),
                esc(svg.fmt_si(f.get('size'))), esc(' '.join(svg.clean(o) for o in ops[:12])),
                where))
        out.append('</tbody></table>')
    return ''.join(out)
