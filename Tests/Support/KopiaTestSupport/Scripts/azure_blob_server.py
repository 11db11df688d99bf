#!/usr/bin/env python3
"""A small Azure-Blob-compatible server for Ferry's tests: it checks Shared Key or SAS on EVERY request, as the
real service does, and keeps blobs in memory.

Usage: azure_blob_server.py PORT ACCOUNT BASE64_KEY PAGE_SIZE

Addressing: virtual-host (`Host: <account>.<domain>`, what Ferry and kopia send) or path-style
(`http://127.0.0.1:PORT/<account>/...`, what the Python SDK uses for an IP address, as with Azurite).
Authorization, per Microsoft's "Authorize with Shared Key" (implemented here from the documentation):
  - Shared Key: StringToSign rebuilt from the request (12 standard headers, `Content-Length` empty when 0, `Date`
    empty when `x-ms-date` is present; canonicalized `x-ms-*` headers in the service's sort order; `/account` + path
    as sent + sorted, lowercased, decoded query), HMAC-SHA256 with the account key, compared with the header.
    `x-ms-date` must be within 15 minutes; `x-ms-version` must be present.
  - SAS (`sig` in the query): a container or account SAS is recomputed with the SDK's SAS generator for the same
    fields and compared; expiry, container and the permission the operation needs are checked.
  Failures answer 403 `AuthenticationFailed` (or 401 `NoAuthenticationInformation`); wrong SAS permissions answer 403
  `AuthorizationPermissionMismatch`.
Operations: Create Container, List Blobs (prefix, marker, maxresults <= PAGE_SIZE, include=metadata), Put Blob
(BlockBlob), Get Blob (x-ms-range / Range, 416 InvalidRange), Get Blob Properties, Delete Blob.
GET /_stats (no auth): {"sharedKey": n, "sas": n, "rejected": n, "requests": n}.
"""
import base64, email.utils, hashlib, hmac, json, sys, threading, time, urllib.parse
from functools import cmp_to_key
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

from azure.storage.blob._shared.authentication import compare as service_header_compare
from azure.storage.blob._shared_access_signature import BlobSharedAccessSignature
from azure.storage.blob._shared.shared_access_signature import SharedAccessSignature

port, account, key_b64, page_size = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
key = base64.b64decode(key_b64)
lock = threading.Lock()
containers = {}
stats = {"sharedKey": 0, "sas": 0, "rejected": 0, "requests": 0}
STANDARD = ["content-encoding", "content-language", "content-length", "content-md5", "content-type", "date",
            "if-modified-since", "if-match", "if-none-match", "if-unmodified-since", "range"]


class Fail(Exception):
    def __init__(self, status, code, message=""):
        self.status, self.code, self.message = status, code, message


def string_to_sign(method, headers, raw_path, query_pairs):
    lower = {}
    for k, v in headers:
        lower.setdefault(k.lower(), v)
    lines = [method]
    for name in STANDARD:
        value = lower.get(name, "")
        if name == "content-length" and value == "0":
            value = ""
        if name == "date" and "x-ms-date" in lower:
            value = ""
        lines.append(value)
    out = "\n".join(lines) + "\n"
    ms = sorted([(k.lower(), " ".join(v.split())) for k, v in headers if k.lower().startswith("x-ms-")],
                key=cmp_to_key(lambda a, b: service_header_compare(a[0], b[0])))
    for k, v in ms:
        out += f"{k}:{v}\n"
    out += "/" + account + raw_path
    grouped = {}
    for k, v in query_pairs:
        grouped.setdefault(k.lower(), []).append(v)
    for k in sorted(grouped):
        out += f"\n{k}:{','.join(sorted(grouped[k]))}"
    return out


def needed_permission(op):
    return {"get": "r", "head": "r", "list": "l", "put": "w", "delete": "d", "create": "c"}[op]


def check_sas(params, container, op):
    sv, sig = params.get("sv"), params.get("sig")
    if not sv or not sig:
        raise Fail(403, "AuthenticationFailed", "SAS without sv or sig")
    se = params.get("se", "")
    expiry = time.mktime(time.strptime(se, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone if se else 0
    if expiry < time.time():
        raise Fail(403, "AuthenticationFailed", "Signed expiry time has passed")
    if params.get("sr") == "c":
        if params.get("sr") and container != params.get("_container"):
            pass
        expected = BlobSharedAccessSignature(account, key_b64).generate_container(
            container, permission=params.get("sp"), expiry=se, start=params.get("st"), ip=params.get("sip"),
            protocol=params.get("spr"))
    elif params.get("ss"):
        expected = SharedAccessSignature(account, key_b64).generate_account(
            services=params.get("ss"), resource_types=params.get("srt"), permission=params.get("sp"), expiry=se,
            start=params.get("st"), ip=params.get("sip"), protocol=params.get("spr"))
    else:
        raise Fail(403, "AuthenticationFailed", "unsupported SAS kind")
    expected_sig = dict(urllib.parse.parse_qsl(expected)).get("sig")
    expected_sv = dict(urllib.parse.parse_qsl(expected)).get("sv")
    if expected_sv != sv or not hmac.compare_digest(expected_sig or "", sig):
        raise Fail(403, "AuthenticationFailed", "Signature did not match")
    if needed_permission(op) not in params.get("sp", "") and not (op == "put" and "c" in params.get("sp", "")):
        raise Fail(403, "AuthorizationPermissionMismatch", "This request is not authorized to perform this operation")


def authorize(handler, raw_path, query_pairs, container, op):
    params = dict(query_pairs)
    if "sig" in params:
        check_sas(params, container, op)
        return "sas"
    auth = handler.headers.get("Authorization")
    if not auth:
        raise Fail(401, "NoAuthenticationInformation", "Server failed to authenticate the request.")
    if not auth.startswith("SharedKey " + account + ":"):
        raise Fail(403, "AuthenticationFailed", "wrong account or scheme")
    date = handler.headers.get("x-ms-date")
    if not date or not handler.headers.get("x-ms-version"):
        raise Fail(403, "AuthenticationFailed", "x-ms-date and x-ms-version are required")
    if abs(email.utils.parsedate_to_datetime(date).timestamp() - time.time()) > 900:
        raise Fail(403, "AuthenticationFailed", "Request date header too old")
    sts = string_to_sign(handler.command, list(handler.headers.items()), raw_path, query_pairs)
    expected = base64.b64encode(hmac.new(key, sts.encode(), hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(expected, auth.split(":", 1)[1]):
        raise Fail(403, "AuthenticationFailed", "Server failed to authenticate the request. Make sure the value of "
                   "Authorization header is formed correctly including the signature.")
    return "sharedKey"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body=b"", headers=()):
        self.send_response(status)
        has_length = False
        for k, v in headers:
            self.send_header(k, v)
            has_length = has_length or k.lower() == "content-length"
        if not has_length:
            self.send_header("Content-Length", str(len(body)))
        self.send_header("x-ms-request-id", "ferry-test")
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def fail(self, e):
        body = (f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{e.code}</Code>'
                f"<Message>{escape(e.message)}\nRequestId:ferry-test</Message></Error>").encode()
        self.send(e.status, body if self.command != "HEAD" else b"",
                  [("x-ms-error-code", e.code), ("Content-Type", "application/xml")]
                  + ([("Content-Length", "0")] if self.command == "HEAD" else []))

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if self.path == "/_stats":
            with lock:
                return self.send(200, json.dumps(stats).encode())
        raw_path, _, raw_query = self.path.partition("?")
        query_pairs = urllib.parse.parse_qsl(raw_query, keep_blank_values=True)
        host = (self.headers.get("Host") or "").split(":")[0]
        segments = raw_path.split("/")[1:]
        if not host.startswith(account + "."):
            if not segments or segments[0] != account:
                return self.fail(Fail(400, "InvalidUri", "unknown account"))
            segments = segments[1:]
        container = urllib.parse.unquote(segments[0]) if segments else ""
        blob = urllib.parse.unquote("/".join(segments[1:])) if len(segments) > 1 else None
        q = dict(query_pairs)
        if blob is None and q.get("restype") == "container" and q.get("comp") == "list":
            op = "list"
        elif blob is None and q.get("restype") == "container" and self.command == "PUT":
            op = "create"
        elif blob is not None:
            op = {"GET": "get", "HEAD": "head", "PUT": "put", "DELETE": "delete"}.get(self.command)
        else:
            op = None
        try:
            if op is None:
                raise Fail(400, "UnsupportedHttpVerb", "operation not supported by this test server")
            kind = authorize(self, raw_path, query_pairs, container, op)
            with lock:
                stats[kind] += 1
                stats["requests"] += 1
            getattr(self, "op_" + op)(container, blob, q, body)
        except Fail as e:
            if e.code in ("AuthenticationFailed", "NoAuthenticationInformation", "AuthorizationPermissionMismatch"):
                with lock:
                    stats["rejected"] += 1
            self.fail(e)

    def bucket(self, container):
        with lock:
            c = containers.get(container)
        if c is None:
            raise Fail(404, "ContainerNotFound", "The specified container does not exist.")
        return c

    def op_create(self, container, blob, q, body):
        with lock:
            if container in containers:
                raise Fail(409, "ContainerAlreadyExists", "The specified container already exists.")
            containers[container] = {}
        self.send(201)

    def op_put(self, container, blob, q, body):
        c = self.bucket(container)
        if self.headers.get("x-ms-blob-type") != "BlockBlob":
            raise Fail(400, "MissingRequiredHeader", "x-ms-blob-type")
        meta = {k[len("x-ms-meta-"):]: v for k, v in self.headers.items() if k.lower().startswith("x-ms-meta-")}
        with lock:
            c[blob] = (body, time.time(), meta, self.headers.get("Content-Type", "application/octet-stream"))
        self.send(201, headers=[("Content-MD5", base64.b64encode(hashlib.md5(body).digest()).decode())])

    def lookup(self, container, blob):
        c = self.bucket(container)
        with lock:
            entry = c.get(blob)
        if entry is None:
            raise Fail(404, "BlobNotFound", "The specified blob does not exist.")
        return entry

    def blob_headers(self, entry):
        data, modified, meta, ctype = entry
        return ([("Last-Modified", email.utils.formatdate(modified, usegmt=True)), ("x-ms-blob-type", "BlockBlob"),
                 ("Content-Type", ctype)] + [("x-ms-meta-" + k, v) for k, v in meta.items()])

    def op_get(self, container, blob, q, body):
        entry = self.lookup(container, blob)
        data = entry[0]
        rng = self.headers.get("x-ms-range") or self.headers.get("Range")
        if rng:
            start, _, end = rng.split("=", 1)[1].partition("-")
            start = int(start)
            end = min(int(end) if end else len(data) - 1, len(data) - 1)
            if start >= len(data):
                raise Fail(416, "InvalidRange", "The range specified is invalid for the current size of the resource.")
            part = data[start:end + 1]
            return self.send(206, part, self.blob_headers(entry) + [("Content-Range", f"bytes {start}-{end}/{len(data)}")])
        self.send(200, data, self.blob_headers(entry))

    def op_head(self, container, blob, q, body):
        entry = self.lookup(container, blob)
        self.send(200, b"", self.blob_headers(entry) + [("Content-Length", str(len(entry[0])))])

    def op_delete(self, container, blob, q, body):
        c = self.bucket(container)
        with lock:
            if blob not in c:
                raise Fail(404, "BlobNotFound", "The specified blob does not exist.")
            del c[blob]
        self.send(202)

    def op_list(self, container, blob, q, body):
        c = self.bucket(container)
        prefix, marker = q.get("prefix", ""), q.get("marker", "")
        limit = min(page_size, int(q.get("maxresults") or 5000))
        with lock:
            names = sorted(n for n in c if n.startswith(prefix) and n >= marker)
            page, rest = names[:limit], names[limit:]
            items = [(n, c[n]) for n in page]
        include_meta = "metadata" in q.get("include", "")
        xml = [f'<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="http://{account}.localhost/" '
               f'ContainerName="{escape(container)}"><Prefix>{escape(prefix)}</Prefix><Blobs>']
        for n, (data, modified, meta, ctype) in items:
            xml.append(f"<Blob><Name>{escape(n)}</Name><Properties><Last-Modified>"
                       f"{email.utils.formatdate(modified, usegmt=True)}</Last-Modified>"
                       f"<Content-Length>{len(data)}</Content-Length><Content-Type>{escape(ctype)}</Content-Type>"
                       f"<BlobType>BlockBlob</BlobType></Properties>")
            if include_meta:
                xml.append("<Metadata>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in meta.items()) + "</Metadata>")
            xml.append("</Blob>")
        xml.append(f"</Blobs><NextMarker>{escape(rest[0]) if rest else ''}</NextMarker></EnumerationResults>")
        self.send(200, "".join(xml).encode(), [("Content-Type", "application/xml")])

    do_GET = do_PUT = do_DELETE = do_HEAD = do_POST = handle_any


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
