"""Bounds on ``manifest.json`` enforced on its bytes, before the JSON parser sees them.

ijson builds a string (or number) token whole before it yields it, and for every nesting level
it builds a longer prefix string: 100,000 nested ``[`` cost tens of GB and one 300 MB string
about 1 GB before any check on the built value could run. ``JsonGuard`` wraps the manifest's
file object and scans each chunk the parser asks for (``read(n)``, 64 KB) in one pass of
C-level byte operations: escapes neutralised (``\\x`` -> two placeholder bytes), split on the
quotes that remain (the even parts are outside strings, the odd ones string contents), then
the nesting depth from the brackets outside strings and the length of the string and number
tokens still open at the chunk's end. When the depth passes ``max_depth`` or a token passes
``max_token`` bytes, the chunk is cut just before the offending byte: the parser finishes (and
yields) every value that ended before it, and the next ``read`` raises ``Refused``. So the
parser never holds more than ``max_token`` bytes of one token nor nests deeper than
``max_depth``, and what was yielded tells the caller which value was refused.

JSON text that is not valid JSON may be scanned wrongly (a backslash outside a string); the
parser refuses it anyway, and the scan stays linear and bounded whatever the bytes.
"""

from __future__ import annotations

import re

_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_NUMBER = b"0123456789+-.eE"
_BRACKETS = re.compile(rb"[\[\]{}]")
# bytes.translate: every bracket as "[" or "]", everything else deleted
_SQUARE = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKET = bytes(sorted(set(range(256)) - set(b"[]{}")))


class Refused(Exception):
    """A bound was passed at byte ``offset`` of the stream: ``kind`` is "depth", "string" or
    "number"; ``limit`` the bound."""

    def __init__(self, kind: str, offset: int, limit: int):
        super().__init__(f"{kind} over {limit} at byte {offset}")
        self.kind = kind
        self.offset = offset
        self.limit = limit


class JsonGuard:
    """A file wrapper that refuses JSON nesting deeper than ``max_depth`` (absolute: the
    top-level value is depth 1) and string or number tokens longer than ``max_token`` bytes
    (escapes counted as written), while the bytes stream past."""

    def __init__(self, raw, *, max_depth: int, max_token: int):
        self.raw = raw
        self.max_depth = max_depth
        self.max_token = max_token
        self.depth = 0
        self.in_string = False
        self.escaped = False  # the chunk ended inside a string on an unpaired backslash
        self.token = 0  # bytes of the string or number token still open
        self.offset = 0  # bytes handed to the parser so far
        self.refused: Refused | None = None

    def read(self, n: int = -1) -> bytes:
        if self.refused is not None:
            raise self.refused
        data = self.raw.read(n)
        if not data:
            return data
        cut = self._scan(data)
        if cut is not None:
            self.refused = Refused(cut[0], self.offset + cut[1], cut[2])
            data = data[: cut[1]]
            if not data:
                raise self.refused
        self.offset += len(data)
        return data

    # -- the scan --------------------------------------------------------------------------

    def _scan(self, data: bytes):
        """Advance the state over ``data``; (kind, cut position, limit) when a bound is passed."""
        text = data
        if self.escaped:
            text = b"_" + text[1:]
            self.escaped = False
        if b"\\" in text:
            text = _ESCAPE.sub(b"__", text)
        parts = text.split(b'"')
        # parts alternate outside / inside a string; the first continues the current state
        first_inside = self.in_string
        outside = parts[1::2] if first_inside else parts[0::2]
        inside = parts[0::2] if first_inside else parts[1::2]
        last_inside = (len(parts) % 2 == 1) == first_inside

        cuts = []  # (position, kind, limit): the earliest is the one refused
        # strings: the first part may continue an open string, the last may stay open
        carried = self.token if first_inside else 0
        if (first_inside and carried + len(parts[0]) > self.max_token) or (
            # (no string that starts in this chunk can be longer than the chunk)
            len(text) > self.max_token
            and len(inside) > first_inside
            and max(map(len, inside[first_inside:])) > self.max_token
        ):
            cuts.append(self._string_cut(parts, first_inside, carried))
        # numbers: only a run crossing the chunk boundary can grow past a chunk
        if not first_inside and self.token:
            lead = len(parts[0]) - len(parts[0].lstrip(_NUMBER))
            if self.token + lead > self.max_token:
                cuts.append((self.max_token - self.token, "number", self.max_token))

        # depth: exact when the chunk cannot reach the limit, else walked bracket by bracket
        brackets = b"".join(outside).translate(_SQUARE, _NOT_BRACKET)
        opens = brackets.count(b"[")
        room = self.max_depth - self.depth
        if opens and _reach(brackets, room) > room:
            at = self._depth_walk(text, first_inside)
            if at is not None:
                cuts.append((at, "depth", self.max_depth))
        else:
            self.depth += 2 * opens - len(brackets)
        if cuts:
            position, kind, limit = min(cuts)
            return kind, position, limit

        # the state at the chunk's end
        tail = parts[-1]
        if last_inside:
            if len(parts) == 1:
                self.token += len(tail)
            else:
                self.token = len(tail)
            self.escaped = tail.endswith(b"\\")
        else:
            run = len(tail) - len(tail.rstrip(_NUMBER))
            if len(parts) == 1 and run == len(tail) and not first_inside:
                self.token += run
            else:
                self.token = run
            if self.token > self.max_token:
                return ("number", len(data) - (self.token - self.max_token), self.max_token)
        self.in_string = last_inside
        return None

    def _string_cut(self, parts, first_inside: bool, carried: int):
        """Where the first string over the cap passes it (a position in this chunk)."""
        position = 0
        inside = first_inside
        for i, part in enumerate(parts):
            have = carried if (i == 0 and first_inside) else 0
            if inside and have + len(part) > self.max_token:
                return (position + self.max_token - have, "string", self.max_token)
            position += len(part) + 1
            inside = not inside
        raise AssertionError("no string over the cap")  # pragma: no cover

    def _depth_walk(self, text: bytes, first_inside: bool):
        """The exact walk of a chunk that may pass the depth limit: the position of the first
        bracket too deep, or None (and the state advanced) when none is."""
        depth = self.depth
        inside = first_inside
        position = 0
        for i, part in enumerate(text.split(b'"')):
            if i:
                position += 1
            if not inside:
                for m in _BRACKETS.finditer(part):
                    if m.group() in b"[{":
                        depth += 1
                        if depth > self.max_depth:
                            return position + m.start()
                    else:
                        depth -= 1
            position += len(part)
            inside = not inside
        self.depth = depth
        return None


def _reach(brackets: bytes, room: int) -> int:
    """An upper bound of how far above its starting depth a run of ``[`` and ``]`` goes (its
    unmatched opens plus the nesting of its matched pairs, removed innermost first); stops
    counting once past ``room``."""
    s = brackets
    passes = 0
    while b"[]" in s:
        s = s.replace(b"[]", b"")
        passes += 1
        if passes > room:
            return passes
    return s.count(b"[") + passes
