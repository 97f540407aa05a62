"""The wire schema: decoding both encodings and mapping every failure to its code."""

import math

import msgspec
import pytest

from hub import wire
from hub.errors import CODES, FrameError


def test_json_and_msgpack_decode_to_the_same_frames():
    doc = {"type": "fixes", "fixes": [{"seq": 1, "t": 5, "lat": 1.5, "lng": 2.5, "acc": 3.0}]}
    as_json = wire.decode(msgspec.json.encode(doc).decode())
    as_msgpack = wire.decode(msgspec.msgpack.encode(doc))
    assert as_json == as_msgpack
    assert isinstance(as_json, wire.Fixes) and as_json.fixes[0].acc == 3.0


def test_msgpack_carries_nan_through_to_the_filter():
    frame = wire.decode(
        msgspec.msgpack.encode({"type": "fix", "seq": 1, "t": 5, "lat": math.nan, "lng": 0.0})
    )
    assert isinstance(frame, wire.Fix) and math.isnan(frame.lat)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ("not json", "malformed_frame"),
        ('{"type":"fix","seq":1,"t":5,"lat":NaN,"lng":0}', "malformed_frame"),
        (b"\xc1", "malformed_frame"),
        ('{"type":"teleport"}', "unknown_frame_type"),
        ('{"seq":1}', "unknown_frame_type"),
        ('{"type":"ping","id":1,"extra":true}', "unknown_field"),
        ('{"type":"fix","seq":0,"t":5,"lat":1,"lng":2}', "invalid_frame"),
        ('{"type":"fix","seq":1,"t":5,"lat":"north","lng":2}', "invalid_frame"),
        ('{"type":"fix","seq":1,"t":5,"lat":1e999,"lng":2}', "invalid_frame"),
        ('{"type":"fixes","fixes":[]}', "invalid_frame"),
        ("[1,2]", "invalid_frame"),
    ],
)
def test_bad_frames_raise_frame_errors_with_registered_codes(data, code):
    with pytest.raises(FrameError) as caught:
        wire.decode(data)
    assert caught.value.code == code
    assert code in CODES


def test_server_frames_encode_compactly_in_both_encodings():
    ack = wire.Ack(seq=9)
    assert wire.encode_json(ack) == b'{"type":"ack","seq":9}'
    assert msgspec.msgpack.decode(wire.encode_msgpack(ack)) == {"type": "ack", "seq": 9}
