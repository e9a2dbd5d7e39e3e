#!/usr/bin/env python3
"""Times botocore 1.44.5 parsing the same answers awsgw-bench parses, so BENCHMARKS.md
can quote a ratio measured in one run on one machine.

    .build/release/awsgw-bench --only write-samples --out /tmp/samples
    /tmp/bc/bin/python scripts/bench_botocore_parse.py /tmp/samples
"""
import sys
import time

import botocore.session
from botocore import parsers


def median_ms(parse, rounds=7, iterations=3):
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(iterations):
            parse()
        samples.append((time.perf_counter() - start) / iterations)
    samples.sort()
    return samples[len(samples) // 2] * 1000


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else '.'
    session = botocore.session.get_session()
    cases = [
        ('dynamodb', 'Query', 'json', 'dynamodb-query.json'),
        ('ec2', 'DescribeInstances', 'ec2', 'ec2-describe-instances.xml'),
    ]
    for service, operation, protocol, name in cases:
        body = open(f'{directory}/{name}', 'rb').read()
        shape = session.get_service_model(service).operation_model(operation).output_shape
        parser = parsers.create_parser(protocol)
        response = {'status_code': 200, 'headers': {}, 'body': body}
        print(f'botocore {service}.{operation}: parse {len(body) // 1000} KB: {median_ms(lambda: parser.parse(response, shape)):.1f} ms')


if __name__ == '__main__':
    main()
