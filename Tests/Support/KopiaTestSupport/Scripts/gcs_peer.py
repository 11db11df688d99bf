#!/usr/bin/env python3
"""Independent GCS peer for Ferry's tests: speaks the GCS JSON API with `requests` (not Ferry's code).

Usage: gcs_peer.py ENDPOINT < commands.json > results.json
Commands (a JSON list of objects with "op"):
  create-bucket {bucket}
  upload-repo {bucket, prefix, dir}: a sharded filesystem Kopia repository (.f files) -> object name = prefix + blob
      ID (kopia's GCS layout, kopia-format.md 18.1), content type application/x-kopia; returns the count.
  dump {bucket, prefix}: [{name, size, contentType, sha256, metadata}] read back through media downloads.
  put-many {bucket, prefix, count}: count small objects named prefix + "p%032x-s0".
"""
import concurrent.futures, hashlib, json, os, sys, urllib.parse, uuid
import requests

endpoint = sys.argv[1].rstrip("/")
session = requests.Session()
session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=16))


def q(s):
    return urllib.parse.quote(s, safe="")


def upload(bucket, name, data, content_type="application/x-kopia"):
    boundary = uuid.uuid4().hex
    meta = json.dumps({"name": name, "contentType": content_type}).encode()
    body = (b"--" + boundary.encode() + b"\r\nContent-Type: application/json\r\n\r\n" + meta +
            b"\r\n--" + boundary.encode() + b"\r\nContent-Type: " + content_type.encode() + b"\r\n\r\n" + data +
            b"\r\n--" + boundary.encode() + b"--\r\n")
    r = session.post(f"{endpoint}/upload/storage/v1/b/{q(bucket)}/o?uploadType=multipart", data=body,
                     headers={"Content-Type": f"multipart/related; boundary={boundary}"})
    r.raise_for_status()


def list_all(bucket, prefix):
    token, out = None, []
    while True:
        params = {"prefix": prefix}
        if token:
            params["pageToken"] = token
        r = session.get(f"{endpoint}/storage/v1/b/{q(bucket)}/o", params=params)
        r.raise_for_status()
        j = r.json()
        out += j.get("items", [])
        token = j.get("nextPageToken")
        if not token:
            return out


def run(cmd):
    op = cmd["op"]
    if op == "create-bucket":
        r = session.post(f"{endpoint}/storage/v1/b?project=ferry", json={"name": cmd["bucket"]})
        if r.status_code not in (200, 409):
            r.raise_for_status()
        return None
    if op == "upload-repo":
        files = []
        for root, _, names in os.walk(cmd["dir"]):
            for n in names:
                if n.endswith(".f"):
                    path = os.path.join(root, n)
                    rel = os.path.relpath(path, cmd["dir"])[:-2].replace(os.sep, "")
                    files.append((rel, path))
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda f: upload(cmd["bucket"], cmd["prefix"] + f[0], open(f[1], "rb").read()), files))
        return len(files)
    if op == "dump":
        out = []
        for item in list_all(cmd["bucket"], cmd["prefix"]):
            r = session.get(f"{endpoint}/storage/v1/b/{q(cmd['bucket'])}/o/{q(item['name'])}", params={"alt": "media"})
            r.raise_for_status()
            out.append({"name": item["name"], "size": int(item["size"]), "contentType": item.get("contentType", ""),
                        "sha256": hashlib.sha256(r.content).hexdigest(), "metadata": item.get("metadata", {})})
        return out
    if op == "put-many":
        names = [cmd["prefix"] + "p%032x-s0" % i for i in range(cmd["count"])]
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda n: upload(cmd["bucket"], n, n.encode()), names))
        return len(names)
    raise SystemExit(f"unknown op {op}")


print(json.dumps([run(c) for c in json.load(sys.stdin)]))
