#!/usr/bin/env python3
"""Prints the request botocore would send for one call, without sending it.

Used to make Tests/AWSClientTests/boto3-seed-requests.json, the reference for the
seed operations' wire tests. Needs botocore==1.44.5 (pip install botocore==1.44.5).

    boto3_reference.py SERVICE.Operation 'PARAMS-JSON' REGION [SESSION_TOKEN]

The clock is frozen at 2026-11-20T10:00:00Z and uuid4 returns a fixed value, so the
signature and the filled ClientToken are repeatable. Endpoint overrides come from the
environment (AWS_ENDPOINT_URL...), as in boto3.
"""
import datetime
import json
import sys
import uuid

import botocore
import botocore.auth
import botocore.session

botocore.auth.get_current_datetime = lambda *a, **k: datetime.datetime(2026, 11, 20, 10, 0, 0)
uuid.uuid4 = lambda: uuid.UUID('11111111-2222-4333-8444-555555555555')


class Captured(Exception):
    pass


def main():
    service, operation = sys.argv[1].split('.', 1)
    params = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    region = sys.argv[3] if len(sys.argv) > 3 else 'us-east-1'
    token = sys.argv[4] if len(sys.argv) > 4 else None
    client = botocore.session.get_session().create_client(
        service, region_name=region, aws_access_key_id='AKIDEXAMPLE',
        aws_secret_access_key='wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', aws_session_token=token)
    out = {}

    def before_send(request, **kwargs):
        out['method'] = request.method
        out['url'] = request.url
        out['headers'] = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()}
        body = request.body
        out['body'] = (body.decode() if isinstance(body, bytes) else body) or ''
        raise Captured()

    client.meta.events.register('before-send', before_send)
    try:
        getattr(client, botocore.xform_name(operation))(**params)
    except Captured:
        pass
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == '__main__':
    main()
