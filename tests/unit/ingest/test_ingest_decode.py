"""Every encoding a capture request can arrive in, and every way decoding fails."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from urllib.parse import quote

import orjson
import pytest

from hedgerow.hostile import lz64_literals, tiny_events_batch
from hedgerow.ingest.decode import (
    EVENT_ROUTE_LIMIT,
    INLINE_BYTES,
    PIECEWISE_BYTES,
    DecodeInWorker,
    decode_body,
    parse_json,
    parse_json_in_pieces,
)
from hedgerow.ingest.errors import PayloadTooLarge, RequestDecodingError, RequestParsingError
from hedgerow.ingest.lzstring import LZStringError, decompress_from_base64

PAYLOAD = {"api_key": "phc_x", "batch": [{"event": "e", "distinct_id": "d", "properties": {"ü": "✓"}}]}
RAW = orjson.dumps(PAYLOAD)
ASCII = b'{"api_key": "phc_x", "event": "e", "distinct_id": "d"}'
VECTORS = json.loads((Path(__file__).parent / "data" / "lzstring_vectors.json").read_text())


def test_plain_json():
    assert decode_body(RAW, content_type="application/json") == PAYLOAD


def test_gzip_sniffed_without_any_hint():
    assert decode_body(gzip.compress(RAW), content_type="text/plain") == PAYLOAD


def test_gzip_announced_by_header():
    assert decode_body(gzip.compress(RAW), content_encoding="gzip") == PAYLOAD


def test_gzip_js_query_hint():
    assert decode_body(gzip.compress(RAW), query={"compression": "gzip-js"}) == PAYLOAD


def test_form_body_base64():
    body = b"data=" + quote(base64.b64encode(RAW).decode()).encode()
    got = decode_body(body, content_type="application/x-www-form-urlencoded",
                      query={"compression": "base64"})  # fmt: skip
    assert got == PAYLOAD


def test_form_body_base64_plus_sent_as_space():
    raw = orjson.dumps({"event": "e", "distinct_id": ">>>?", "api_key": "k"})
    encoded = base64.b64encode(raw).decode()
    assert "+" in encoded or "/" in encoded
    body = ("data=" + encoded.replace("+", " ")).encode()
    got = decode_body(body, content_type="application/x-www-form-urlencoded")
    assert got == orjson.loads(raw)


def test_form_compression_field_is_a_hint():
    body = ("data=" + quote(VECTORS[4][1]) + "&compression=lz64").encode()
    got = decode_body(body, content_type="application/x-www-form-urlencoded")
    assert got == json.loads(VECTORS[4][0])


def test_get_with_json_data_in_query():
    got = decode_body(b"", query={"data": RAW.decode()}, method="GET")
    assert got == PAYLOAD


def test_get_with_base64_data_in_query():
    got = decode_body(b"", query={"data": base64.b64encode(RAW).decode()}, method="GET")
    assert got == PAYLOAD


def test_get_without_data_is_a_decoding_error():
    with pytest.raises(RequestDecodingError):
        decode_body(b"", query={}, method="GET")


def test_lz64_body():
    plain, compressed = VECTORS[4]
    assert decode_body(compressed.encode(), query={"compression": "lz64"}) == json.loads(plain)


def test_legacy_base64_body_decoded_once_more():
    assert decode_body(base64.b64encode(RAW), content_type="text/plain") == PAYLOAD


def test_base64_of_gzip():
    assert decode_body(base64.b64encode(gzip.compress(RAW))) == PAYLOAD


@pytest.mark.parametrize("plain,compressed", VECTORS)
def test_lzstring_vectors(plain, compressed):
    # Vectors produced by the reference JavaScript lz-string 1.5.0 compressToBase64.
    assert decompress_from_base64(compressed) == plain


def test_lzstring_rejects_garbage():
    with pytest.raises(LZStringError):
        decompress_from_base64("!!!!")
    with pytest.raises(LZStringError):
        decompress_from_base64(VECTORS[3][1][:6])


def test_lzstring_output_cap():
    plain, compressed = VECTORS[-1]
    with pytest.raises(LZStringError):
        decompress_from_base64(compressed, max_chars=100)


def test_raw_body_over_limit_is_413():
    with pytest.raises(PayloadTooLarge) as err:
        decode_body(b"[" + b" " * EVENT_ROUTE_LIMIT + b"]")
    assert err.value.status == 413


def test_gzip_bomb_is_413():
    bomb = gzip.compress(b"[" + b" " * (EVENT_ROUTE_LIMIT * 4) + b"]")
    assert len(bomb) < EVENT_ROUTE_LIMIT
    with pytest.raises(PayloadTooLarge):
        decode_body(bomb)


def test_broken_gzip_is_a_decoding_error():
    with pytest.raises(RequestDecodingError) as err:
        decode_body(b"\x1f\x8b\x08\x00garbage")
    assert err.value.status == 400
    assert err.value.code == "request_decoding_error"


def test_truncated_gzip_is_a_decoding_error():
    with pytest.raises(RequestDecodingError):
        decode_body(gzip.compress(RAW)[:-12])


def test_bad_lz64_is_a_decoding_error():
    with pytest.raises(RequestDecodingError):
        decode_body(b"%%%%", query={"compression": "lz64"})


def test_bad_base64_is_a_decoding_error():
    with pytest.raises(RequestDecodingError):
        decode_body(b"data=@@@", content_type="application/x-www-form-urlencoded",
                    query={"compression": "base64"})  # fmt: skip


def test_not_json_is_a_parsing_error():
    with pytest.raises(RequestParsingError) as err:
        decode_body(b"{not json")
    assert err.value.code == "request_parsing_error"
    assert err.value.detail.startswith("failed to parse request: ")


def test_invalid_utf8_is_a_decoding_error():
    with pytest.raises(RequestDecodingError):
        decode_body(b'{"event": "\xff"}')


def test_lone_surrogate_escapes_are_tolerated():
    got = decode_body(b'{"event": "a\\ud800b", "distinct_id": "d"}')
    assert got["event"] == "a\ufffdb"


def test_unknown_content_encoding_is_refused():
    with pytest.raises(RequestDecodingError):
        decode_body(RAW, content_encoding="br")


def test_empty_body_is_a_decoding_error():
    with pytest.raises(RequestDecodingError):
        decode_body(b"")


def test_lz64_that_inflates_past_the_limit_is_413():
    plain, compressed = max(VECTORS, key=lambda pair: len(pair[0]) / len(pair[1]))
    assert len(compressed) < 20 < len(plain)
    with pytest.raises(PayloadTooLarge):
        decode_body(compressed.encode(), query={"compression": "lz64"}, max_size=20)


def test_base64_output_is_bounded_by_its_input():
    body = base64.b64encode(b"[" + b" " * (EVENT_ROUTE_LIMIT - 2) + b"]")
    with pytest.raises(PayloadTooLarge):  # the encoded body itself is over the limit
        decode_body(body, query={"compression": "base64"})


@pytest.mark.parametrize("body, query", [
    (lz64_literals(ASCII.decode()).encode(), {"compression": "lz64"}),    # lz-string, any size
    (b" " * INLINE_BYTES + ASCII, {}),                                    # a big body
    (gzip.compress(b" " * INLINE_BYTES + ASCII), {}),                     # inflates past the limit
])  # fmt: skip
def test_costly_bodies_are_handed_to_a_worker(body, query):
    with pytest.raises(DecodeInWorker):
        decode_body(body, query=query, inline_limit=INLINE_BYTES)
    assert decode_body(body, query=query) == orjson.loads(ASCII)


PIECEWISE = [
    b"[]", b" [ ] ", b"{}", b'[{"a":1} , {"b":[1,2]}]', b'{"batch" : [ {} ] , "a" : [1] }',
    b'{"api_key":"x","batch":[{"e":"\\ud800"},{}],"sent_at":null}', b"[1,]", b"[1 2]",
    b'{"a" 1}', b"[NaN]", b"[1]x", b'{"batch":[]}', b'{"batch":[{"x":1e400}]}',
    b"[" * 5000 + b"]" * 5000, b'["\xff"]', b'{"a":1,}', b'[{"x": 18446744073709551616}]',
    b"{1:2}", b"[", b"{", b'"text"', b'{"batch": "not an array"}',
]  # fmt: skip


@pytest.mark.parametrize("raw", PIECEWISE)
def test_parsing_in_pieces_gives_what_a_whole_parse_gives(raw):
    def outcome(parse):
        try:
            return parse(raw)
        except (RequestDecodingError, RequestParsingError) as exc:
            return type(exc)

    assert outcome(parse_json_in_pieces) == outcome(parse_json)
    big = tiny_events_batch(PIECEWISE_BYTES * 2, "phc_x")
    assert parse_json_in_pieces(big) == orjson.loads(big)
