#!/usr/bin/env python3
"""Parses AWS responses with botocore 1.44.5 and prints what a boto3 call returns,
in awsgw's JSON form (timestamps as ISO 8601 UTC, blobs as base64, no ResponseMetadata).

Makes Tests/AWSClientTests/boto3-seed-responses.json from the cases below.
"""
import base64
import datetime
import json

import botocore.session
from botocore.awsrequest import HeadersDict
from botocore.parsers import create_parser

CASES = [
    ("associateConnectPeerOK", "networkmanager", "AssociateConnectPeer", 200, {"x-amzn-RequestId": "req-1", "Content-Type": "application/json"},
     '{"ConnectPeerAssociation":{"ConnectPeerId":"connect-peer-0123","GlobalNetworkId":"global-network-0123","DeviceId":"device-0123","State":"PENDING","Unmodeled":1}}'),
    ("createConnectionOK", "networkmanager", "CreateConnection", 200, {"x-amzn-RequestId": "req-2"},
     '{"Connection":{"ConnectionId":"c-1","CreatedAt":1763632800.25,"Tags":[{"Key":"env","Value":"prod"}],"Description":"caf\\u00e9"}}'),
    ("createConnectionWholeSeconds", "networkmanager", "CreateConnection", 200, {},
     '{"Connection":{"ConnectionId":"c-1","CreatedAt":1763632800}}'),
    ("getNetworkConnectorKnownUnion", "lambda-core", "GetNetworkConnector", 200, {},
     '{"Arn":"arn:aws:lambda:us-east-1:123456789012:network-connector/nc-1","Configuration":{"VpcEgressConfiguration":{"SubnetIds":["s-1","s-2"],"ElasticIpConfiguration":{"Type":"AUTO"}}},"LastModified":"2026-11-20T10:00:00.123Z"}'),
    ("getNetworkConnectorUnknownUnion", "lambda-core", "GetNetworkConnector", 200, {},
     '{"Id":"nc-1","Configuration":{"SomethingNew":{"a":1}}}'),
    ("createAccountAssociationOK", "iot-managed-integrations", "CreateAccountAssociation", 201, {},
     '{"OAuthAuthorizationUrl":"https://example.com/auth","AccountAssociationId":"aa-1","AssociationState":"ASSOCIATION_IN_PROGRESS","Arn":"arn:x"}'),
    ("errorFromHeader", "networkmanager", "AssociateConnectPeer", 404,
     {"x-amzn-RequestId": "req-404", "x-amzn-ErrorType": "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.networkmanager/"},
     '{"Message":"Connect peer connect-peer-0123 not found","ResourceId":"connect-peer-0123","ResourceType":"connect-peer"}'),
    ("errorFromBodyType", "lambda-core", "GetNetworkConnector", 429, {"x-amzn-RequestId": "req-429"},
     '{"__type":"com.amazonaws.lambda#TooManyRequestsException","message":"Rate exceeded","Reason":"CallerRateLimitExceeded"}'),
    ("errorFromBodyCode", "iot-managed-integrations", "CreateAccountAssociation", 409, {"x-amzn-RequestId": "req-409"},
     '{"code":"ConflictException","message":"already associated"}'),
    ("errorHtml503", "networkmanager", "CreateConnection", 503, {}, '<html><body>unavailable</body></html>'),
    ("errorEmpty500", "networkmanager", "CreateConnection", 500, {"x-amzn-RequestId": "req-500"}, ''),
    # The json protocol.
    ("dynamodbQueryItems", "dynamodb", "Query", 200, {"x-amzn-RequestId": "req-d1", "Content-Type": "application/x-amz-json-1.0"},
     '{"Count":2,"Items":[{"pk":{"S":"customer#9"},"total":{"N":"12.5"},"raw":{"B":"aGVsbG8="},"tags":{"SS":["a","b"]},"nested":{"M":{"l":{"L":[{"BOOL":true},{"NULL":true}]}}}},{"pk":{"S":"customer#9"},"sk":{"S":"2026-02"}}],"LastEvaluatedKey":{"pk":{"S":"customer#9"}},"ScannedCount":7,"ConsumedCapacity":{"TableName":"orders","CapacityUnits":0.5}}'),
    ("secretsmanagerGetSecretValue", "secretsmanager", "GetSecretValue", 200, {"x-amzn-RequestId": "req-s1"},
     '{"ARN":"arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf","Name":"prod/db","VersionId":"v1","SecretString":"hunter2","VersionStages":["AWSCURRENT"],"CreatedDate":1.763632800123E9}'),
    ("kmsEncryptBlob", "kms", "Encrypt", 200, {"x-amzn-RequestId": "req-k1"},
     '{"CiphertextBlob":"AQIDBAUG","KeyId":"arn:aws:kms:ap-southeast-2:123456789012:key/1","EncryptionAlgorithm":"SYMMETRIC_DEFAULT"}'),
    ("dynamodbErrorType", "dynamodb", "PutItem", 400, {"x-amzn-RequestId": "req-d2"},
     '{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}'),
    ("sqsQueryCompatibleError", "sqs", "SendMessage", 400,
     {"x-amzn-RequestId": "req-q1", "x-amzn-query-error": "AWS.SimpleQueueService.NonExistentQueue;Sender"},
     '{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}'),
    ("sqsSendMessageResult", "sqs", "SendMessage", 200, {"x-amzn-RequestId": "req-q2"},
     '{"MD5OfMessageBody":"0f2f2a5c5a3f1b5f2e0d3f9c1a2b3c4d","MessageId":"5fea7756-0ea4-451a-a703-a558b933e274"}'),
    ("jsonErrorHeaderIgnored", "kms", "Encrypt", 400, {"x-amzn-ErrorType": "SomethingElse", "x-amzn-RequestId": "req-k2"},
     '{"__type":"NotFoundException","message":"Key not found"}'),
]


def to_json(value):
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items() if k != 'ResponseMetadata'}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, datetime.datetime):
        value = value.astimezone(datetime.timezone.utc)
        text = value.strftime('%Y-%m-%dT%H:%M:%S')
        if value.microsecond:
            text += f'.{value.microsecond // 1000:03d}' if value.microsecond % 1000 == 0 else f'.{value.microsecond:06d}'
        return text + 'Z'
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def main():
    session = botocore.session.get_session()
    out = []
    for name, service, operation, status, headers, body in CASES:
        model = session.get_service_model(service)
        op = model.operation_model(operation)
        parser = create_parser(model.metadata['protocol'])
        response = {'status_code': status, 'headers': HeadersDict(headers), 'body': body.encode()}
        parsed = parser.parse(response, op.output_shape)
        case = {'name': name, 'method': f'{service}.{operation}', 'status': status, 'headers': headers, 'body': body}
        if status >= 301:
            code = parsed['Error']['Code']
            # The client finds the modeled error by the code the body named, when a
            # query-compatible service reported another one.
            lookup = parsed['Error'].get('QueryErrorCode') or code
            try:
                shape = model.shape_for_error_code(lookup)
            except Exception:
                shape = None
            fields = {}
            if shape is not None:
                fields = to_json(parser.parse(response, shape))
                fields.pop('Error', None)
            case['error'] = {'type': code, 'message': parsed['Error']['Message'], 'httpStatus': status,
                             'requestId': parsed.get('ResponseMetadata', {}).get('RequestId'), 'fields': fields}
        else:
            case['result'] = to_json(parsed)
        out.append(case)
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == '__main__':
    main()
