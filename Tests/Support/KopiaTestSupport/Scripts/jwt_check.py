#!/usr/bin/env python3
"""Checks a service-account JWT made by Ferry against google-auth (an independent RS256 signer and verifier).

Usage: jwt_check.py KEY.json PUBLIC.pem JWT
Prints JSON: {"signatureEqual": bool, "claims": {...}, "header": {...}} and exits 0; a JWT that google-auth
rejects exits 1 with the reason.
"""
import base64, json, sys
from google.auth import crypt, jwt

key_path, public_path, token = sys.argv[1], sys.argv[2], sys.argv[3]
info = json.load(open(key_path))
signer = crypt.RSASigner.from_service_account_info(info)
header_b64, claims_b64, sig_b64 = token.split(".")
ours = signer.sign((header_b64 + "." + claims_b64).encode())
theirs = base64.urlsafe_b64decode(sig_b64 + "=" * (-len(sig_b64) % 4))
try:
    claims = jwt.decode(token, certs=open(public_path).read(), audience=info["token_uri"], clock_skew_in_seconds=30)
except Exception as e:  # noqa: BLE001 - the reason is the test's output
    print(f"google-auth rejected the JWT: {e}", file=sys.stderr)
    sys.exit(1)
header = json.loads(base64.urlsafe_b64decode(header_b64 + "=" * (-len(header_b64) % 4)))
print(json.dumps({"signatureEqual": ours == theirs, "claims": claims, "header": header}))
