#!/usr/bin/env python3
"""Generates docs/reference.md: the `ferry` commands and flags, the exit codes, the CRDs' fields and the metrics.

Sources (nothing is written by hand):
  - commands, flags, exit codes: `ferry --help` and `ferry <subcommand…> --help` of the built binary
    (default .build/debug/ferry; override with FERRY_BIN or --ferry), every subcommand recursively;
  - CRD fields: the openAPIV3Schema of every served version in helm/ferry/crds/*.yaml;
  - metrics: the names Sources/FerryControllers and Sources/ferry pass to ControllerMetrics
    (`increment/observe/set("name", …)`) plus the HELP texts declared in ControllerMetrics.swift (read from source,
    not scraped from a running controller).

Usage:  scripts/gen-reference.py            write docs/reference.md
        scripts/gen-reference.py --check    exit 1 (and print a diff) when docs/reference.md is stale
"""
import difflib
import glob
import os
import re
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "docs", "reference.md")


# ---------------------------------------------------------------- commands

def run_help(ferry, path):
    env = dict(os.environ, COLUMNS="100", TERM="dumb")
    p = subprocess.run([ferry, *path, "--help"], capture_output=True, text=True, env=env, timeout=60)
    text = p.stdout if p.stdout.strip() else p.stderr
    if p.returncode != 0 or not text.strip():
        raise SystemExit(f"`{' '.join(['ferry', *path, '--help'])}` failed ({p.returncode}): {p.stderr.strip()}")
    return text.rstrip() + "\n"


def subcommands(help_text):
    """Names listed under SUBCOMMANDS: (two-space indent, name first), excluding `help`."""
    names, inside = [], False
    for line in help_text.splitlines():
        if line.startswith("SUBCOMMANDS:"):
            inside = True
            continue
        if inside:
            if line and not line.startswith(" "):
                break
            m = re.match(r"^  ([a-z][a-z0-9-]*)(\s|$)", line)
            if m and m.group(1) != "help":
                names.append(m.group(1))
    return names


def exit_code_section(help_text):
    lines, inside = [], False
    for line in help_text.splitlines():
        if line.startswith("EXIT CODES:"):
            inside = True
            continue
        if inside:
            if line and not line.startswith(" ") and not line[0].isalnum():
                break
            if line.startswith("USAGE:") or line.startswith("OPTIONS:"):
                break
            lines.append(line)
    codes, current = [], None
    for line in lines:
        m = re.match(r"^\s+(\d+)\s+(.*)$", line)
        if m:
            current = [m.group(1), m.group(2).strip()]
            codes.append(current)
        elif line.strip() and current:
            current[1] += " " + line.strip()
    return codes


def commands_section(ferry):
    top = run_help(ferry, [])
    out = ["## Exit codes", "", "From `ferry --help` (Sources/ferry/ExitCodes.swift).", "", "| code | meaning |", "|---|---|"]
    for code, meaning in exit_code_section(top):
        out.append(f"| {code} | {cell(meaning)} |")
    out += ["", "## Commands", "",
            "Every subcommand's `--help`, recursively (`ferry help <subcommand>` prints the same).", ""]
    queue = [[name] for name in subcommands(top)]
    seen = []
    while queue:
        path = queue.pop(0)
        text = run_help(ferry, path)
        seen.append(path)
        out += [f"### `ferry {' '.join(path)}`", "", "```text", text.rstrip(), "```", ""]
        queue = [path + [n] for n in subcommands(text)] + queue
    return out


# ---------------------------------------------------------------- CRDs

def flatten(schema, path, rows, required=()):
    t = schema.get("type", "")
    if "x-kubernetes-int-or-string" in schema:
        t = "int-or-string"
    if t == "array":
        items = schema.get("items", {})
        t = f"[]{items.get('type', 'object')}"
    desc = " ".join((schema.get("description") or "").split())
    extra = []
    if "enum" in schema:
        extra.append("one of " + ", ".join(f"`{v}`" for v in schema["enum"]))
    if "default" in schema:
        extra.append(f"default `{schema['default']}`")
    for k, label in (("minimum", "min"), ("maximum", "max"), ("pattern", "pattern"), ("format", "format"),
                     ("maxLength", "max length"), ("minLength", "min length")):
        if k in schema:
            extra.append(f"{label} `{schema[k]}`")
    if path:
        name = path.split(".")[-1].rstrip("[]")
        req = "yes" if name in required else ""
        rows.append((path, t, req, desc, "; ".join(extra)))
    if schema.get("type") == "object" or "properties" in schema:
        req = schema.get("required", [])
        for k in sorted(schema.get("properties", {})):
            flatten(schema["properties"][k], f"{path}.{k}" if path else k, rows, req)
    if schema.get("type") == "array" and "properties" in schema.get("items", {}):
        items = schema["items"]
        for k in sorted(items.get("properties", {})):
            flatten(items["properties"][k], f"{path}[].{k}", rows, items.get("required", []))


def cell(s):
    return s.replace("|", "\\|").replace("\n", " ")


def crds_section():
    out = ["## Custom resources", "",
           "From the `openAPIV3Schema` of `helm/ferry/crds/*.yaml` (`metadata`, `apiVersion` and `kind` omitted).", ""]
    for f in sorted(glob.glob(os.path.join(ROOT, "helm", "ferry", "crds", "*.yaml"))):
        with open(f) as fh:
            for crd in yaml.safe_load_all(fh):
                if not crd or crd.get("kind") != "CustomResourceDefinition":
                    continue
                spec = crd["spec"]
                kind = spec["names"]["kind"]
                for v in spec["versions"]:
                    if not v.get("served", True):
                        continue
                    out += [f"### {kind} (`{spec['group']}/{v['name']}`)", "",
                            f"Scope: {spec['scope']}; plural `{spec['names']['plural']}`"
                            + (f"; short names {', '.join('`' + s + '`' for s in spec['names'].get('shortNames', []))}"
                               if spec["names"].get("shortNames") else "")
                            + f"; file `helm/ferry/crds/{os.path.basename(f)}`.", ""]
                    schema = v["schema"]["openAPIV3Schema"]
                    top = " ".join((schema.get("description") or "").split())
                    if top:
                        out += [top, ""]
                    rows = []
                    props = schema.get("properties", {})
                    for k in ("spec", "status"):
                        if k in props:
                            flatten(props[k], k, rows, schema.get("required", []))
                    out += ["| field | type | required | description | constraints |", "|---|---|---|---|---|"]
                    for path, t, req, desc, extra in rows:
                        out.append(f"| `{path}` | {cell(t)} | {req} | {cell(desc)} | {cell(extra)} |")
                    rules = []
                    def collect(s, p):
                        for r in s.get("x-kubernetes-validations", []) or []:
                            rules.append((p or "(root)", r.get("message") or r.get("rule")))
                        for k2, sub in (s.get("properties") or {}).items():
                            collect(sub, f"{p}.{k2}" if p else k2)
                    collect(schema, "")
                    if rules:
                        out += ["", "Validation rules (CEL) the API server applies:", ""]
                        out += [f"- `{p}`: {cell(m)}" for p, m in rules]
                    cols = v.get("additionalPrinterColumns") or []
                    if cols:
                        out += ["", "`kubectl get` columns: " + ", ".join(
                            f"{c['name']} (`{c['jsonPath']}`{', wide' if c.get('priority', 0) > 0 else ''})" for c in cols) + "."]
                    out.append("")
    return out


# ---------------------------------------------------------------- metrics

def metrics_section():
    sources = sorted(glob.glob(os.path.join(ROOT, "Sources", "FerryControllers", "**", "*.swift"), recursive=True)
                     + glob.glob(os.path.join(ROOT, "Sources", "ferry", "**", "*.swift"), recursive=True))
    used = {}
    call = re.compile(r'\.(increment|observe|set|add)\(\s*"([a-z_][a-z0-9_]*)"\s*(?:,\s*\[([^\]]*)\])?')
    for f in sources:
        with open(f) as fh:
            text = fh.read()
        for m in call.finditer(text):
            kind = {"increment": "counter", "observe": "histogram", "set": "gauge", "add": "gauge"}[m.group(1)]
            labels = re.findall(r'"([a-z_]+)"\s*:', m.group(3) or "")
            entry = used.setdefault(m.group(2), {"kind": kind, "labels": set(), "files": set()})
            entry["labels"].update(labels)
            entry["files"].add(os.path.relpath(f, ROOT))
    helps = {}
    metrics_file = os.path.join(ROOT, "Sources", "FerryControllers", "Operations", "ControllerMetrics.swift")
    if os.path.exists(metrics_file):
        with open(metrics_file) as fh:
            mt = fh.read()
        for m in re.finditer(r'"([a-z_][a-z0-9_]*)"\s*:\s*\(\s*"(\w+)"\s*,\s*"([^"]+)"\s*\)', mt):
            helps[m.group(1)] = (m.group(2), m.group(3))
    for name, (kind, _) in helps.items():
        used.setdefault(name, {"kind": kind, "labels": set(), "files": set()})["kind"] = kind
    out = ["## Metrics", "",
           "Served by `ferry controller` at `/metrics` on `--http-endpoint` (Prometheus text format). This list is read "
           "from the source (every name passed to `ControllerMetrics.increment/observe/set/add` in Sources/FerryControllers "
           "and Sources/ferry, with the HELP text ControllerMetrics.swift declares), not scraped from a running "
           "controller. Histograms also expose `_bucket`, `_sum` and `_count`.", "",
           "| metric | type | labels | help | set in |", "|---|---|---|---|---|"]
    for name in sorted(used):
        e = used[name]
        out.append(f"| `{name}` | {e['kind']} | {', '.join(f'`{l}`' for l in sorted(e['labels']))} | "
                   f"{cell(helps.get(name, ('', ''))[1])} | {', '.join(sorted(e['files'])) or '(declared only)'} |")
    out.append("")
    return out


def generate(ferry):
    lines = ["# Reference", "",
             "<!-- GENERATED by scripts/gen-reference.py — do not edit; run `python3 scripts/gen-reference.py`. -->", "",
             "Contents: [exit codes](#exit-codes), [commands](#commands), [custom resources](#custom-resources), "
             "[metrics](#metrics).", ""]
    lines += commands_section(ferry)
    lines += crds_section()
    lines += metrics_section()
    return "\n".join(lines).rstrip() + "\n"


def main(argv):
    check = "--check" in argv
    ferry = os.environ.get("FERRY_BIN") or os.path.join(ROOT, ".build", "debug", "ferry")
    if "--ferry" in argv:
        ferry = argv[argv.index("--ferry") + 1]
    if not os.access(ferry, os.X_OK):
        print(f"gen-reference: no ferry binary at {ferry}; build it (swift build) or set FERRY_BIN", file=sys.stderr)
        return 2
    text = generate(ferry)
    if check:
        old = open(OUT).read() if os.path.exists(OUT) else ""
        if old != text:
            sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), text.splitlines(True),
                                                       "docs/reference.md", "generated"))
            print("docs/reference.md is stale: run python3 scripts/gen-reference.py", file=sys.stderr)
            return 1
        return 0
    with open(OUT, "w") as fh:
        fh.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
