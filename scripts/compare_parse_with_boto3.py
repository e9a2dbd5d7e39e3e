#!/usr/bin/env python3
"""Makes random AWS answers for random operations of each served protocol, parses each
with botocore 1.44.5 (and the handlers it runs after a call), and writes the cases in
the form of Tests/AWSClientTests/boto3-seed-responses.json. A test then parses the same
bytes with awsgw and compares, member order included:

    /tmp/bc/bin/python scripts/compare_parse_with_boto3.py --per-protocol 80 --seed 5 > /tmp/answers.json
    AWSGW_PARSE_CASES=/tmp/answers.json swift test --filter RandomAnswers

Answers are made from the output shape in the protocol's wire form: a JSON body (and
header members for rest-json); for query and ec2 the XML with the result wrapper, member
and item lists, flattened lists and maps, entries, and escaped text.
"""
import argparse
import types
import base64
import datetime
import email.utils
import json
import random
import sys
from xml.sax.saxutils import escape

import botocore.session
from botocore import handlers
from botocore.awsrequest import HeadersDict
from botocore.parsers import create_parser

sys.path.insert(0, __file__.rsplit('/', 1)[0])
from boto3_parse_reference import to_json  # noqa: E402

PRIORITY = ['json', 'rest-json', 'rest-xml', 'smithy-rpc-v2-cbor', 'query', 'ec2']
SERVED = ['json', 'rest-json', 'rest-xml', 'query', 'ec2']
TEXT = 'abcdefghijklmnopqrstuvwxyz0123456789 &<>"\'é'


def protocol_of(model):
    listed = model.metadata.get('protocols') or [model.metadata['protocol']]
    return next((p for p in PRIORITY if p in listed), model.metadata['protocol'])


class Maker:
    def __init__(self, rng, protocol):
        self.rng = rng
        self.protocol = protocol

    def scalar(self, shape, where):
        t = shape.type_name
        rng = self.rng
        if t == 'string':
            if shape.enum and rng.random() < 0.7:
                return rng.choice(shape.enum)
            return ''.join(rng.choice(TEXT) for _ in range(rng.randint(0, 10)))
        if t in ('integer', 'long'):
            return rng.randint(-5, 10 ** 6)
        if t in ('float', 'double'):
            return rng.choice([0.5, 1.25, 3.0, 12345.678, -2.5])
        if t == 'boolean':
            return rng.random() < 0.5
        if t == 'timestamp':
            seconds = 1763632800 + rng.randint(0, 10 ** 6)
            fraction = rng.choice([0, 0, 0.5, 0.123])
            fmt = shape.serialization.get('timestampFormat')
            if where == 'header':
                return email.utils.formatdate(seconds, usegmt=True)
            if where == 'json' and fmt not in ('iso8601', 'rfc822'):
                return seconds + fraction
            moment = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
            text = moment.strftime('%Y-%m-%dT%H:%M:%S') + ('.%03dZ' % int(fraction * 1000) if fraction else 'Z')
            return text
        if t == 'blob':
            return base64.b64encode(bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 9)))).decode()
        return 'x'

    # JSON bodies (json, rest-json).
    def json_value(self, shape, depth=0):
        t = shape.type_name
        rng = self.rng
        if t == 'structure':
            if shape.is_document_type:
                return {'doc': [1, 'two', None, {'x': True}]}
            names = [n for n, m in shape.members.items() if not m.serialization.get('location')]
            if getattr(shape, 'is_tagged_union', False):
                names = [rng.choice(names)] if names else []
                if rng.random() < 0.1:
                    return {'SomethingNew': {'a': 1}}
            out = {}
            for n in names:
                if depth > 4 or rng.random() < 0.3:
                    continue
                m = shape.members[n]
                key = m.serialization.get('name', n)
                out[key] = None if rng.random() < 0.05 else self.json_value(m, depth + 1)
            if rng.random() < 0.1:
                out['UnmodeledMember'] = 'ignored'
            return out
        if t == 'list':
            return [self.json_value(shape.member, depth + 1) for _ in range(rng.randint(0, 3 if depth < 4 else 0))]
        if t == 'map':
            return {str(self.scalar(shape.key, 'json')) + str(i): self.json_value(shape.value, depth + 1)
                    for i in range(rng.randint(0, 3 if depth < 4 else 0))}
        return self.scalar(shape, 'json')

    # XML bodies (query, ec2).
    def xml_members(self, shape, depth):
        parts = []
        names = list(shape.members)
        if getattr(shape, 'is_tagged_union', False):
            names = [self.rng.choice(names)] if names else []
        for n in names:
            if depth > 4 or self.rng.random() < 0.3:
                continue
            m = shape.members[n]
            name = m.serialization.get('name', n)
            if m.serialization.get('xmlAttribute'):
                continue
            if m.type_name == 'list' and m.serialization.get('flattened'):
                element = m.member.serialization.get('name', name)
                for _ in range(self.rng.randint(0, 2)):
                    parts.append(f'<{element}>{self.xml_inner(m.member, depth + 1)}</{element}>')
            elif m.type_name == 'map' and m.serialization.get('flattened'):
                for _ in range(self.rng.randint(0, 2)):
                    parts.append(f'<{name}>{self.xml_entry(m, depth + 1)}</{name}>')
            else:
                parts.append(f'<{name}>{self.xml_inner(m, depth + 1)}</{name}>')
        return ''.join(parts)

    def xml_entry(self, shape, depth):
        key_name = shape.key.serialization.get('name', 'key')
        value_name = shape.value.serialization.get('name', 'value')
        key = escape(str(self.scalar(shape.key, 'xml')))
        return f'<{key_name}>{key}</{key_name}><{value_name}>{self.xml_inner(shape.value, depth + 1)}</{value_name}>'

    def xml_inner(self, shape, depth):
        t = shape.type_name
        if t == 'structure':
            return self.xml_members(shape, depth)
        if t == 'list':
            element = shape.member.serialization.get('name', 'member')
            return ''.join(f'<{element}>{self.xml_inner(shape.member, depth + 1)}</{element}>'
                           for _ in range(self.rng.randint(0, 3 if depth < 4 else 0)))
        if t == 'map':
            return ''.join(f'<entry>{self.xml_entry(shape, depth)}</entry>' for _ in range(self.rng.randint(0, 2)))
        value = self.scalar(shape, 'xml')
        if isinstance(value, bool):
            value = 'true' if value else 'false'
        return escape(str(value))


def answer(maker, protocol, model, op):
    shape = op.output_shape
    headers = {'x-amzn-RequestId': 'req-random'}
    if protocol in ('json', 'rest-json'):
        payload = shape.serialization.get('payload')
        if protocol == 'rest-json':
            for n, m in shape.members.items():
                if m.serialization.get('location') == 'header' and m.type_name in ('string', 'integer', 'long', 'boolean', 'timestamp') \
                        and not m.serialization.get('jsonvalue') and maker.rng.random() < 0.5:
                    value = maker.scalar(m, 'header')
                    headers[m.serialization.get('name', n)] = str(value).lower() if isinstance(value, bool) else str(value)
        if payload:
            member = shape.members[payload]
            if member.type_name != 'structure':
                return None
            return headers, json.dumps(maker.json_value(member))
        return headers, json.dumps(maker.json_value(shape))
    if protocol == 'rest-xml':
        for n, m in shape.members.items():
            if m.serialization.get('location') == 'header' and m.type_name in ('string', 'integer', 'long', 'boolean', 'timestamp') \
                    and maker.rng.random() < 0.5:
                value = maker.scalar(m, 'header')
                headers[m.serialization.get('name', n)] = str(value).lower() if isinstance(value, bool) else str(value)
        payload = shape.serialization.get('payload')
        if payload:
            member = shape.members[payload]
            if member.type_name != 'structure' or member.serialization.get('eventstream'):
                return None
            name = member.serialization.get('name', payload)
            return headers, f'<{name}>{maker.xml_members(member, 0)}</{name}>'
        return headers, f'<{op.name}Output xmlns="http://example.amazonaws.com/doc/">{maker.xml_members(shape, 0)}</{op.name}Output>'
    inner = maker.xml_members(shape, 0)
    if protocol == 'ec2':
        return headers, f'<{op.name}Response xmlns="http://ec2.amazonaws.com/doc/{model.api_version}/">{inner}<requestId>r</requestId></{op.name}Response>'
    wrapper = op.metadata.get('resultWrapper') or op._operation_model.get('output', {}).get('resultWrapper') or f'{op.name}Result'
    return headers, (f'<{op.name}Response xmlns="https://example.amazonaws.com/doc/"><{wrapper}>{inner}</{wrapper}>'
                     f'<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></{op.name}Response>')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--per-protocol', type=int, default=60)
    ap.add_argument('--seed', type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    session = botocore.session.get_session()
    by_protocol = {p: [] for p in SERVED}
    for service in session.get_available_services():
        model = session.get_service_model(service)
        protocol = protocol_of(model)
        if protocol in by_protocol and model.metadata.get('signatureVersion') != 'v2':
            by_protocol[protocol].append(service)
    cases = []
    for protocol in SERVED:
        picked = 0
        while picked < args.per_protocol:
            service = rng.choice(by_protocol[protocol])
            model = session.get_service_model(service)
            op = model.operation_model(rng.choice(model.operation_names))
            shape = op.output_shape
            if shape is None or op.has_event_stream_output or op.has_streaming_output or op.endpoint_discovery:
                continue
            made = answer(Maker(rng, protocol), protocol, model, op)
            if made is None:
                continue
            headers, body = made
            parser = create_parser(protocol if protocol != 'json' else 'json')
            response = {'status_code': 200, 'headers': HeadersDict(headers), 'body': body.encode()}
            try:
                parsed = parser.parse(response, shape)
            except Exception as e:  # botocore refuses it (e.g. a union with two members): not a case
                print(f'skip {service}.{op.name}: {e}', file=sys.stderr)
                continue
            if service == 'iam':
                handlers.json_decode_policies(parsed, op)
            if (service, op.name) == ('ec2', 'GetConsoleOutput'):
                handlers.decode_console_output(parsed)
            if (service, op.name) == ('cloudformation', 'GetTemplate'):
                handlers.json_decode_template_body(parsed)
            if (service, op.name) == ('s3', 'GetBucketLocation'):
                # After a real call the handler reads the root's text (its `raw` is set then).
                handlers.parse_get_bucket_location(parsed, types.SimpleNamespace(raw=True, content=body.encode()))
            result = to_json(parsed)
            try:
                json.dumps(result)
            except TypeError as e:  # botocore returned something that is not data (an XML element)
                print(f'skip {service}.{op.name}: {e}', file=sys.stderr)
                continue
            cases.append({'name': f'{protocol} {service}.{op.name}', 'method': f'{service}.{op.name}', 'status': 200,
                          'headers': headers, 'body': body, 'result': result})
            picked += 1
    print(json.dumps(cases, indent=1, ensure_ascii=False))


if __name__ == '__main__':
    main()
