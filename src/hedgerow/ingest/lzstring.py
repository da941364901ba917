"""lz-string's ``decompressFromBase64``, the ``compression=lz64`` encoding of old posthog-js.

lz-string is an LZW variant over UTF-16 code units whose output is packed into 6-bit base64
characters. The stream starts with a 2-bit token; afterwards every token is ``num_bits`` wide:
0 and 1 introduce a literal code unit (8 or 16 bits wide) that becomes a new dictionary entry,
2 ends the stream, anything else is a dictionary index. The width grows by one bit each time
the dictionary doubles.
"""

from __future__ import annotations

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_VALUE = {ch: i for i, ch in enumerate(_ALPHABET)}


class LZStringError(ValueError):
    """The input is not a valid lz-string base64 stream."""


class LZStringTooLarge(LZStringError):
    """The output would pass ``max_chars``."""


def decompress_from_base64(text: str, *, max_chars: int | None = None) -> str:
    """Decompress lz-string base64 ``text``; raise :class:`LZStringError` when it is invalid.

    ``max_chars`` bounds the output (in UTF-16 code units) so a small input cannot expand
    without limit.
    """
    if text == "":
        return ""
    try:
        values = [_VALUE[ch] for ch in text]
    except KeyError as exc:
        raise LZStringError(f"character {exc.args[0]!r} is not base64") from None
    length = len(values)
    reset = 32  # 1 << (6 - 1): the top bit of a 6-bit character
    val = values[0]
    position = reset
    index = 1

    def read(width: int) -> int:
        nonlocal val, position, index
        bits = 0
        power = 1
        for _ in range(width):
            if val & position:
                bits |= power
            position >>= 1
            if position == 0:
                position = reset
                val = values[index] if index < length else 0
                index += 1
            power <<= 1
        return bits

    first = read(2)
    if first == 0:
        char = chr(read(8))
    elif first == 1:
        char = chr(read(16))
    elif first == 2:
        return ""
    else:
        raise LZStringError("invalid first token")

    dictionary: list[str] = ["", "", "", char]
    enlarge_in = 4
    num_bits = 3
    w = char
    out = [char]
    produced = 1
    while True:
        if index > length:
            raise LZStringError("stream ends without an end marker")
        code = read(num_bits)
        if code == 0 or code == 1:
            dictionary.append(chr(read(8 if code == 0 else 16)))
            code = len(dictionary) - 1
            enlarge_in -= 1
        elif code == 2:
            return _join_utf16("".join(out))
        if enlarge_in == 0:
            enlarge_in = 1 << num_bits
            num_bits += 1
        if code < len(dictionary) and code > 2:
            entry = dictionary[code]
        elif code == len(dictionary):
            entry = w + w[0]
        else:
            raise LZStringError("reference to an unknown dictionary entry")
        out.append(entry)
        produced += len(entry)
        if max_chars is not None and produced > max_chars:
            raise LZStringTooLarge("decompressed size over the limit")
        dictionary.append(w + entry[0])
        enlarge_in -= 1
        w = entry
        if enlarge_in == 0:
            enlarge_in = 1 << num_bits
            num_bits += 1


def _join_utf16(units: str) -> str:
    """Turn a string of UTF-16 code units (surrogates kept apart) into real characters."""
    if not any("\ud800" <= ch <= "\udfff" for ch in units):
        return units
    return units.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
