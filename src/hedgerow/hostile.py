"""Worst-case capture bodies, for the tests and benchmarks that check the server stays
responsive while it processes them (none of them needs a valid project token to cost work).

* :func:`lz64_body`: an lz-string stream of literals only. The decoder reads it bit by bit in
  Python, so its cost grows with the input size while the output stays under the limit.
* :func:`tiny_events_batch`: a ``/batch/`` envelope of as many minimal events as fit.
* :func:`gzip_bomb`: a small gzip body that inflates to JSON events (or to padding) far past
  the route's limit.
"""

from __future__ import annotations

import gzip
import json

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="


class _BitWriter:
    """lz-string's packing: values least significant bit first, six bits per character."""

    def __init__(self) -> None:
        self.chars: list[str] = []
        self.value = 0
        self.position = 0

    def write(self, value: int, width: int) -> None:
        for _ in range(width):
            self.value = (self.value << 1) | (value & 1)
            value >>= 1
            self.position += 1
            if self.position == 6:
                self.chars.append(_ALPHABET[self.value])
                self.value = self.position = 0

    def text(self) -> str:
        if self.position:
            self.chars.append(_ALPHABET[self.value << (6 - self.position)])
        out = "".join(self.chars)
        return out + "=" * (-len(out) % 4)


def lz64_literals(text: str) -> str:
    """``text`` (characters below U+0100) as a valid lz-string base64 stream of literals."""
    bits = _BitWriter()
    bits.write(0, 2)
    bits.write(ord(text[0]), 8)
    enlarge_in, num_bits = 4, 3
    for char in text[1:]:
        bits.write(0, num_bits)
        bits.write(ord(char), 8)
        for _ in range(2):  # the literal's dictionary entry, then the (w + entry[0]) one
            enlarge_in -= 1
            if enlarge_in == 0:
                enlarge_in = 1 << num_bits
                num_bits += 1
    bits.write(2, num_bits)
    return bits.text()


def lz64_body(size: int, token: str = "phc_not_a_project") -> bytes:
    """About ``size`` bytes of lz-string that decode to one event with a long property."""
    # Each literal costs num_bits + 8 bits (~27 at this size), i.e. ~4.5 base64 characters.
    filler = "x" * max(1, int(size / 4.5))
    event = json.dumps({"api_key": token, "event": "e", "distinct_id": "d",
                        "properties": {"filler": filler}})  # fmt: skip
    return lz64_literals(event).encode()


def tiny_events_batch(size: int, token: str = "phc_not_a_project") -> bytes:
    """A ``/batch/`` envelope of about ``size`` bytes of minimal events (~70 bytes each)."""
    head = json.dumps({"api_key": token}).encode()[:-1] + b', "batch": ['
    events = []
    total = len(head)
    i = 0
    while total < size - 100:
        event = b'{"event":"e","distinct_id":"d%d","properties":{}}' % (i % 1000)
        events.append(event)
        total += len(event) + 1
        i += 1
    return head + b",".join(events) + b"]}"


def gzip_bomb(inflated: int, token: str = "phc_not_a_project", *, events: bool = True) -> bytes:
    """A gzip body that inflates to ``inflated`` bytes: minimal events when ``events``, else
    JSON padding (whitespace)."""
    if events:
        return gzip.compress(tiny_events_batch(inflated, token), 9)
    return gzip.compress(b"[" + b" " * inflated + b"]", 9)
