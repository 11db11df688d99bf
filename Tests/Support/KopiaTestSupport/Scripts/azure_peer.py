#!/usr/bin/env python3
"""The official Azure SDK (azure-storage-blob) as an independent peer for Ferry's tests.

Usage: azure_peer.py ACCOUNT_URL ACCOUNT BASE64_KEY < commands.json > results.json
ACCOUNT_URL is path-style (http://127.0.0.1:PORT/ACCOUNT): the SDK cannot resolve <account>.localhost names.
Commands (a JSON list of objects with "op"):
  create-container {container}
  upload-repo {container, prefix, dir}: a sharded filesystem Kopia repository (.f files) -> blob name = prefix +
      blob ID (kopia's Azure layout, kopia-format.md 18.1), one block blob each; returns the count.
  dump {container, prefix}: [{name, size, sha256, metadata}] read back with the SDK.
  put-many {container, prefix, count}: count small blobs named prefix + "p%032x-s0".
  sas {container, permission, minutes}: a container SAS (generate_container_sas); negative minutes = expired.
"""
import concurrent.futures, datetime, hashlib, json, os, sys
from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas

url, account, key = sys.argv[1], sys.argv[2], sys.argv[3]
service = BlobServiceClient(account_url=url, credential={"account_name": account, "account_key": key})


def run(cmd):
    op = cmd["op"]
    if op == "create-container":
        service.create_container(cmd["container"])
        return None
    if op == "upload-repo":
        files = []
        for root, _, names in os.walk(cmd["dir"]):
            for n in names:
                if n.endswith(".f"):
                    path = os.path.join(root, n)
                    files.append((os.path.relpath(path, cmd["dir"])[:-2].replace(os.sep, ""), path))
        c = service.get_container_client(cmd["container"])
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda f: c.upload_blob(cmd["prefix"] + f[0], open(f[1], "rb").read(), overwrite=True), files))
        return len(files)
    if op == "dump":
        c = service.get_container_client(cmd["container"])
        out = []
        for b in c.list_blobs(name_starts_with=cmd["prefix"], include=["metadata"]):
            data = c.download_blob(b.name).readall()
            out.append({"name": b.name, "size": b.size, "sha256": hashlib.sha256(data).hexdigest(),
                        "metadata": b.metadata or {}})
        return out
    if op == "put-many":
        c = service.get_container_client(cmd["container"])
        names = [cmd["prefix"] + "p%032x-s0" % i for i in range(cmd["count"])]
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda n: c.upload_blob(n, n.encode(), overwrite=True), names))
        return len(names)
    if op == "sas":
        expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=cmd["minutes"])
        return generate_container_sas(account, cmd["container"], account_key=key,
                                      permission=ContainerSasPermissions.from_string(cmd["permission"]), expiry=expiry)
    raise SystemExit(f"unknown op {op}")


print(json.dumps([run(c) for c in json.load(sys.stdin)]))
