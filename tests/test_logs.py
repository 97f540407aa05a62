"""JSON log lines."""

import logging

import orjson

from hub.logs import JsonFormatter


def test_a_record_becomes_one_json_object_with_its_extras():
    record = logging.makeLogRecord(
        {
            "name": "hub.x",
            "levelname": "WARNING",
            "msg": "flush %s",
            "args": ("failed",),
            "created": 1_800_000_000.5,
            "node": "a",
            "fixes": 3,
        }
    )
    line = JsonFormatter().format(record)
    entry = orjson.loads(line)
    assert entry["msg"] == "flush failed"
    assert (entry["level"], entry["logger"], entry["node"], entry["fixes"]) == (
        "warning",
        "hub.x",
        "a",
        3,
    )
    assert entry["ts"].startswith("2027-01-15T08:00:00.500")
    assert "\n" not in line
