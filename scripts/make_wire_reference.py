#!/usr/bin/env python3
"""Writes what botocore 1.44.5 sends for each case of a cases file: the reference that
Tests/AWSClientTests/*WireTests compare awsgw's requests with, byte for byte.

    python3 -m venv /tmp/bc && /tmp/bc/bin/pip install botocore==1.44.5
    /tmp/bc/bin/python scripts/make_wire_reference.py CASES.json > REFERENCE.json

A case is {"name", "method": "service.Operation", "params" (awsgw's form: blobs as
base64), "region", "sessionToken"?, "env"?}. Blobs are decoded for botocore, which takes
bytes. The clock is frozen at 2026-11-20T10:00:00Z and uuid4 is fixed, so signatures and
filled idempotency tokens repeat. User-Agent and amz-sdk-* headers are left out: they
name the SDK, not the request.
"""
import base64
import datetime
import json
import os
import sys
import uuid

import botocore
import botocore.auth
import botocore.session

botocore.auth.get_current_datetime = lambda *a, **k: datetime.datetime(2026, 11, 20, 10, 0, 0)
# Request compression stamps the gzip member with the time: the same frozen clock.
import gzip
import botocore.compress
botocore.compress.gzip_compress = lambda data: gzip.compress(data, mtime=1795168800)  # 2026-11-20T10:00:00Z
uuid.uuid4 = lambda: uuid.UUID('11111111-2222-4333-8444-555555555555')


class Captured(Exception):
    pass


def to_botocore(value, shape):
    """awsgw's params → botocore's: base64 text → bytes at blob members."""
    if shape is None:
        return value
    if shape.type_name == 'blob' and isinstance(value, str):
        return base64.b64decode(value + '=' * (-len(value) % 4))
    if shape.type_name == 'structure' and isinstance(value, dict):
        return {k: to_botocore(v, shape.members.get(k)) for k, v in value.items()}
    if shape.type_name == 'list' and isinstance(value, list):
        return [to_botocore(v, shape.member) for v in value]
    if shape.type_name == 'map' and isinstance(value, dict):
        return {k: to_botocore(v, shape.value) for k, v in value.items()}
    return value


def capture(case):
    service, operation = case['method'].split('.', 1)
    saved = dict(os.environ)
    os.environ.update(case.get('env') or {})
    try:
        client = botocore.session.get_session().create_client(
            service, region_name=case['region'], aws_access_key_id='AKIDEXAMPLE',
            aws_secret_access_key='wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', aws_session_token=case.get('sessionToken'))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    model = client.meta.service_model.operation_model(operation)
    params = to_botocore(case.get('params') or {}, model.input_shape)
    out = {}

    def before_send(request, **kwargs):
        out['method'] = request.method
        out['url'] = request.url
        out['headers'] = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()
                          if k != 'User-Agent' and not k.lower().startswith('amz-sdk-')}
        body = request.body
        if hasattr(body, 'read'):
            # An aws-chunked upload (a checksum in the trailer): the bytes it streams.
            body = body.read()
        if isinstance(body, bytes):
            try:
                out['body'] = body.decode()
            except UnicodeDecodeError:
                out['bodyBase64'] = base64.b64encode(body).decode()
        else:
            out['body'] = body or ''
        raise Captured()

    client.meta.events.register('before-send', before_send)
    try:
        getattr(client, botocore.xform_name(operation))(**params)
    except Captured:
        pass
    return out


def main():
    cases = json.load(open(sys.argv[1]))
    for case in cases:
        case['expect'] = capture(case)
    print(json.dumps(cases, indent=1, ensure_ascii=False))


if __name__ == '__main__':
    main()
