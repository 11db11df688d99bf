#!/usr/bin/env python3
# Prints SigV4 cross-check vectors for Tests/KopiaTests/Storage/S3/SigV4SignerTests.swift (slashQueryVectors):
# canonical query, signed headers and signature, computed by botocore. The first line must reproduce AWS's
# published "list objects" example (signature 34b48302...), which proves the harness.
import hashlib
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from urllib.parse import quote
creds = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
empty = hashlib.sha256(b"").hexdigest()
for q in [[("max-keys","2"),("prefix","J")],
          [("list-type","2"),("prefix","volsync/webapp/"),("max-keys","1000")],
          [("list-type","2"),("prefix","volsync/webapp/xe"),("continuation-token","1/a+b=c d")],
          [("prefix","ü/ä b")]]:
    qs = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in q)
    r = AWSRequest(method="GET", url="https://examplebucket.s3.amazonaws.com/?" + qs,
                   headers={"x-amz-content-sha256": empty})
    r.context["timestamp"] = "20130524T000000Z"
    a = S3SigV4Auth(creds, "s3", "us-east-1")
    a._modify_request_before_signing = lambda req: None
    r.headers["X-Amz-Date"] = "20130524T000000Z"
    cr = a.canonical_request(r)
    sts = a.string_to_sign(r, cr)
    print(q, repr(cr.split("\n")[2]), a.signed_headers(a.headers_to_sign(r)), a.signature(sts, r))
