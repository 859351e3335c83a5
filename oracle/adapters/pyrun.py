"""The adapter of Python-hosted unpicklers (docs/adapters.md).

    python3 -m oracle.adapters.pyrun --impl c|python|zodbpickle [--view V] FILE...
    python3 -m oracle.adapters.pyrun --impl ... --encode PROTOCOL FILE...

Decodes each file the way the oracle does (oracle.reference: find_class
and persistent_load return inert stubs, nothing from a stream is imported
or called) with

    c           CPython's C ``_pickle.Unpickler`` (the reference)
    python      the pure-Python ``pickle._Unpickler`` of the interpreter
                running this (CPython's, or PyPy's under ``pypy3``)
    zodbpickle  ``zodbpickle.pickle.Unpickler`` (its C unpickler, run with
                the same stubs as the reference)

and prints the canonical text (or, with ``--view``, the view text of
oracle.adapters.view) in the adapter framing.  The process limits its own
address space (oracle.limits, 2 GiB) before reading anything; the driver
enforces time.

``--encode P``: each file holds a canonical text of plain data (no labels,
globals or objects); the value it describes is built (:func:`literal`) and
written with the implementation's Pickler at protocol P.

Runs under CPython 3.9+ and PyPy 3.9: only the stdlib and the oracle.
"""

import ast
import io
import math
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from oracle import limits, reference, stubs  # noqa: E402
from oracle.adapters import view as view_mod  # noqa: E402


def _zodb_class():
    """A zodbpickle unpickler with the reference's stubs: the methods of
    oracle.reference._CReference on zodbpickle's C Unpickler."""
    import zodbpickle.pickle as zp
    ref = reference._CReference
    ns = {k: ref.__dict__[k] for k in ('_setup', 'walk', 'find_class', 'persistent_load')}

    def __init__(self, file, fix_imports=True, encoding='ASCII', errors='strict', buffers=None):
        # zodbpickle 2.5 has no out-of-band buffers (the matrix gives none).
        zp.Unpickler.__init__(self, file, fix_imports=fix_imports, encoding=encoding,
                              errors=errors)

    ns['__init__'] = __init__
    return type('_ZodbReference', (zp.Unpickler,), ns)


def setup(impl):
    """Make oracle.reference decode with impl ('c', 'python' or 'zodbpickle');
    returns the reference.Options to use."""
    if impl == 'zodbpickle':
        # decode_inprocess picks the module-level _CReference at call time.
        reference._CReference = _zodb_class()
        return 'c'
    return impl


def decode_text(data, impl):
    """The adapter body for one stream: canonical text or an error line."""
    try:
        out = reference.decode_inprocess(data, reference.Options(impl=impl), want_ops=False)
    except reference.OracleError as e:
        return 'error: OracleError: %s\n' % str(e).replace('\n', ' ')
    return out.output()


def decode_view(data, impl, view):
    """The adapter body in a view: the root object rendered by
    oracle.adapters.view, or an error / cannot-represent line."""
    opts = reference.Options(impl=impl)
    factory = stubs.StubFactory('symbolic')
    cls = reference._CReference if impl == 'c' else reference._PyReference
    with warnings.catch_warnings(), reference.extension_registry(None), factory.active():
        warnings.simplefilter('ignore')
        try:
            u, _, _ = reference._load(cls, data, opts, factory)
            if cls is reference._CReference:
                u._setup(factory, data, None, True)
            else:
                u._setup(factory)
            root = u.load()
        except Exception as e:
            msg = str(e).replace('\r', '\\r').replace('\n', '\\n')
            return 'error: %s: %s\n' % (type(e).__name__, msg)
        try:
            return view_mod.render(root, view)
        except view_mod.CannotRepresent as e:
            return 'cannot-represent: %s\n' % e


# --- encoding --------------------------------------------------------------------

class NotPlain(Exception):
    pass


_CALLS = {'set': set, 'frozenset': frozenset, 'bytearray': bytearray}


def literal(text):
    """The Python value of a plain-data canonical text ('root: ...' and no
    discarded lines): None, bools, ints, floats (inf, nan), complex, str,
    bytes, bytearray, tuples, lists, dicts, sets, frozensets.  Labels,
    globals, objects and NaN payloads raise NotPlain.  Only literals and
    the four constructors above are evaluated."""
    lines = text.rstrip('\n').split('\n')
    if len(lines) != 1 or not lines[0].startswith('root: '):
        raise NotPlain('discarded lines')
    src = lines[0][len('root: '):]
    try:
        tree = ast.parse(src, mode='eval').body
    except SyntaxError as e:
        raise NotPlain('not a Python literal: %s' % e.msg) from None

    def ev(n):
        if isinstance(n, ast.Constant) and type(n.value) in (int, float, str, bytes, bool,
                                                             type(None)):
            return n.value
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            v = ev(n.operand)
            if type(v) in (int, float):
                return -v
        if isinstance(n, ast.Name) and n.id in ('inf', 'nan'):
            return math.inf if n.id == 'inf' else math.nan
        if isinstance(n, ast.Tuple):
            return tuple(ev(e) for e in n.elts)
        if isinstance(n, ast.List):
            return [ev(e) for e in n.elts]
        if isinstance(n, ast.Set):
            return {ev(e) for e in n.elts}
        if isinstance(n, ast.Dict) and None not in n.keys:
            return {ev(k): ev(v) for k, v in zip(n.keys, n.values)}
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and not n.keywords:
            args = [ev(a) for a in n.args]
            if n.func.id == 'complex' and len(args) == 2 and all(type(a) is float for a in args):
                return complex(*args)
            if n.func.id in _CALLS and len(args) <= 1:
                return _CALLS[n.func.id](*args)
        raise NotPlain('not plain data: %s' % ast.dump(n)[:80])

    return ev(tree)


def encode(text, impl, protocol):
    """'pickle: <hex>' for a plain-data canonical text, else cannot-represent."""
    import pickle
    try:
        value = literal(text)
    except (NotPlain, RecursionError, ValueError, TypeError) as e:
        return 'cannot-represent: %s\n' % e
    if impl == 'zodbpickle':
        import zodbpickle.pickle as zp
        cls = zp.Pickler
    elif impl == 'c':
        cls = pickle.Pickler
    else:
        cls = pickle._Pickler
    f = io.BytesIO()
    try:
        cls(f, protocol).dump(value)
    except Exception as e:
        return 'error: %s: %s\n' % (type(e).__name__, str(e).replace('\n', '\\n'))
    return 'pickle: %s\n' % f.getvalue().hex()


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    impl, view, protocol = 'c', None, None
    while args and args[0].startswith('--'):
        opt = args.pop(0)
        if opt == '--impl':
            impl = args.pop(0)
        elif opt == '--view':
            view = args.pop(0)
        elif opt == '--encode':
            protocol = int(args.pop(0))
        elif opt == '--':
            break
        else:
            sys.stderr.write('pyrun: unknown option %s\n' % opt)
            return 2
    if impl not in ('c', 'python', 'zodbpickle'):
        sys.stderr.write('pyrun: --impl c|python|zodbpickle\n')
        return 2
    limits.apply_in_this_process(limits.DEFAULT_MAX_MEMORY)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 5000))
    ref_impl = setup(impl)
    sys.stdout.reconfigure(encoding='utf-8', errors='backslashreplace')
    out = sys.stdout
    for path in args:
        out.write('### %s\n' % path)
        out.flush()
        with open(path, 'rb') as f:
            data = f.read()
        try:
            if protocol is not None:
                body = encode(data.decode('utf-8'), impl, protocol)
            elif view:
                body = decode_view(data, ref_impl, view)
            else:
                body = decode_text(data, ref_impl)
        except MemoryError as e:
            body = 'error: MemoryError: %s\n' % e
        except RecursionError as e:
            body = 'error: RecursionError: %s\n' % e
        out.write(body)
        out.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main())
