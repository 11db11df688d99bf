"""A new user's walk through the docs, run as written: install.md "Trying it on the local control plane", then all of
cross-namespace-snapshot.md and kopia-local.md, on a fresh local control plane.

The pages' blocks become one bash script, in page order: a ```sh block runs as it is (under `set -euo pipefail`, so
a failing command or a `kubectl wait` that times out fails the test); a ```yaml block is what the reader applies, so it
runs as `kubectl apply -f -` of exactly that text. Skipped: ```text blocks (shown output), blocks marked
`<!-- fragment -->` and blocks marked `<!-- docs-walk: skip … -->` (the build commands: the test runs on the build it
was started with, FERRY_BIN_DIR or .build/debug).

The only changes to the pages' text: /tmp/ferry-local, /tmp/ferry-local.log and /tmp/ferry.log become files of a
scratch directory and port 8080 a free port (so the test can run beside others). `helm` is what the page's own first
helm line makes it: the helm CLI if installed, else scripts/helm.py. The commands run in a scratch directory with a
copy of helm/ (`helm dependency build` writes into the chart) and scripts/ linked. After the walk the test checks what the pages promise: the claims are
Bound, the restored volumes hold production's file, the link's conditions, the PV's annotations.
Run: python3 -m pytest -q helm/tests/test_docs_walk.py  (after `swift build`).
"""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCS = os.path.join(ROOT, "docs")
BIN = os.environ.get("FERRY_BIN_DIR") or os.path.join(ROOT, ".build", "debug")
FENCE = re.compile(r"^```(\w*)[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
WALK = [("install.md", "## Trying it on the local control plane"), ("cross-namespace-snapshot.md", None),
        ("kopia-local.md", None)]


def blocks(page, section):
    with open(os.path.join(DOCS, page)) as fh:
        text = fh.read()
    start, end = 0, len(text)
    if section:
        start = text.index(section)
        end = text.find("\n## ", start + len(section))
        end = end if end >= 0 else len(text)
    out = []
    for m in FENCE.finditer(text, start, end):
        before = text[:m.start()].rstrip().splitlines()
        marker = before[-1].strip() if before else ""
        line = text[:m.start()].count("\n") + 1
        out.append((m.group(1), m.group(2), marker, f"{page}:{line}"))
    return out


def walk_script(scratch, port):
    parts = []
    for page, section in WALK:
        for lang, body, marker, where in blocks(page, section):
            if marker == "<!-- fragment -->" or marker.startswith("<!-- docs-walk: skip"):
                continue
            if lang == "sh":
                parts.append(f"echo '### {where}' >&2\n{body}")
            elif lang == "yaml":
                assert "FERRYDOC" not in body
                parts.append(f"echo '### {where} (kubectl apply)' >&2\nkubectl apply -f - <<'FERRYDOC'\n{body}FERRYDOC")
            else:
                assert lang == "text", f"{where}: a ```{lang} block the walk does not know how to run"
    script = "\n".join(parts)
    for old, new in [("/tmp/ferry-local.log", f"{scratch}/cluster.log"), ("/tmp/ferry-local", f"{scratch}/cluster"),
                     ("/tmp/ferry.log", f"{scratch}/ferry.log"), ("127.0.0.1:8080", f"127.0.0.1:{port}")]:
        script = script.replace(old, new)
    return script


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_walk_covers_every_command_block_of_the_two_pages():
    # Nothing runnable is silently left out: every sh/yaml block of the walked parts is run or explicitly marked.
    kinds = [(lang, marker) for page, section in WALK for lang, _, marker, _ in blocks(page, section)]
    assert sum(1 for lang, _ in kinds if lang == "sh") >= 9, kinds
    assert sum(1 for lang, _ in kinds if lang == "yaml") >= 6, kinds
    skipped = [m for lang, m in kinds if lang in ("sh", "yaml") and m.startswith("<!-- docs-walk: skip")]
    assert len(skipped) == 1, skipped  # only the build commands


def test_every_command_block_in_the_docs_is_walked_or_names_the_test_that_runs_it():
    # A ```sh block outside the walk must be preceded by `<!-- exercised: PATH … -->` naming an existing test or
    # script that runs its commands (what it covers, and what not, is said in the marker).
    walked = {(page, line) for page, section in WALK for _, _, _, where in blocks(page, section)
              for line in [where.split(":")[1]]}
    problems = []
    for path in sorted(os.listdir(DOCS)):
        if not path.endswith(".md"):
            continue
        for lang, _, marker, where in blocks(path, None):
            if lang != "sh" or (path, where.split(":")[1]) in walked:
                continue
            m = re.match(r"<!-- exercised: (\S+)", marker)
            if not m:
                problems.append(f"{where}: not walked and no <!-- exercised: PATH … --> marker")
            elif not os.path.exists(os.path.join(ROOT, m.group(1))):
                problems.append(f"{where}: {m.group(1)} does not exist")
    assert not problems, "\n".join(problems)


@pytest.fixture
def scratch():
    d = tempfile.mkdtemp(prefix="ferry-docs-walk-")
    shutil.copytree(os.path.join(ROOT, "helm"), os.path.join(d, "helm"))
    os.symlink(os.path.join(ROOT, "scripts"), os.path.join(d, "scripts"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_a_new_user_installs_ferry_and_restores_across_namespaces_from_the_docs_alone(scratch):
    for exe in ("ferry", "ferry-localcluster"):
        assert os.access(os.path.join(BIN, exe), os.X_OK), f"no {exe} in {BIN}: run `swift build` first"
    port = free_port()
    prelude = f"""set -euo pipefail
export PATH="{BIN}:$PATH"
export KUBECACHEDIR="{scratch}/kubecache"
unset KUBECONFIG
stop() {{
  for p in $(jobs -p); do kill -TERM "$p" 2>/dev/null || true; done
  for p in $(jobs -p); do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}}
trap stop EXIT
"""
    checks = """
echo '### checks of the test' >&2
kubectl get pvc -n staging -o json > "$CHECKS/pvcs.json"
kubectl get datasourcelink webapp-nightly -n staging -o json > "$CHECKS/link.json"
kubectl get pv -o json > "$CHECKS/pvs.json"
# Ferry ran as the chart's ServiceAccount, and RBAC was enforced: what the chart does not grant is refused.
sa="$KUBE_DIR/ferry.kubeconfig"
kubectl auth can-i update datasourcelinks.ferry.io --subresource=status -n staging --kubeconfig "$sa" -q
# (`!` alone never trips `set -e`: each negative check exits itself)
! kubectl auth can-i delete persistentvolumes --kubeconfig "$sa" -q || exit 91
! kubectl auth can-i update datasourcelinks.ferry.io -n staging --kubeconfig "$sa" -q || exit 92
kubectl auth can-i delete persistentvolumes -q   # the admin may
! kubectl get secrets -n production --kubeconfig "$sa" 2> "$CHECKS/forbidden.txt" || exit 93
for claim in webapp-data webapp-data-native webapp-data-clone webapp-restored; do
  handle=$(kubectl get pv "$(kubectl get pvc "$claim" -n staging -o jsonpath='{.spec.volumeName}')" -o jsonpath='{.spec.csi.volumeHandle}')
  cat "$KUBE_DIR/volumes/$handle/db/stats.txt" > "$CHECKS/$claim.stats"
done
kubectl get secrets -A -o json > "$CHECKS/secrets.json"
kubectl get kopiasnapshot webapp-backup -n production -o json > "$CHECKS/kopiasnapshot.json"
"""
    checks_dir = os.path.join(scratch, "checks")
    os.makedirs(checks_dir)
    script = prelude + walk_script(scratch, port) + checks
    with open(os.path.join(scratch, "walk.sh"), "w") as fh:
        fh.write(script)
    env = {**os.environ, "CHECKS": checks_dir, "KUBE_DIR": os.path.join(scratch, "cluster")}
    p = subprocess.run(["bash", os.path.join(scratch, "walk.sh")], cwd=scratch, env=env,
                       capture_output=True, text=True, timeout=600)
    logs = ""
    for name in ("cluster.log", "ferry.log"):
        path = os.path.join(scratch, name)
        if os.path.exists(path):
            with open(path) as fh:
                logs += f"\n--- {name} (tail)\n" + "".join(fh.readlines()[-30:])
    assert p.returncode == 0, f"the walk failed (exit {p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-5000:]}{logs}"

    with open(os.path.join(checks_dir, "forbidden.txt")) as fh:
        assert "forbidden" in fh.read().lower()
    with open(os.path.join(scratch, "ferry.log")) as fh:
        log = fh.read()
    assert "forbidden" not in log.lower(), "Ferry was refused something the chart should grant:\n" + log[-3000:]

    # What the pages promise.
    out = p.stdout
    assert "all checks passed" in out, out[-3000:]                      # ferry kube check
    assert "TEST SUITE: every test hook of the release succeeded" in out  # helm test
    assert "referencegrants" in out                                     # the chart's ReferenceGrant RBAC
    with open(os.path.join(checks_dir, "pvcs.json")) as fh:
        claims = {c["metadata"]["name"]: c for c in json.load(fh)["items"]}
    assert {n: c["status"]["phase"] for n, c in claims.items()} == {
        "webapp-data": "Bound", "webapp-data-native": "Bound", "webapp-data-clone": "Bound", "webapp-restored": "Bound"}
    # kopia-local.md: the password stays in production; the populator's objects are gone.
    with open(os.path.join(checks_dir, "secrets.json")) as fh:
        holders = {s["metadata"]["namespace"] for s in json.load(fh)["items"] if "KOPIA_PASSWORD" in (s.get("data") or {})}
    assert holders == {"production"}, holders
    for name in claims:
        with open(os.path.join(checks_dir, f"{name}.stats")) as fh:
            assert fh.read() == "orders: 1042\n", name
    with open(os.path.join(checks_dir, "link.json")) as fh:
        conditions = {c["type"]: c for c in json.load(fh)["status"]["conditions"]}
    assert conditions["Granted"]["status"] == "True" and conditions["Ready"]["status"] == "True", conditions
    with open(os.path.join(checks_dir, "pvs.json")) as fh:
        pvs = {pv["spec"]["claimRef"]["name"]: pv for pv in json.load(fh)["items"]
               if pv["spec"].get("claimRef", {}).get("namespace") == "staging"}
    annotations = pvs["webapp-data"]["metadata"]["annotations"]
    assert annotations["ferry.io/source-namespace"] == "production", annotations
    assert annotations["ferry.io/source-name"] == "webapp-nightly" and annotations["ferry.io/link"] == "webapp-nightly"
    assert annotations["ferry.io/grant"] == "production/staging-may-restore", annotations
    # The denial the page shows before the grant, as the event on the claim (stderr of describe is not kept, so read
    # the events the cluster stored).
    assert "ReferenceGrantMissing" in p.stdout or "isn't allowed" in p.stdout, p.stdout[-3000:]
