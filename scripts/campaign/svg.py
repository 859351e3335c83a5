"""Static SVG chart primitives for the campaign report (campaign.report).

Everything returns a string holding one ``<svg>`` element that is
well-formed XML and valid inline in HTML5: no namespace declarations (an
HTML parser puts inline ``<svg>`` in the SVG namespace by itself, and the
report must not name any external address), no scripts, no external
references. Hrefs are relative paths only (:func:`rel_href`).

Every string that reaches the output goes through :func:`esc`, so labels,
titles and tooltips taken from a summary file cannot inject markup. Numbers
are checked for being finite before they are drawn: a NaN or an infinity
from a data file is dropped rather than turned into a broken path.
"""

import html
import math
import re
import urllib.parse

# Distinct on white and for the common colour-vision deficiencies
# (the Okabe-Ito palette, then a few darker extras).
PALETTE = ('#0072b2', '#e69f00', '#009e73', '#d55e00', '#cc79a7', '#56b4e9',
           '#f0c000', '#000000', '#8c564b', '#7f7f7f')

FONT = 'font-family="system-ui, sans-serif"'


# Characters XML 1.0 forbids (and HTML shows as garbage): C0 controls other
# than tab/newline/return, lone surrogates (json.loads makes them from
# "\\ud800"), and the non-characters U+FFFE/U+FFFF.
_BAD_CHARS = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]')


def clean(value):
    """str(value) with the characters XML cannot carry shown as \\xNN or
    \\uNNNN (None is the empty string)."""
    if value is None:
        return ''
    return _BAD_CHARS.sub(lambda m: ('\\x%02x' if ord(m.group()) < 256 else '\\u%04x')
                          % ord(m.group()), str(value))


def esc(value):
    """Text- and attribute-safe form of any value (None is the empty string)."""
    return html.escape(clean(value), quote=True)


def finite(value):
    """A float of value when it is a finite number (not bool), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        v = float(value)
    except OverflowError:       # an int too big for a float
        return None
    return v if math.isfinite(v) else None


_SUFFIXES = ((1e15, 'P'), (1e12, 'T'), (1e9, 'G'), (1e6, 'M'), (1e3, 'k'))


def fmt_si(value):
    """Short form of a number for axes: 950, 1.2k, 15k, 3M, 1.5G, -2k."""
    v = finite(value)
    if v is None:
        return '-'
    if v < 0:
        return '-' + fmt_si(-v)
    for scale, suffix in _SUFFIXES:
        if v >= scale * 0.9995:
            return _trim('%.3g' % (v / scale)) + suffix
    if v == int(v):
        return '%d' % v
    return _trim('%.3g' % v)


def _trim(text):
    if 'e' in text:             # %.3g of a value >= 1000 after scaling: keep it short
        return '%d' % round(float(text))
    return text.rstrip('0').rstrip('.') if '.' in text else text


def fmt_duration(seconds):
    """30s, 1m, 1m30s, 2h, 1h15m: for time axes."""
    s = int(round(seconds))
    if s < 60:
        return '%ds' % s
    if s < 3600:
        m, r = divmod(s, 60)
        return '%dm' % m + ('%ds' % r if r else '')
    h, r = divmod(s, 3600)
    return '%dh' % h + ('%dm' % (r // 60) if r // 60 else '')


def nice_ticks(lo, hi, count=5, integer=False):
    """Round axis bounds and ticks covering [lo, hi] with about count steps
    (whole-number steps when integer is true: counts of things)."""
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(hi) * 0.1 or 1.0
        lo, hi = lo - pad if lo != 0 else 0.0, hi + pad
    raw = (hi - lo) / max(count, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    if integer:
        step = max(1, math.ceil(step))
    start = math.floor(lo / step) * step
    stop = math.ceil(hi / step) * step
    n = int(round((stop - start) / step))
    return start, stop, [start + i * step for i in range(n + 1)]


_TIME_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800,
               21600, 43200, 86400)


def time_ticks(hi, count=6):
    """Axis end and ticks for 0..hi seconds, on round durations."""
    hi = max(hi, 1.0)
    step = next((s for s in _TIME_STEPS if hi / s <= count), None)
    if step is None:
        step = nice_ticks(0, hi, count)[2][1]
    stop = math.ceil(hi / step) * step
    return stop, [i * step for i in range(int(round(stop / step)) + 1)]


_SCHEME = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*:')


def rel_href(path):
    """A relative URL for a relative filesystem path, or None when the path
    is not one (absolute, a URL, a protocol-relative //host, empty).
    Percent-encoding keeps ':' and friends from reading as a scheme."""
    if not isinstance(path, str) or not path or path.startswith(('/', '\\')):
        return None
    if _SCHEME.match(path) or '\x00' in path:
        return None
    url = urllib.parse.quote(path.replace('\\', '/'), safe='/._-~')
    return url if url.startswith('.') else './' + url


class Series:
    """One line of a line chart: a name, a colour and (x, y) points."""

    def __init__(self, name, color, points, dash=False):
        self.name = name
        self.color = color
        self.dash = dash
        self.points = []
        for x, y in points:
            fx, fy = finite(x), finite(y)
            if fx is not None and fy is not None:
                self.points.append((fx, fy))
        self.points.sort(key=lambda p: p[0])


def _svg_open(width, height, label):
    return ('<svg width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s" %s '
            'font-size="12">' % (width, height, width, height, esc(label), FONT))


def empty_chart(title, message, width=560, height=90):
    """A chart-sized box saying why there is nothing to draw."""
    return ''.join([
        _svg_open(width, height, '%s: %s' % (title, message)),
        '<title>%s</title>' % esc(title),
        '<rect x="0.5" y="0.5" width="%d" height="%d" fill="#fafafa" stroke="#ccc"/>'
        % (width - 1, height - 1),
        '<text x="12" y="22" font-weight="bold">%s</text>' % esc(title),
        '<text x="%d" y="%d" text-anchor="middle" fill="#666">%s</text>'
        % (width // 2, height // 2 + 14, esc(message)),
        '</svg>'])


def line_chart(series, title, y_label, x_label='seconds into the run', width=560, height=300,
               y_from_zero=True):
    """A line chart of series (list of Series) against time in seconds.

    Single points are drawn as dots (a line needs two); series with no
    finite point are listed in the legend as "(no samples)". The y axis
    starts at 0 unless y_from_zero is False (coverage grows by a few
    percent, which a zero-based axis would flatten).
    """
    drawn = [s for s in series if s.points]
    if not drawn:
        if not series:
            return empty_chart(title, 'no runs', width)
        names = ', '.join(s.name for s in series)
        if len(names) > 70:
            names = names[:69] + '\u2026'
        return empty_chart(title, 'no samples: ' + names, width)
    xs = [x for s in drawn for x, _ in s.points]
    ys = [y for s in drawn for _, y in s.points]
    x_hi, x_ticks = time_ticks(max(max(xs), 0.0))
    x_lo = min(0.0, min(xs))
    if x_lo < 0:                # clock skew in a sample: show it, do not clip
        x_lo = nice_ticks(x_lo, 0)[0]
        x_ticks = [x_lo] + [t for t in x_ticks if t > x_lo]
    lo = min(0.0, min(ys)) if y_from_zero else min(ys)
    y_lo, y_hi, y_ticks = nice_ticks(lo, max(ys))

    legend_rows = len(series)
    left, right, top = 62, 12, 30
    bottom = 40 + 16 * legend_rows
    ph, pw = height - top - 40, width - left - right
    height = top + ph + bottom

    def px(x):
        return left + (x - x_lo) / (x_hi - x_lo) * pw

    def py(y):
        return top + ph - (y - y_lo) / (y_hi - y_lo) * ph

    out = [_svg_open(width, height, title), '<title>%s</title>' % esc(title),
           '<text x="%d" y="18" font-weight="bold">%s</text>' % (left, esc(title))]
    # grid and axes
    for t in y_ticks:
        y = py(t)
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e5e5e5"/>'
                   % (left, y, left + pw, y))
        out.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>'
                   % (left - 6, y + 4, esc(fmt_si(t))))
    for t in x_ticks:
        x = px(t)
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#e5e5e5"/>'
                   % (x, top, x, top + ph))
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>'
                   % (x, top + ph + 15, esc(fmt_duration(t) if t >= 0 else '-' + fmt_duration(-t))))
    out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>'
               % (left, top, pw, ph))
    out.append('<text x="%d" y="%d" text-anchor="middle" fill="#444">%s</text>'
               % (left + pw // 2, top + ph + 31, esc(x_label)))
    out.append('<text transform="translate(14 %d) rotate(-90)" text-anchor="middle" fill="#444">'
               '%s</text>' % (top + ph // 2, esc(y_label)))
    # the data
    for s in drawn:
        dash = ' stroke-dasharray="6 3"' if s.dash else ''
        tip = '%s: %d samples, last %s' % (s.name, len(s.points), fmt_si(s.points[-1][1]))
        out.append('<g><title>%s</title>' % esc(tip))
        if len(s.points) > 1:
            pts = ' '.join('%.1f,%.1f' % (px(x), py(y)) for x, y in s.points)
            out.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>'
                       % (pts, esc(s.color), dash))
        if len(s.points) <= 40:
            for x, y in s.points:
                out.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>'
                           % (px(x), py(y), esc(s.color)))
        out.append('</g>')
    # legend
    y = top + ph + 50
    for s in series:
        note = '' if s.points else ' (no samples)'
        dash = ' stroke-dasharray="6 3"' if s.dash else ''
        out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"%s/>'
                   % (left, y - 4, left + 22, y - 4, esc(s.color), dash))
        out.append('<text x="%d" y="%d">%s</text>' % (left + 28, y, esc(s.name + note)))
        y += 16
    out.append('</svg>')
    return ''.join(out)


def bar_chart(bars, title, value_label, width=560):
    """Horizontal bars: bars is a list of (label, value, part, tooltip),
    where part (<= value, or None) is drawn darker inside the bar (e.g. the
    new findings among all of a class)."""
    bars = [(lbl, finite(v) or 0.0, finite(p), tip) for lbl, v, p, tip in bars]
    if not bars:
        return empty_chart(title, 'nothing to show', width)
    row, left, top = 24, 210, 30
    height = top + row * len(bars) + 36
    pw = width - left - 70
    _, hi, ticks = nice_ticks(0, max(max(v for _, v, _, _ in bars), 1.0), 4, integer=True)
    out = [_svg_open(width, height, title), '<title>%s</title>' % esc(title),
           '<text x="8" y="18" font-weight="bold">%s</text>' % esc(title)]
    for t in ticks:
        x = left + t / hi * pw
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#e5e5e5"/>'
                   % (x, top, x, top + row * len(bars)))
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>'
                   % (x, top + row * len(bars) + 14, esc(fmt_si(t))))
    for i, (label, value, part, tip) in enumerate(bars):
        y = top + i * row
        short = label if len(label) <= 30 else label[:29] + '\u2026'
        out.append('<g><title>%s</title>' % esc(tip))
        out.append('<text x="%d" y="%d" text-anchor="end">%s</text>'
                   % (left - 6, y + 16, esc(short)))
        out.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="#9ecae1"/>'
                   % (left, y + 4, value / hi * pw, row - 8))
        if part:
            out.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="#d55e00"/>'
                       % (left, y + 4, min(part, value) / hi * pw, row - 8))
        out.append('<text x="%.1f" y="%d">%s</text>'
                   % (left + value / hi * pw + 5, y + 16, esc(fmt_si(value))))
        out.append('</g>')
    out.append('<text x="%d" y="%d" text-anchor="middle" fill="#444">%s</text>'
               % (left + pw // 2, top + row * len(bars) + 30, esc(value_label)))
    out.append('</svg>')
    return ''.join(out)


def grid_chart(title, columns, groups, legend, cell_w=118, cell_h=20, label_w=190):
    """A matrix of coloured cells.

    columns  column headings
    groups   [(group heading, [(row label, [cell or None per column])])]
    cell     dict: fill, text, title (tooltip), href (relative URL or None)
    legend   [(fill, description)]
    """
    n_rows = sum(1 + len(rows) for _, rows in groups)
    cell_w = max(84, min(cell_w, (1200 - label_w) // max(len(columns), 1)))   # fit the page
    top = 48
    width = label_w + cell_w * len(columns) + 10
    body = top + n_rows * cell_h
    height = body + 20 + 18 * ((len(legend) + 1) // 2) + 6
    out = [_svg_open(width, height, title), '<title>%s</title>' % esc(title),
           '<text x="4" y="18" font-weight="bold">%s</text>' % esc(title)]
    for j, col in enumerate(columns):
        out.append('<text x="%d" y="%d" text-anchor="middle" font-weight="bold">%s</text>'
                   % (label_w + j * cell_w + cell_w // 2, top - 8, esc(col)))
    y = top
    for heading, rows in groups:
        out.append('<text x="4" y="%d" font-weight="bold" fill="#333">%s</text>'
                   % (y + cell_h - 6, esc(heading)))
        out.append('<line x1="0" y1="%d" x2="%d" y2="%d" stroke="#bbb"/>' % (y, width, y))
        y += cell_h
        for label, cells in rows:
            out.append('<text x="14" y="%d" font-family="monospace">%s</text>'
                       % (y + cell_h - 6, esc(label)))
            for j, cell in enumerate(cells):
                x = label_w + j * cell_w
                if cell is None:
                    out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="#f4f4f4" '
                               'stroke="#fff"/>' % (x, y, cell_w, cell_h))
                    continue
                inner = ('<title>%s</title><rect x="%d" y="%d" width="%d" height="%d" fill="%s" '
                         'stroke="#fff"/><text x="%d" y="%d" text-anchor="middle" font-size="11">'
                         '%s</text>' % (esc(cell.get('title')), x, y, cell_w, cell_h,
                                        esc(cell.get('fill', '#eee')), x + cell_w // 2,
                                        y + cell_h - 6, esc(cell.get('text'))))
                href = cell.get('href')
                if href:
                    out.append('<a href="%s" class="cell">%s</a>' % (esc(href), inner))
                else:
                    out.append('<g>%s</g>' % inner)
            y += cell_h
    y = body + 20
    for i, (fill, text) in enumerate(legend):
        x = 4 + (i % 2) * (width // 2)
        yy = y + (i // 2) * 18
        out.append('<rect x="%d" y="%d" width="14" height="12" fill="%s" stroke="#999"/>'
                   % (x, yy - 10, esc(fill)))
        out.append('<text x="%d" y="%d">%s</text>' % (x + 20, yy, esc(text)))
    out.append('</svg>')
    return ''.join(out)
