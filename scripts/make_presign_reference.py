#!/usr/bin/env python3
"""Writes what botocore 1.44.5's generate_presigned_url returns (SigV4: `s3v4` for S3) for
each case below, with the clock frozen at 2026-11-20T10:00:00Z: the reference that
Tests/AWSClientTests/PresignTests compares awsgw's presigned URLs with.

    /tmp/bc/bin/python scripts/make_presign_reference.py > Tests/AWSClientTests/boto3-presign-urls.json
"""
import datetime
import json

import botocore
import botocore.auth
import botocore.session
from botocore.config import Config

botocore.auth.get_current_datetime = lambda *a, **k: datetime.datetime(2026, 11, 20, 10, 0, 0)

CASES = [
    ("s3GetObjectUsEast1", "s3", "GetObject", "us-east-1", {"Bucket": "team-data", "Key": "reports/a b+c.csv"}, 900, None),
    ("s3GetObjectEuWest1Token", "s3", "GetObject", "eu-west-1",
     {"Bucket": "team-data-eu", "Key": "x.json", "VersionId": "v1", "ResponseContentType": "text/plain"}, 3600, "TOKEN/abc+="),
    ("s3PutObjectContentType", "s3", "PutObject", "eu-west-1",
     {"Bucket": "team-data-eu", "Key": "up/é.bin", "ContentType": "application/octet-stream"}, 600, None),
    ("s3GetObjectPathStyle", "s3", "GetObject", "eu-west-1", {"Bucket": "ab", "Key": "k"}, 60, None),
    ("s3GetObjectDottedBucket", "s3", "GetObject", "us-west-2", {"Bucket": "my.dotted.bucket", "Key": "a/b"}, 120, None),
    ("s3GetBucketAcl", "s3", "GetBucketAcl", "us-west-2", {"Bucket": "team-data"}, 60, None),
    ("s3ListObjectsV2", "s3", "ListObjectsV2", "us-east-1", {"Bucket": "team-data", "Prefix": "a b/"}, 60, None),
    ("stsGetCallerIdentity", "sts", "GetCallerIdentity", "eu-west-1", {}, 300, None),
]


def main():
    session = botocore.session.get_session()
    out = []
    for name, service, operation, region, params, expires, token in CASES:
        client = session.create_client(
            service, region_name=region, config=Config(signature_version='s3v4') if service == 's3' else None,
            aws_access_key_id='AKIDEXAMPLE', aws_secret_access_key='wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', aws_session_token=token)
        url = client.generate_presigned_url(botocore.xform_name(operation), Params=params, ExpiresIn=expires)
        out.append({'name': name, 'method': f'{service}.{operation}', 'region': region, 'params': params, 'expires': expires,
                    'sessionToken': token, 'url': url})
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == '__main__':
    main()
