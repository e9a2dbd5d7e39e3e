#!/usr/bin/env python3
"""botocore 1.44.5's parse of event-stream answers: for every operation whose output is an
event stream (Bedrock ConverseStream, Lambda InvokeWithResponseStream, Kinesis
SubscribeToShard, S3 SelectObjectContent, ...), a generated stream of every event type
of its union, framed as AWS frames it (prelude, headers, payload, CRCs), and what a boto3
client returns for it, events read to the end, in awsgw's JSON form (AWSProtocolsTests
compares awsgw's parse with these).

    python3 scripts/eventstream_reference.py --models models [--seed 17]

Per operation, three cases: every event type once (and one the model does not know); the same with a modeled exception
event after the first event (boto3 raises it, the events before it were read); and the
first stream with one byte of its last message flipped (a CRC mismatch). Prints
{"botocore": version, "cases": [{"service", "operation", "case", "status", "headers",
"body" (base64), "result"? | "error": {"code", "message"}}]}.
"""
import base64
import binascii
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures", "botocore", "python"))
sys.path.insert(0, HERE)

import botocore  # noqa: E402
from botocore.awsrequest import HeadersDict  # noqa: E402
from botocore.eventstream import EventStream  # noqa: E402
from botocore.exceptions import EventStreamError  # noqa: E402
from botocore.model import ServiceModel  # noqa: E402
from botocore.parsers import create_parser  # noqa: E402
from boto3_parse_reference import to_json  # noqa: E402
from reference_setup import start  # noqa: E402


class Wire:
    """Values of a shape as they travel in a JSON or XML event payload."""

    def __init__(self, rng):
        self.rng = rng

    def json(self, shape, depth=0):
        rng = self.rng
        kind = shape.type_name
        if kind == "structure":
            out = {}
            members = list(shape.members.items())
            union = bool(shape.metadata.get("union"))
            if union:
                # A union has exactly one member set, whatever the depth.
                members = [rng.choice(members)] if members else []
            for name, member in members:
                if not union and (depth > 4 or rng.random() < 0.2):
                    continue
                out[member.serialization.get("name", name)] = self.json(member, depth + 1)
            return out
        if kind == "list":
            return [] if depth > 4 else [self.json(shape.member, depth + 1) for _ in range(rng.randint(0, 2))]
        if kind == "map":
            return {} if depth > 4 else {"k%d" % i: self.json(shape.value, depth + 1) for i in range(rng.randint(0, 2))}
        if kind == "string":
            return rng.choice(shape.enum) if shape.enum else rng.choice(["", "hello", "caf\u00e9", "line\nbreak"])
        if kind in ("integer", "long"):
            return rng.randint(0, 1000)
        if kind in ("float", "double"):
            return rng.choice([0.5, 1.25, 100.0])
        if kind == "boolean":
            return rng.choice([True, False])
        if kind == "timestamp":
            return rng.choice([1764669600, 1764669600.5])
        if kind == "blob":
            return base64.b64encode(bytes(rng.randrange(256) for _ in range(rng.randint(0, 8)))).decode()
        return None

    def xml(self, name, shape):
        """An XML element of scalar members (S3 Select's Stats, Progress)."""
        inner = ""
        for member_name, member in shape.members.items():
            if member.type_name in ("integer", "long"):
                inner += "<%s>%d</%s>" % (member_name, self.rng.randint(0, 1000), member_name)
        return ("<%s>%s</%s>" % (name, inner, name)).encode()


def header(name, value, kind):
    encoded = name.encode()
    out = bytes([len(encoded)]) + encoded
    if kind == "string":
        data = value.encode()
        return out + bytes([7]) + struct.pack(">H", len(data)) + data
    if kind == "blob":
        return out + bytes([6]) + struct.pack(">H", len(value)) + value
    if kind == "boolean":
        return out + bytes([0 if value else 1])
    if kind == "long":
        return out + bytes([5]) + struct.pack(">q", value)
    if kind == "timestamp":
        return out + bytes([8]) + struct.pack(">q", value)
    return out + bytes([4]) + struct.pack(">i", value)


def message(headers, payload):
    encoded = b"".join(header(*h) for h in headers)
    total = 16 + len(encoded) + len(payload)
    prelude = struct.pack(">II", total, len(encoded))
    prelude += struct.pack(">I", binascii.crc32(prelude) & 0xFFFFFFFF)
    body = prelude + encoded + payload
    return body + struct.pack(">I", binascii.crc32(body) & 0xFFFFFFFF)


def event_message(name, shape, wire, protocol, rng):
    headers = [(":message-type", "event", "string"), (":event-type", name, "string")]
    payload = b""
    payload_member = None
    for member_name, member in shape.members.items():
        if member.serialization.get("eventheader"):
            kind = member.type_name
            value = {"string": "h", "blob": b"\x01\x02", "boolean": True, "long": 7, "integer": 7, "timestamp": 1764669600000}.get(kind, 1)
            headers.append((member_name, value, kind if kind != "integer" else "integer"))
        elif member.serialization.get("eventpayload"):
            payload_member = member
    if payload_member is not None:
        kind = payload_member.type_name
        if kind == "blob":
            payload = bytes(rng.randrange(256) for _ in range(rng.randint(1, 12)))
            headers.append((":content-type", "application/octet-stream", "string"))
        elif kind == "string":
            payload = rng.choice(["text", "caf\u00e9"]).encode()
            headers.append((":content-type", "text/plain", "string"))
        elif protocol == "rest-xml":
            payload = wire.xml(payload_member.name, payload_member)
            headers.append((":content-type", "text/xml", "string"))
        else:
            payload = json.dumps(wire.json(payload_member)).encode()
            headers.append((":content-type", "application/json", "string"))
    elif protocol != "rest-xml":
        payload = json.dumps(wire.json(shape)).encode()
        headers.append((":content-type", "application/json", "string"))
    return message(headers, payload)


class RawStream:
    def __init__(self, data):
        self.data = data

    def stream(self):
        for start in range(0, len(self.data), 7):
            yield self.data[start:start + 7]

    def close(self):
        pass


def parse(model, operation, protocol, body, status=200):
    """What a boto3 client call returns for this answer, the stream read to the end."""
    op = model.operation_model(operation)
    parser = create_parser(protocol)
    headers = HeadersDict({"x-amzn-RequestId": "req-1", "Content-Type": "application/vnd.amazon.eventstream"})
    response = {"status_code": status, "headers": headers, "body": RawStream(body), "context": {"operation_name": operation}}
    if protocol in ("json", "smithy-rpc-v2-cbor"):
        response["body"] = body
        stream_name = op.output_shape.event_stream_name
        stream = EventStream(RawStream(body), op.output_shape.members[stream_name], parser._event_stream_parser, operation)
        initial = stream.get_initial_response()
        parsed = parser._handle_json_body(initial.payload, op.output_shape)
        events = list(stream)
        parsed[stream_name] = events
        return to_json(parsed)
    parsed = parser.parse(response, op.output_shape)
    parsed.pop("ResponseMetadata", None)
    for name, value in list(parsed.items()):
        if isinstance(value, EventStream):
            parsed[name] = list(value)
    return to_json(parsed)


def outcome(model, operation, protocol, body):
    try:
        return {"result": parse(model, operation, protocol, body)}
    except EventStreamError as error:
        return {"error": {"code": error.response["Error"]["Code"], "message": error.response["Error"]["Message"]}}
    except Exception as error:  # noqa: BLE001 - a checksum mismatch, a cut stream
        return {"error": {"code": type(error).__name__, "message": ""}}


def main():
    _, rng, loader = start(default_seed=17)
    wire = Wire(rng)
    cases = []
    for service in loader.list_available_services("service-2"):
        model = ServiceModel(loader.load_service_model(service, "service-2"), service)
        protocol = model.protocol
        for operation in model.operation_names:
            output = model.operation_model(operation).output_shape
            stream_name = output.event_stream_name if output is not None else None
            if not stream_name:
                continue
            stream_shape = output.members[stream_name]
            messages = []
            if protocol == "json":
                messages.append(message([(":message-type", "event", "string"), (":event-type", "initial-response", "string")], b"{}"))
            events = [(name, shape) for name, shape in stream_shape.members.items() if not shape.metadata.get("exception")]
            exceptions = [(name, shape) for name, shape in stream_shape.members.items() if shape.metadata.get("exception")]
            for name, shape in events:
                messages.append(event_message(name, shape, wire, protocol, rng))
            # An event type this model does not know (a newer service's): botocore drops it.
            messages.append(message([(":message-type", "event", "string"), (":event-type", "futureEvent", "string")], b"{}"))
            body = b"".join(messages)
            entries = [("events", body)]
            if exceptions and len(messages) > 1:
                name, shape = exceptions[0]
                error = message([(":message-type", "exception", "string"), (":exception-type", name, "string"),
                                 (":content-type", "application/json", "string")],
                                b"<Message>stop</Message>" if protocol == "rest-xml" else json.dumps({"message": "stop"}).encode())
                entries.append(("exception", b"".join(messages[:2]) + error))
            corrupted = bytearray(body)
            corrupted[-6] ^= 0x01
            entries.append(("corrupted", bytes(corrupted)))
            for case, data in entries:
                entry = {"service": service, "operation": operation, "case": case, "status": 200,
                         "headers": [["x-amzn-RequestId", "req-1"], ["Content-Type", "application/vnd.amazon.eventstream"]],
                         "body": base64.b64encode(data).decode()}
                entry.update(outcome(model, operation, protocol, data))
                cases.append(entry)
    json.dump({"botocore": botocore.__version__, "cases": cases}, sys.stdout, separators=(",", ":"))


if __name__ == "__main__":
    main()
