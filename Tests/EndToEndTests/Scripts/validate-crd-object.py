#!/usr/bin/env python3
"""Validates custom objects (JSON on stdin: one object, or a List with items) against their CRD's openAPIV3Schema,
strictly: a field the schema does not name is an error (a real API server would prune it silently, so status a
controller writes outside the schema is lost). metadata is checked against the official ObjectMeta schema from
kubernetes-validate.

Usage: validate-crd-object.py CRD.yaml [--version 1.37] < object.json
Exit status 0 when every object is valid, 1 otherwise (each error printed).
"""
import argparse
import json
import sys

import jsonschema
import kubernetes_validate.utils as kv
import yaml


def strict(schema):
    """The CRD schema as JSON Schema with additionalProperties false wherever properties are listed."""
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == "properties":
            out[key] = {name: strict(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = strict(value)
        elif key.startswith("x-kubernetes-") or key in ("description",):
            continue
        else:
            out[key] = value
    if "properties" in schema and not schema.get("x-kubernetes-preserve-unknown-fields") \
            and "additionalProperties" not in schema:
        out["additionalProperties"] = False
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("crd")
    parser.add_argument("--version", default="1.37")
    args = parser.parse_args()
    with open(args.crd) as f:
        crd = yaml.safe_load(f)
    schemas = {v["name"]: strict(v["schema"]["openAPIV3Schema"]) for v in crd["spec"]["versions"]}
    group = crd["spec"]["group"]
    data = json.load(sys.stdin)
    items = data.get("items", [data]) if data.get("kind", "").endswith("List") else [data]
    bad = 0
    for obj in items:
        version = obj.get("apiVersion", "").split("/")[-1]
        schema = schemas.get(version)
        name = "%s/%s" % (obj.get("metadata", {}).get("namespace"), obj.get("metadata", {}).get("name"))
        if schema is None or not obj.get("apiVersion", "").startswith(group + "/"):
            print("NO SCHEMA %s %s" % (obj.get("apiVersion"), name))
            bad += 1
            continue
        validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        for error in validator.iter_errors(obj):
            print("INVALID %s: %s: %s" % (name, ".".join(str(p) for p in error.path), error.message))
            bad += 1
        # metadata against the official ObjectMeta schema (a ConfigMap carries nothing else that could fail).
        try:
            kv.validate({"apiVersion": "v1", "kind": "ConfigMap", "metadata": obj.get("metadata", {})}, args.version, strict=True)
        except kv.ValidationError as e:
            print("INVALID %s: metadata: %s" % (name, e.message))
            bad += 1
    print("validate-crd-object: %d objects, %d errors" % (len(items), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
