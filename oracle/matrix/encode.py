"""The encoder check of the matrix: CPython loads what each encoder writes.

Values: the reference's canonical texts of the generated streams that hold
plain data only (oracle.adapters.pyrun.literal: no labels, globals,
objects, NaN payloads), deduplicated, at most N of them spread evenly.
Each encoder adapter (``--encode P``) writes every value at protocols 0-5;
the reference (oracle.reference.decode under oracle.limits, policy
``builtins`` so that CPython's own reduce shapes for bytes, sets and
bytearrays at low protocols fold back into values) decodes the pickle, and
its text, with sharing written out (:func:`unshare`: CPython shares equal
one-byte bytes and small ints by itself) and, where they differ, set
elements sorted, must equal the value's text.

Not covered: values with shared or cyclic nodes, globals and objects (their
canonical text has no Python value an encoder could be given without
importing), and the encoders of the JavaScript and Go packages (the
adapters have no encode mode: building their native values from the
canonical text is left for later).
"""

import collections
import os
import re
import shutil

from .. import adapters as ad
from ..adapters.pyrun import NotPlain, literal

PROTOCOLS = (0, 1, 2, 3, 4, 5)
_LABEL = re.compile(r'&(\d+) ')


def _same(got, want):
    """Equal texts, or equal with every set's elements sorted: the order in
    which a CPython set iterates depends on how the set object was built
    (hash collisions), which is the value's history, not the encoder's."""
    if got == want:
        return True
    from ..compare import sorted_sets
    try:
        return sorted_sets(got) == sorted_sets(want)
    except Exception:
        return False


def _unquoted(text, i=0):
    """The positions of text[i:] outside quoted strs (the quotes left out;
    a backslash inside a quote escapes the next character)."""
    quote = False
    while i < len(text):
        c = text[i]
        if quote:
            if c == '\\':
                i += 1
            elif c == "'":
                quote = False
        elif c == "'":
            quote = True
        else:
            yield i
        i += 1


def _node_end(text, i):
    """End of the value starting at text[i] (plain-data canonical text)."""
    depth = 0
    for i in _unquoted(text, i):
        c = text[i]
        if c in '([{':
            depth += 1
        elif c in ')]}':
            if depth == 0:
                return i
            depth -= 1
        elif c in ',:\n' and depth == 0:
            return i
    return len(text)


def unshare(text):
    """The text with sharing written out: every ``&N`` label dropped and
    every ``*N`` replaced by the node.  CPython shares equal immutable
    values on its own (one-byte bytes, small ints are singletons), so an
    encoder's output can read back shared where the value was not; for
    plain data, sharing is not part of the value.  Quoted text is
    skipped, so a '*1' inside a string stays."""
    for _ in range(10000):
        m = None
        for i in _unquoted(text):
            if text[i] == '&':
                m = _LABEL.match(text, i)
                if m:
                    break
        if not m:
            return text
        start = m.end()
        end = _node_end(text, start)
        node = text[start:end]
        text = text[:m.start()] + node + text[end:]
        text = _replace_ref(text, m.group(1), node)
    return text


def _replace_ref(text, n, node):
    """text with every unquoted reference *n replaced by node."""
    ref = '*' + n
    out, last = [], 0
    for i in _unquoted(text):
        if i >= last and text.startswith(ref, i) and \
                not text[i + len(ref):i + len(ref) + 1].isdigit():
            out.append(text[last:i])
            out.append(node)
            last = i + len(ref)
    out.append(text[last:])
    return ''.join(out)


def plain_texts(items, limit, work):
    gen = [it for it in items if it.source == 'generated']
    ref = ad.by_name(['cpython'])[0]
    recs = ad.run_adapter(ref, [it.path for it in gen])
    seen = []
    for r in recs:
        if r.status != 'ok' or r.kind != 'accept' or r.body in seen:
            continue
        try:
            literal(r.body)
        except (NotPlain, ValueError, TypeError, RecursionError, MemoryError):
            continue
        seen.append(r.body)
    if limit and len(seen) > limit:
        step = len(seen) / float(limit)
        seen = [seen[int(i * step)] for i in range(limit)]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    paths = []
    for k, t in enumerate(seen):
        p = os.path.join(work, 'v%05d.txt' % k)
        with open(p, 'w', encoding='utf-8') as f:
            f.write(t)
        paths.append(p)
    return seen, paths


def run(items, adapters, results, limit, work, log=None):
    """{'values': N, 'not_covered': [...], 'encoders': {name: {protocol: counts,
    'smallest': {...}}}}."""
    from .. import reference
    say = log or (lambda *_: None)
    texts, paths = plain_texts(items, limit, work)
    out = {'values': len(texts), 'encoders': collections.OrderedDict(), 'not_covered': []}
    for a in adapters:
        r = results.get(a.name)
        if a.encode_argv is None:
            out['not_covered'].append(a.name)
            continue
        if r is None or r['status'] != 'ok':
            continue
        enc = {}
        for proto in PROTOCOLS:
            shim = ad.Adapter(a.name, a.title, a.encode_argv, env=a.env)
            recs = ad.run_adapter(shim, paths, extra_args=('--encode', str(proto)))
            counts = collections.Counter()
            worst = None
            for text, rec in zip(texts, recs):
                if rec.status != 'ok':
                    cls = rec.status
                elif rec.kind == 'cannot':
                    cls = 'cannot-represent'
                elif rec.kind == 'reject':
                    cls = 'encoder-error'
                else:
                    o = reference.decode(rec.body, policy='builtins', want_ops=False)
                    if o.kind == 'accept':
                        cls = 'agree' if _same(unshare(o.text), text) else 'different-graph'
                    elif o.kind == 'resource':
                        cls = 'resource'
                    else:
                        cls = 'reference-rejects'
                counts[cls] += 1
                if cls not in ('agree', 'cannot-represent', 'resource') and (
                        worst is None or len(text) < len(worst['value'])):
                    worst = {'class': cls, 'value': text.strip(),
                             'encoder': rec.first_line()}
            enc[str(proto)] = {'counts': dict(counts), 'smallest': worst}
        out['encoders'][a.name] = enc
        say('encoder %s: %s' % (a.name, ', '.join(
            'p%s %d/%d' % (p, v['counts'].get('agree', 0), len(texts)) for p, v in enc.items())))
    return out


def text_summary(enc):
    lines = ['', 'encoders (%d plain values; CPython loads what they write; agree/values):'
             % enc['values']]
    for name, per in enc['encoders'].items():
        lines.append('  %-12s ' % name + ' '.join(
            'p%s %d' % (p, v['counts'].get('agree', 0)) for p, v in per.items()))
    if enc['not_covered']:
        lines.append('  not covered: ' + ', '.join(enc['not_covered']))
    return '\n'.join(lines) + '\n'
