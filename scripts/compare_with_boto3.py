#!/usr/bin/env python3
"""Compares what awsgw sends with what boto3 (botocore 1.44.5) sends, for many random
operations of each served protocol, with params generated from the model.

    python3 -m venv /tmp/bc && /tmp/bc/bin/pip install botocore==1.44.5
    /tmp/bc/bin/python scripts/compare_with_boto3.py --awsgw .build/debug/awsgw [--per-protocol 60] [--seed N]

For each operation: params that botocore's validator accepts (required members, some
optional ones, every type), botocore's request captured before sending, and
`awsgw call --dry-run` with the same params; method, URL, every header but the date,
signature and SDK identification, and the body must be identical. Prints each difference
and a summary; exits 1 if any operation differs.
"""
import argparse
import base64
import datetime
import json
import os
import random
import subprocess
import sys
import uuid

import botocore
import botocore.session

uuid.uuid4 = lambda: uuid.UUID('11111111-2222-4333-8444-555555555555')
PRIORITY = ['json', 'rest-json', 'rest-xml', 'smithy-rpc-v2-cbor', 'query', 'ec2']
SERVED = {'json', 'rest-json', 'rest-xml', 'smithy-rpc-v2-cbor', 'query', 'ec2'}
IGNORED_HEADERS = {'x-amz-date', 'authorization', 'user-agent', 'x-amz-security-token'}


class Captured(Exception):
    pass


def protocol_of(model):
    listed = model.metadata.get('protocols') or [model.metadata['protocol']]
    return next((p for p in PRIORITY if p in listed), model.metadata['protocol'])


def gen(shape, rng, depth=0):
    """A value botocore accepts for shape, and the same value in awsgw's form."""
    t = shape.type_name
    if t == 'structure':
        if shape.is_document_type:
            return {'k': 'v'}, {'k': 'v'}
        names = list(shape.members)
        if getattr(shape, 'is_tagged_union', False):
            chosen = [rng.choice(names)] if names else []
        else:
            required = set(shape.required_members)
            # Tokens are always given: botocore's and awsgw's fills differ by design.
            chosen = [n for n in names if n in required or shape.members[n].metadata.get('idempotencyToken')
                      or (depth < 3 and rng.random() < 0.4)]
        b, a = {}, {}
        for n in chosen:
            m = shape.members[n]
            if m.serialization.get('location') in ('header', 'headers') and m.type_name != 'string':
                continue
            if m.metadata.get('idempotencyToken') or m.serialization.get('idempotencyToken'):
                b[n] = a[n] = 'token-0000-1111'
                continue
            if getattr(m, 'is_document_type', False) or m.serialization.get('eventstream'):
                continue
            b[n], a[n] = gen(m, rng, depth + 1)
        return b, a
    if t == 'list':
        n = max(shape.metadata.get('min', 1), 1) if rng.random() < 0.8 else max(shape.metadata.get('min', 0), 0)
        pairs = [gen(shape.member, rng, depth + 1) for _ in range(min(n, 2))]
        return [p[0] for p in pairs], [p[1] for p in pairs]
    if t == 'map':
        out_b, out_a = {}, {}
        for i in range(max(shape.metadata.get('min', 1), 1)):
            k, _ = gen(shape.key, rng, depth + 1)
            vb, va = gen(shape.value, rng, depth + 1)
            out_b[k], out_a[k] = vb, va
        return out_b, out_a
    if t == 'string':
        if shape.enum:
            v = rng.choice(shape.enum)
            return v, v
        n = max(int(shape.metadata.get('min', 1)), rng.randint(1, 12))
        v = ''.join(rng.choice('abcdefghijklmnopqrstuvwxyz0123456789') for _ in range(n))
        return v, v
    if t in ('integer', 'long'):
        v = max(int(shape.metadata.get('min', 0)), rng.randint(1, 50))
        return v, v
    if t in ('float', 'double'):
        v = max(float(shape.metadata.get('min', 0)), rng.choice([0.5, 1.25, 3.0]))
        return v, v
    if t == 'boolean':
        v = rng.random() < 0.5
        return v, v
    if t == 'timestamp':
        v = datetime.datetime(2026, 11, 20, 10, rng.randint(0, 59), 0, tzinfo=datetime.timezone.utc)
        return v, v.strftime('%Y-%m-%dT%H:%M:%SZ')
    if t == 'blob':
        raw = bytes(rng.randint(0, 255) for _ in range(max(int(shape.metadata.get('min', 1)), 5)))
        return raw, base64.b64encode(raw).decode()
    return 'x', 'x'


def capture(client, operation, params):
    out = {}

    def before_send(request, **kwargs):
        out['method'] = request.method
        out['url'] = request.url
        out['headers'] = [(k, v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()
                          if k.lower() not in IGNORED_HEADERS and not k.lower().startswith('amz-sdk-')]
        body = request.body
        out['body'] = body if isinstance(body, bytes) else (body or '').encode()
        raise Captured()

    client.meta.events.register('before-send', before_send)
    try:
        getattr(client, botocore.xform_name(operation))(**params)
    except Captured:
        return out
    finally:
        client.meta.events.unregister('before-send', before_send)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--awsgw', default='.build/debug/awsgw')
    ap.add_argument('--models', default=os.path.join(os.path.dirname(__file__), '..', 'models'))
    ap.add_argument('--per-protocol', type=int, default=60)
    ap.add_argument('--seed', type=int, default=None)
    ap.add_argument('--protocols', default=','.join(sorted(SERVED)), help='comma-separated, e.g. rest-xml')
    args = ap.parse_args()
    wanted = set(args.protocols.split(','))
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    print(f'compare: seed {seed}')
    session = botocore.session.get_session()
    by_protocol = {}
    for name in session.get_available_services():
        proto = protocol_of(session.get_service_model(name))
        if proto in SERVED and proto in wanted:
            by_protocol.setdefault(proto, []).append(name)
    env = dict(os.environ, AWS_ACCESS_KEY_ID='AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY='wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
               AWSGW_MODELS=os.path.abspath(args.models))
    env.pop('AWS_SESSION_TOKEN', None)
    differing, compared, skipped, known = 0, 0, 0, 0
    for proto, services in sorted(by_protocol.items()):
        picks = []
        for _ in range(args.per_protocol):
            service = rng.choice(services)
            model = session.get_service_model(service)
            picks.append((service, rng.choice(model.operation_names)))
        for service, operation in picks:
            model = session.get_service_model(service)
            op = model.operation_model(operation)
            if op.has_event_stream_input or op.has_streaming_input:
                skipped += 1
                continue
            b, a = gen(op.input_shape, rng) if op.input_shape else ({}, {})
            client = session.create_client(service, region_name='us-east-1', aws_access_key_id='AKIDEXAMPLE',
                                           aws_secret_access_key='wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY')
            try:
                theirs = capture(client, operation, b)
            except Exception as e:
                skipped += 1  # botocore refuses these params or cannot resolve an endpoint
                continue
            if theirs is None:
                skipped += 1
                continue
            run = subprocess.run([args.awsgw, 'call', '--dry-run', f'{service}.{operation}', json.dumps(a), '--region', 'us-east-1'],
                                 capture_output=True, text=True, env=env)
            if run.returncode != 0 and '"protocol":' in run.stderr and ' with ' in run.stderr:
                known += 1  # refused on purpose: SigV2, endpoint discovery (docs/CONFORMANCE.md)
                continue
            compared += 1
            if run.returncode != 0:
                differing += 1
                print(f'DIFF {proto} {service}.{operation}: awsgw refused: {run.stderr.strip()[:300]}')
                continue
            ours = json.loads(run.stdout)
            our_headers = [(k, v) for k, v in ours['headers'].items() if k.lower() not in IGNORED_HEADERS and k != 'Host']
            our_body = base64.b64decode(ours['bodyBase64']) if 'bodyBase64' in ours else ours.get('body', '').encode()
            problems = []
            if ours['method'] != theirs['method']:
                problems.append(f"method {ours['method']} != {theirs['method']}")
            if ours['url'] != theirs['url']:
                problems.append(f"url {ours['url']} != {theirs['url']}")
            if our_headers != theirs['headers']:
                problems.append(f"headers {our_headers} != {theirs['headers']}")
            if our_body != theirs['body']:
                at = next((i for i in range(min(len(our_body), len(theirs['body']))) if our_body[i] != theirs['body'][i]),
                          min(len(our_body), len(theirs['body'])))
                problems.append(f"body differs at byte {at}: ours …{our_body[max(0, at - 80):at + 120]!r} theirs …{theirs['body'][max(0, at - 80):at + 120]!r}")
            if problems:
                differing += 1
                print(f'DIFF {proto} {service}.{operation} params={json.dumps(a)[:300]}')
                for p in problems:
                    print('   ', p[:600])
    print(f'compare: {compared} operations compared, {differing} differ, {skipped} skipped (streaming input, or refused by botocore), '
          f'{known} refused by awsgw as not supported yet (SigV2, endpoint discovery)')
    sys.exit(1 if differing else 0)


if __name__ == '__main__':
    main()
