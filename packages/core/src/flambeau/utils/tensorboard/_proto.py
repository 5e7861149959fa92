"""The few protocol buffer messages of TensorBoard's event files, and TFRecord framing.

Messages are plain dicts keyed by field name; :data:`SCHEMA` gives each message's fields
(number, kind, repeated, in a ``oneof``), and :func:`encode`/:func:`decode` walk it, so
neither protobuf nor tensorboard is needed. A TFRecord is the payload's length (uint64,
little-endian), the masked CRC-32C of those 8 bytes, the payload and its masked CRC-32C.
"""

from __future__ import annotations

import struct

# message -> {field name: (number, kind, repeated, oneof)}; a kind is a scalar type below
# or the name of another message
_SCALARS = ("double", "float", "int", "bool", "string", "bytes")
SCHEMA = {
    "Event": {"wall_time": (1, "double", False, False), "step": (2, "int", False, False),
              "file_version": (3, "string", False, True), "summary": (5, "Summary", False, True),
              "session_log": (7, "SessionLog", False, True),
              "source_metadata": (10, "SourceMetadata", False, False)},
    "SourceMetadata": {"writer": (1, "string", False, False)},
    "SessionLog": {"status": (1, "int", False, False), "checkpoint_path": (2, "string", False,
                                                                            False),
                   "msg": (3, "string", False, False)},
    "Summary": {"value": (1, "Value", True, False)},
    "Value": {"tag": (1, "string", False, False), "simple_value": (2, "float", False, True),
              "image": (4, "Image", False, True), "histo": (5, "HistogramProto", False, True),
              "tensor": (8, "TensorProto", False, True),
              "metadata": (9, "SummaryMetadata", False, False)},
    "Image": {"height": (1, "int", False, False), "width": (2, "int", False, False),
              "colorspace": (3, "int", False, False),
              "encoded_image_string": (4, "bytes", False, False)},
    "HistogramProto": {"min": (1, "double", False, False), "max": (2, "double", False, False),
                       "num": (3, "double", False, False), "sum": (4, "double", False, False),
                       "sum_squares": (5, "double", False, False),
                       "bucket_limit": (6, "double", True, False),
                       "bucket": (7, "double", True, False)},
    "SummaryMetadata": {"plugin_data": (1, "PluginData", False, False),
                        "display_name": (2, "string", False, False),
                        "summary_description": (3, "string", False, False)},
    "PluginData": {"plugin_name": (1, "string", False, False),
                   "content": (2, "bytes", False, False)},
    "TensorProto": {"dtype": (1, "int", False, False),
                    "tensor_shape": (2, "TensorShapeProto", False, False),
                    "float_val": (5, "float", True, False), "double_val": (6, "double", True,
                                                                           False),
                    "string_val": (8, "bytes", True, False)},
    "TensorShapeProto": {"dim": (2, "Dim", True, False)},
    "Dim": {"size": (1, "int", False, False)},
    # the hparams plugin's messages
    "HParamsPluginData": {"version": (1, "int", False, False),
                          "experiment": (2, "Experiment", False, True),
                          "session_start_info": (3, "SessionStartInfo", False, True),
                          "session_end_info": (4, "SessionEndInfo", False, True)},
    "Experiment": {"hparam_infos": (4, "HParamInfo", True, False),
                   "metric_infos": (5, "MetricInfo", True, False)},
    "HParamInfo": {"name": (1, "string", False, False), "type": (4, "int", False, False),
                   "domain_discrete": (5, "ListValue", False, False)},
    "MetricInfo": {"name": (1, "MetricName", False, False)},
    "MetricName": {"group": (1, "string", False, False), "tag": (2, "string", False, False)},
    "SessionStartInfo": {"hparams": (1, "HParamEntry", True, False),
                         "group_name": (4, "string", False, False),
                         "start_time_secs": (5, "double", False, False)},
    "HParamEntry": {"key": (1, "string", False, False), "value": (2, "PbValue", False, False)},
    "SessionEndInfo": {"status": (1, "int", False, False),
                       "end_time_secs": (2, "double", False, False)},
    "PbValue": {"number_value": (2, "double", False, True), "string_value": (3, "string", False,
                                                                             True),
                "bool_value": (4, "bool", False, True)},
    "ListValue": {"values": (1, "PbValue", True, False)},
}
_WIRE = {"double": 1, "float": 5, "int": 0, "bool": 0, "string": 2, "bytes": 2}


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int64s as their two's complement, as protobuf does
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _scalar(kind, v) -> bytes:
    if kind == "double":
        return struct.pack("<d", v)
    if kind == "float":
        return struct.pack("<f", v)
    if kind in ("int", "bool"):
        return _varint(int(v))
    data = v.encode("utf-8") if kind == "string" else bytes(v)
    return _varint(len(data)) + data


def encode(message: str, fields: dict) -> bytes:
    """The wire bytes of ``fields`` (a dict of field name -> value) as ``message``."""
    out = bytearray()
    schema = SCHEMA[message]
    for name, (number, kind, repeated, oneof) in sorted(schema.items(), key=lambda i: i[1][0]):
        value = fields.get(name)
        if value is None:
            continue
        if kind not in _SCALARS:
            items = value if repeated else [value]
            for item in items:
                body = encode(kind, item)
                out += _varint(number << 3 | 2) + _varint(len(body)) + body
        elif repeated and kind in ("double", "float", "int", "bool"):  # packed
            if len(value):
                body = b"".join(_scalar(kind, v) for v in value)
                out += _varint(number << 3 | 2) + _varint(len(body)) + body
        elif repeated:
            for v in value:
                out += _varint(number << 3 | 2) + _scalar(kind, v)
        elif oneof or value not in (0, "", b"", False):  # proto3 leaves out defaults
            out += _varint(number << 3 | _WIRE[kind]) + _scalar(kind, value)
    return bytes(out)


def _read_varint(data, pos):
    shift = result = 0
    while True:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def _fields(data):
    """``(number, wire type, raw value)`` of each field of a message's bytes."""
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(data, pos)
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        elif wire == 2:
            n, pos = _read_varint(data, pos)
            value, pos = data[pos:pos + n], pos + n
        else:
            raise ValueError(f"tensorboard event: unsupported wire type {wire}")
        yield number, wire, value


def _unscalar(kind, wire, raw):
    if kind == "double":
        return struct.unpack("<d", raw)[0]
    if kind == "float":
        return struct.unpack("<f", raw)[0]
    if kind == "int":
        return raw - (1 << 64) if raw >= 1 << 63 else raw
    if kind == "bool":
        return bool(raw)
    return raw.decode("utf-8") if kind == "string" else bytes(raw)


def decode(message: str, data: bytes) -> dict:
    """The dict of a ``message``'s bytes: fields it holds, by name; unknown fields skipped."""
    by_number = {spec[0]: (name, *spec[1:]) for name, spec in SCHEMA[message].items()}
    out = {}
    for number, wire, raw in _fields(data):
        if number not in by_number:
            continue
        name, kind, repeated, _ = by_number[number]
        if kind not in _SCALARS:
            value = decode(kind, raw)
        elif repeated and wire == 2 and kind in ("double", "float", "int", "bool"):
            size = {"double": 8, "float": 4}.get(kind)
            if size is None:
                vals, pos = [], 0
                while pos < len(raw):
                    v, pos = _read_varint(raw, pos)
                    vals.append(_unscalar(kind, 0, v))
            else:
                vals = [_unscalar(kind, wire, raw[i:i + size]) for i in range(0, len(raw), size)]
            out.setdefault(name, []).extend(vals)
            continue
        else:
            value = _unscalar(kind, wire, raw)
        if repeated:
            out.setdefault(name, []).append(value)
        else:
            out[name] = value
    return out


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1  # Castagnoli, reflected
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """The CRC-32C (Castagnoli) of ``data``."""
    crc = 0xFFFFFFFF
    table = _TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC: the CRC rotated right by 15 bits plus a constant."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def frame(payload: bytes) -> bytes:
    """``payload`` as one TFRecord."""
    header = struct.pack("<Q", len(payload))
    return (header + struct.pack("<I", masked_crc32c(header)) + payload
            + struct.pack("<I", masked_crc32c(payload)))


def read_records(data: bytes):
    """The payloads of the TFRecords in ``data``, checking both CRCs of each."""
    pos = 0
    while pos < len(data):
        if len(data) - pos < 12:
            raise ValueError(f"tensorboard event file: truncated record header at byte {pos}")
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (crc,) = struct.unpack("<I", data[pos + 8:pos + 12])
        if crc != masked_crc32c(header):
            raise ValueError(f"tensorboard event file: bad length CRC at byte {pos}")
        payload = data[pos + 12:pos + 12 + length]
        if len(payload) != length or len(data) < pos + 16 + length:
            raise ValueError(f"tensorboard event file: truncated record at byte {pos}")
        (crc,) = struct.unpack("<I", data[pos + 12 + length:pos + 16 + length])
        if crc != masked_crc32c(payload):
            raise ValueError(f"tensorboard event file: bad data CRC at byte {pos}")
        yield payload
        pos += 16 + length


def read_events(path) -> list:
    """Every Event of the event file at ``path``, as dicts."""
    with open(path, "rb") as f:
        data = f.read()
    return [decode("Event", payload) for payload in read_records(data)]
