#!/usr/bin/env python3
"""Validates every built-in object in local-cluster store dumps against the official Kubernetes OpenAPI schema.

Usage: validate-store-dumps.py DIR [--version 1.37]
DIR holds the JSON dumps LocalClusterInstance writes on stop when FERRY_STORE_DUMP_DIR is set (one file per cluster:
{"items": [object, ...]}). Objects of custom kinds (CRDs) are skipped: their schemas live in their CRDs, which the
API server enforces itself. Strict mode: fields unknown to the schema are errors too.
Exit status: 0 when every object is valid (or there are no dumps), 1 when any is invalid (each one is listed).
"""
import argparse
import glob
import json
import os
import sys

import kubernetes_validate

BUILT_IN_GROUPS = {"", "storage.k8s.io", "events.k8s.io", "coordination.k8s.io", "apiextensions.k8s.io",
                   "authorization.k8s.io", "apps", "rbac.authorization.k8s.io"}


def group_of(api_version):
    return api_version.split("/")[0] if "/" in api_version else ""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--version", default="1.37")
    args = parser.parse_args()
    files = sorted(glob.glob(os.path.join(args.dir, "*.json")))
    checked = invalid = 0
    for path in files:
        with open(path) as f:
            items = json.load(f).get("items", [])
        for obj in items:
            if group_of(obj.get("apiVersion", "")) not in BUILT_IN_GROUPS:
                continue
            checked += 1
            try:
                kubernetes_validate.validate(obj, args.version, strict=True)
            except kubernetes_validate.ValidationError as e:
                invalid += 1
                meta = obj.get("metadata", {})
                where = "/".join(p for p in (meta.get("namespace"), meta.get("name")) if p)
                path_in = ".".join(str(p) for p in e.path)
                print(f"INVALID {os.path.basename(path)}: {obj.get('kind')} {where}: {path_in}: {e.message}")
            except kubernetes_validate.SchemaNotFoundError as e:
                invalid += 1
                print(f"NO SCHEMA {os.path.basename(path)}: {obj.get('apiVersion')} {obj.get('kind')}: {e}")
    print(f"validate-store-dumps: {len(files)} dumps, {checked} built-in objects, {invalid} invalid")
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main())
