#!/usr/bin/env python3
"""A GCS front door for tests: Google's OAuth token endpoint plus bearer-token checks, in front of fake-gcs-server
(which checks no credentials itself).

Usage: gcs_auth_gateway.py PORT UPSTREAM_URL PUBLIC_KEY.pem CLIENT_EMAIL TOKEN_TTL_SECONDS

- POST /token: the JWT bearer grant (RFC 7523). The assertion is verified with google-auth against the service
  account's public key (signature, aud = this endpoint's URL, iat/exp with 60 s of skew), iss must be CLIENT_EMAIL and the scope must
  include a devstorage scope; else 400 invalid_grant, as Google answers. Issues a random token valid TOKEN_TTL s.
- Every other request must carry `Authorization: Bearer <issued, unexpired token>`, else 401 with GCS's JSON error
  document (reason `required` without a token, `authError` with a bad or expired one); accepted requests are
  forwarded to UPSTREAM_URL without the Authorization header.
- GET /_gateway/stats: {"tokens": issued, "forwarded": n, "rejected": n}; POST /_gateway/revoke: forget all tokens.
"""
import http.client, json, secrets, sys, threading, time, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from google.auth import jwt

port, upstream, public_path, client_email, ttl = (int(sys.argv[1]), urllib.parse.urlparse(sys.argv[2]),
                                                  sys.argv[3], sys.argv[4], int(sys.argv[5]))
public_key = open(public_path).read()
token_url = f"http://127.0.0.1:{port}/token"
lock = threading.Lock()
tokens = {}
stats = {"tokens": 0, "forwarded": 0, "rejected": 0}


def gcs_error(code, message, reason):
    return json.dumps({"error": {"code": code, "message": message,
                                 "errors": [{"domain": "global", "reason": reason, "message": message}]}}).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="application/json", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def token(self):
        form = urllib.parse.parse_qs(self.body().decode())
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            return self.reply(400, json.dumps({"error": "unsupported_grant_type"}).encode())
        try:
            claims = jwt.decode(form["assertion"][0], certs=public_key, audience=token_url, clock_skew_in_seconds=60)
            if claims.get("iss") != client_email or "devstorage" not in claims.get("scope", ""):
                raise ValueError("wrong issuer or scope")
        except Exception as e:  # noqa: BLE001
            with lock:
                stats["rejected"] += 1
            return self.reply(400, json.dumps({"error": "invalid_grant",
                                               "error_description": f"Invalid JWT: {type(e).__name__}"}).encode())
        value = "ya29." + secrets.token_urlsafe(32)
        with lock:
            tokens[value] = time.monotonic() + ttl
            stats["tokens"] += 1
        self.reply(200, json.dumps({"access_token": value, "expires_in": ttl, "token_type": "Bearer"}).encode())

    def handle_any(self):
        path = self.path
        if path == "/token" and self.command == "POST":
            return self.token()
        if path == "/_gateway/stats":
            with lock:
                return self.reply(200, json.dumps(stats).encode())
        if path == "/_gateway/revoke":
            with lock:
                tokens.clear()
            self.body()
            return self.reply(200, b"{}")
        auth = self.headers.get("Authorization", "")
        body = self.body()
        if not auth.startswith("Bearer "):
            with lock:
                stats["rejected"] += 1
            return self.reply(401, gcs_error(401, "Anonymous caller does not have storage.objects.get access.",
                                             "required"), headers=[("WWW-Authenticate", 'Bearer realm="https://accounts.google.com/"')])
        with lock:
            expiry = tokens.get(auth[7:])
            ok = expiry is not None and expiry > time.monotonic()
            stats["rejected" if not ok else "forwarded"] += 1
        if not ok:
            return self.reply(401, gcs_error(401, "Invalid Credentials", "authError"))
        conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "authorization", "connection")}
        conn.request(self.command, path, body=body if body else None, headers=headers)
        r = conn.getresponse()
        data = r.read()
        keep = [(k, v) for k, v in r.getheaders()
                if k.lower() not in ("content-length", "transfer-encoding", "connection", "content-type")]
        conn.close()
        self.reply(r.status, data, r.getheader("Content-Type", "application/octet-stream"), keep)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = handle_any


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
