"""JSON for the export's and the import's hot loops: orjson when it is installed, and always the
text the standard library's ``json`` writes (the bundle's bytes and the stored rows never depend
on which one ran).

orjson spells a few values differently from ``json`` (floats such as ``1e-05``, NaN and infinity,
integers beyond 64 bits, which it refuses or reads as floats; DEL, which ``json``'s ASCII mode
escapes) and refuses lone surrogates. So it is used only where the result is provably the same:
values without a float (checked on the value), text it accepts whole. Anything else returns
None and the caller takes the standard library's way, as before. orjson is a dependency of the
plugin; without it every function answers None. The room tests compare both ways
(``test_room_perf_bytes.py``: reference bundle hashes, generated values).
"""

from __future__ import annotations

try:
    import orjson
except ImportError:  # pragma: no cover - a bare install still works, the standard library's way
    orjson = None


def _has_float(value) -> bool:
    """True when a decoded JSON value holds a float anywhere (iterative: no recursion)."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is float:
            return True
        if kind is dict:
            item = item.values()
        elif kind is not list:
            continue
        for v in item:
            t = type(v)
            if t is float:
                return True
            if t is dict or t is list:
                stack.append(v)
    return False


def loads(text):
    """The value ``json.loads(text)`` gives, or None when orjson cannot vouch for it (not a
    str, not JSON to orjson, or a value holding a float: orjson reads integers beyond 64 bits
    as floats). ``None`` is also what the JSON text ``null`` decodes to: callers pass object
    texts (event contents)."""
    if orjson is None or type(text) is not str:
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if _has_float(value):
        return None
    return value


def dumps_canonical(value) -> bytes | None:
    """``layout.dumps(value).encode()`` (sorted keys, no whitespace, UTF-8 kept) for a value
    without floats (the caller's promise: values from ``loads``, strings, 64-bit integers,
    booleans, None), or None when orjson refuses it (lone surrogates, deep nesting, integers
    beyond 64 bits)."""
    if orjson is None:
        return None
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return None


def dumps_compact_ascii(value, max_depth: int) -> str | None:
    """``json.JSONEncoder(separators=(",", ":")).encode(value)`` (compact, keys in their order,
    non-ASCII escaped) for a dict or list nesting at most ``max_depth`` levels (the top value
    is level 1) and holding no float, when orjson's text is printable ASCII (then it is the
    same text). None otherwise: too deep, a float, non-ASCII text or DEL, or refused by
    orjson."""
    if orjson is None or not _plain(value, max_depth):
        return None
    try:
        data = orjson.dumps(value)
    except orjson.JSONEncodeError:
        return None
    # json's ASCII escapes everything outside space..tilde: DEL too, which orjson keeps
    if not data.isascii() or b"\x7f" in data:
        return None
    return data.decode("ascii")


def _plain(value, max_depth: int) -> bool:
    """True for a dict or list without floats nesting at most ``max_depth`` levels
    (``stream.json_depth_ok``'s count). Iterative: no recursion."""
    kind = type(value)
    if kind is not dict and kind is not list:
        return False
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            return False
        for v in item.values() if type(item) is dict else item:
            t = type(v)
            if t is float:
                return False
            if t is dict or t is list:
                stack.append((v, depth + 1))
    return True
