#!/usr/bin/env python3
"""Signs SIGNING_INPUT (header.claims) with google-auth's RSASigner for KEY.json; prints base64url (no padding)."""
import base64, json, sys
from google.auth import crypt

signer = crypt.RSASigner.from_service_account_info(json.load(open(sys.argv[1])))
sys.stdout.write(base64.urlsafe_b64encode(signer.sign(sys.argv[2].encode())).decode().rstrip("="))
