"""The user docs in docs/ are checked against the code and the schemas they describe.

- docs/reference.md is what scripts/gen-reference.py generates from the built `ferry` binary, the CRDs and the
  metrics source (`--check`); the binary is .build/debug/ferry (run after `swift build`) or $FERRY_BIN.
- docs/troubleshooting.md names every event and condition reason Ferry's controllers emit (extraction rules below).
- Every ```yaml block in docs/*.md is valid:
    built-in kinds with kubernetes-validate (Kubernetes 1.37.0, strict: unknown fields fail);
    ferry.io kinds against the openAPIV3Schema of helm/ferry/crds/*.yaml;
    VolumeSnapshot (snapshot.storage.k8s.io) and ReferenceGrant (gateway.networking.k8s.io) against the upstream CRD
      schemas the local control plane installs (Sources/LocalCluster/APIServer/ClusterCRDs.swift);
    CRD schemas are applied strictly too: an object field not in the schema fails (as `kubectl --validate=strict`).
  A block preceded by `<!-- helm-values: NAME -->` holds a parent chart's values: its NAME key is validated against
  helm/ferry/values.schema.json. Only a block preceded by `<!-- fragment -->` (e.g. Helm template excerpts) is skipped.
"""
import copy
import glob
import os
import re
import subprocess
import sys

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCS = os.path.join(ROOT, "docs")
K8S_VERSION = "1.37.0"


# ---------------------------------------------------------------- reference.md

def test_reference_md_is_generated_from_the_current_binary_crds_and_metrics():
    ferry = os.environ.get("FERRY_BIN") or os.path.join(ROOT, ".build", "debug", "ferry")
    assert os.access(ferry, os.X_OK), f"no ferry binary at {ferry}: run `swift build` first (or set FERRY_BIN)"
    p = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "gen-reference.py"), "--check", "--ferry", ferry],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, f"docs/reference.md is stale:\n{p.stdout[-4000:]}\n{p.stderr}"


# ---------------------------------------------------------------- troubleshooting.md

# Where a reason a person sees (`kubectl describe` events, `.status.conditions[].reason`) is written in the code.
# Each rule: (files under Sources/FerryControllers, regex whose group 1 is the reason).
REASON_RULES = [
    # The EventReason constants (Runtime/Feedback.swift): Provisioning, ProvisioningFailed, ...
    ("Runtime/Feedback.swift", r'public static let \w+ = "([A-Z]\w+)"'),
    # Conditions built with a literal reason: Condition(type: "Ready", status: "False", reason: "SourceNotFound", ...)
    ("**/*.swift", r'Condition\(type: "\w+", status: "\w+", reason: "([A-Z]\w+)"'),
    # KopiaSnapshot's Ready condition: KopiaSnapshotConditions.ready(reason: "Ready", ...)
    ("**/*.swift", r'\.ready\(\s*reason: "([A-Z]\w+)"'),
    # Populator events: .event(.warning("PopulatorFailed", ...)) / .normal("Populated", ...)
    ("Populating/*.swift", r'\.(?:warning|normal)\("([A-Z]\w+)"'),
    # PopulatingError codes: events and the KopiaSnapshot Ready=False condition carry code.reason.
    ("Populating/PopulatingError.swift", r'Code\("([A-Z]\w+)"\)'),
    # GrantDenial.reason: a DataSourceLink's Granted=False condition (and ferry_grant_denials_total{reason}).
    ("Grants/GrantDecision.swift", r'case \.\w+: "([A-Z]\w+)"'),
]


def emitted_reasons():
    found = {}
    base = os.path.join(ROOT, "Sources", "FerryControllers")
    for pattern, regex in REASON_RULES:
        files = glob.glob(os.path.join(base, pattern), recursive=True)
        assert files, f"rule {pattern} matches no file: the code moved; update REASON_RULES"
        hits = 0
        for f in files:
            with open(f) as fh:
                for m in re.finditer(regex, fh.read()):
                    found.setdefault(m.group(1), os.path.relpath(f, ROOT))
                    hits += 1
        assert hits, f"rule {regex!r} over {pattern} finds nothing: the code changed; update REASON_RULES"
    return found


def test_troubleshooting_names_every_reason_ferry_emits():
    with open(os.path.join(DOCS, "troubleshooting.md")) as fh:
        text = fh.read()
    documented = set(re.findall(r"`([A-Z]\w+)`", text))
    reasons = emitted_reasons()
    assert len(reasons) >= 20, f"suspiciously few reasons found: {sorted(reasons)}"
    missing = {r: f for r, f in reasons.items() if r not in documented}
    assert not missing, "reasons emitted but not in docs/troubleshooting.md (as `Reason`): " + ", ".join(
        f"{r} ({f})" for r, f in sorted(missing.items()))


# ---------------------------------------------------------------- YAML blocks

FENCE = re.compile(r"^```yaml[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)


def yaml_blocks():
    blocks = []
    for path in sorted(glob.glob(os.path.join(DOCS, "*.md"))):
        with open(path) as fh:
            text = fh.read()
        for m in FENCE.finditer(text):
            before = text[:m.start()].rstrip().splitlines()
            marker = before[-1].strip() if before else ""
            line = text[:m.start()].count("\n") + 1
            blocks.append(pytest.param(m.group(1), marker, id=f"{os.path.basename(path)}:{line}"))
    return blocks


def strict(schema):
    """A copy of a structural schema in which objects with properties reject unknown fields."""
    s = copy.deepcopy(schema)

    def walk(n):
        if not isinstance(n, dict):
            return
        if "properties" in n and not n.get("x-kubernetes-preserve-unknown-fields") and "additionalProperties" not in n:
            n["additionalProperties"] = False
        for k in ("properties",):
            for v in (n.get(k) or {}).values():
                walk(v)
        for k in ("items", "additionalProperties"):
            if isinstance(n.get(k), dict):
                walk(n[k])
    walk(s)
    return s


def crd_schemas():
    crds = []
    for f in glob.glob(os.path.join(ROOT, "helm", "ferry", "crds", "*.yaml")):
        with open(f) as fh:
            crds += [d for d in yaml.safe_load_all(fh) if d]
    # The upstream CRDs (VolumeSnapshot, ReferenceGrant, ...) as the local control plane installs them.
    with open(os.path.join(ROOT, "Sources", "LocalCluster", "APIServer", "ClusterCRDs.swift")) as fh:
        swift = fh.read()
    raw = {}  # Swift multi-line literals: the closing delimiter's indentation is removed from every line.
    for m in re.finditer(r'static let (\w+) = """\n(.*?)\n([ ]*)"""', swift, re.S):
        indent = len(m.group(3))
        raw[m.group(1)] = "\n".join(line[indent:] for line in m.group(2).split("\n"))
    def swift_value(name):
        # Swift escapes: \(name) interpolates another literal (itself unescaped), \\ is one backslash.
        return re.sub(r"\\(\\|\((\w+)\))",
                      lambda i: "\\" if i.group(1) == "\\" else swift_value(i.group(2)), raw[name])
    for name in raw:
        text = swift_value(name)
        doc = yaml.safe_load(text)
        if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
            crds.append(doc)
    schemas = {}
    for crd in crds:
        spec = crd["spec"]
        for v in spec["versions"]:
            if v.get("served", True):
                schemas[(f"{spec['group']}/{v['name']}", spec["names"]["kind"])] = (
                    spec["scope"], strict(v["schema"]["openAPIV3Schema"]))
    assert ("ferry.io/v1alpha1", "DataSourceLink") in schemas and (
        "gateway.networking.k8s.io/v1beta1", "ReferenceGrant") in schemas, sorted(schemas)
    return schemas


SCHEMAS = None


def validate_object(obj):
    global SCHEMAS
    assert isinstance(obj, dict) and "apiVersion" in obj and "kind" in obj, \
        f"not a Kubernetes object (mark the block <!-- fragment --> if it is an excerpt): {obj!r:.200}"
    group = obj["apiVersion"].split("/")[0] if "/" in obj["apiVersion"] else ""
    if group in ("ferry.io", "snapshot.storage.k8s.io", "gateway.networking.k8s.io"):
        if SCHEMAS is None:
            SCHEMAS = crd_schemas()
        key = (obj["apiVersion"], obj["kind"])
        assert key in SCHEMAS, f"no CRD serves {key}"
        scope, schema = SCHEMAS[key]
        meta = obj.get("metadata") or {}
        assert meta.get("name"), "metadata.name missing"
        body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
        jsonschema.validate(body, {**schema, "properties": {
            k: v for k, v in schema.get("properties", {}).items() if k not in ("apiVersion", "kind", "metadata")}})
    else:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


@pytest.mark.parametrize("block,marker", yaml_blocks())
def test_every_yaml_block_in_docs_is_valid(block, marker):
    if marker == "<!-- fragment -->":
        pytest.skip("marked as a fragment")
    docs = [d for d in yaml.safe_load_all(block) if d is not None]
    assert docs, "empty yaml block"
    values = re.match(r"<!-- helm-values: ([\w-]+) -->", marker)
    if values:
        import json
        with open(os.path.join(ROOT, "helm", "ferry", "values.schema.json")) as fh:
            schema = json.load(fh)
        for d in docs:
            jsonschema.validate(d[values.group(1)], schema)
        return
    for d in docs:
        validate_object(d)
