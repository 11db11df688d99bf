#!/usr/bin/env python3
"""Signs requests with the official Azure SDK's Shared Key policy (azure-storage-blob's SharedKeyCredentialPolicy).

Usage: azure_sign.py ACCOUNT BASE64_KEY < [{"method", "url", "headers": [[name, value], ...]}] > [authorization...]
Each request is run through the SDK's `on_request` exactly as its pipeline does; the Authorization header it sets
is printed, in order.
"""
import json, sys
from azure.core.pipeline import PipelineContext, PipelineRequest
from azure.core.pipeline.transport import HttpRequest
from azure.storage.blob._shared.authentication import SharedKeyCredentialPolicy

policy = SharedKeyCredentialPolicy(sys.argv[1], sys.argv[2])
out = []
for r in json.load(sys.stdin):
    request = HttpRequest(r["method"], r["url"], headers={k: v for k, v in r["headers"] if k.lower() != "authorization"})
    policy.on_request(PipelineRequest(request, PipelineContext(None)))
    out.append(request.headers["Authorization"])
print(json.dumps(out))
