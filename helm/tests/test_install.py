"""`helm install` / `upgrade` / `uninstall` of the chart, through helm-python-sdk, into Ferry's local control plane.

After the install the CRDs serve, the RBAC is what the toggle says, `ferry kube check` passes against the cluster,
and `ferry controller`, started as a local process with the Deployment's own arguments, becomes ready.
Run: python3 -m pytest -q helm/tests/test_install.py  (needs `swift build`: .build/debug/ferry and
ferry-localcluster; override with FERRY_BINARY / FERRY_LOCALCLUSTER).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

import helm_python as helm
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHART = os.path.join(ROOT, "helm", "ferry")
BIN = os.path.join(ROOT, ".build", "debug")
FERRY = os.environ.get("FERRY_BINARY", os.path.join(BIN, "ferry"))
LOCALCLUSTER = os.environ.get("FERRY_LOCALCLUSTER", os.path.join(BIN, "ferry-localcluster"))
NAMESPACE = "ferry-system"


@pytest.fixture(scope="module")
def cluster():
    directory = tempfile.mkdtemp(prefix="ferry-helm-")
    # The chart's image runs as the local `ferry` binary (the kubelet's image table), so `helm test` can run its pod.
    process = subprocess.Popen([LOCALCLUSTER, "up", "--dir", directory,
                                "--feature-gates", "CrossNamespaceVolumeDataSource=true",
                                "--image", f"ghcr.io/ferry-csi/ferry={os.path.abspath(FERRY)}"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 120
    lines = []
    while time.time() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.strip() == "ready":
            break
    else:
        process.kill()
        pytest.fail("ferry-localcluster did not print ready:\n" + "".join(lines))
    assert lines and lines[-1].strip() == "ready", "".join(lines)
    kubeconfig = os.path.join(directory, "kubeconfig")
    yield kubeconfig
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
    shutil.rmtree(directory, ignore_errors=True)


def kubectl(kubeconfig, *args, check=True):
    result = subprocess.run(["kubectl", "--kubeconfig", kubeconfig, *args], capture_output=True, text=True)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def get_json(kubeconfig, *args):
    return json.loads(kubectl(kubeconfig, "get", *args, "-o", "json").stdout)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def service_account_kubeconfig(kubeconfig, account):
    """A copy of the admin kubeconfig whose user is a token of ServiceAccount `account` (kubectl create token)."""
    path = os.path.join(os.path.dirname(kubeconfig), f"{account}.kubeconfig")
    with open(path, "w") as fh:
        fh.write(kubectl(kubeconfig, "config", "view", "--raw", "--minify").stdout)
    token = kubectl(kubeconfig, "create", "token", account, "--namespace", NAMESPACE).stdout.strip()
    kubectl(path, "config", "set-credentials", "sa", f"--token={token}")
    kubectl(path, "config", "set-context", "--current", "--user=sa")
    return path


def grant_rules(kubeconfig):
    role = get_json(kubeconfig, "clusterrole", "ferry")
    return [r for r in role["rules"] if "referencegrants" in r.get("resources", [])]


def test_install_upgrade_uninstall_through_the_sdk(cluster):
    # Release records are Secrets, as with the helm CLI (its typed client sends protobuf Secret and DeleteOptions
    # bodies, which the local API server decodes).
    with helm.Config(kubeconfig_path=cluster, namespace=NAMESPACE, storage_driver="secret") as config:
        release = config.install(CHART, "ferry", {"enableSnapshotCrossNamespace": True},
                                 namespace=NAMESPACE, create_namespace=True, timeout=120)
        assert release["status"] == "deployed"
        assert "sh.helm.release.v1.ferry.v1" in kubectl(cluster, "get", "secrets", "-n", NAMESPACE, "-o", "name").stdout

        # The CRDs serve: their kinds appear in discovery and accept objects.
        resources = kubectl(cluster, "api-resources", "--api-group=ferry.io", "-o", "name").stdout.split()
        assert sorted(resources) == ["datasourcelinks.ferry.io", "kopiasnapshots.ferry.io"]
        kubectl(cluster, "get", "datasourcelinks,kopiasnapshots", "-A")
        assert grant_rules(cluster) == [{"apiGroups": ["gateway.networking.k8s.io"],
                                         "resources": ["referencegrants"], "verbs": ["get", "list", "watch"]}]

        # ferry kube check passes against the cluster the chart was installed into, as the chart's ServiceAccount
        # (a TokenRequest token; the local API server authorizes it with RBAC: exactly the chart's bindings).
        sa_kubeconfig = service_account_kubeconfig(cluster, "ferry")
        check = subprocess.run([FERRY, "kube", "check", "--kubeconfig", sa_kubeconfig, "--namespace", NAMESPACE],
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        assert "update ferry.io/datasourcelinks/status: yes" in check.stdout, check.stdout

        # `helm test`: its pod runs `ferry kube check` in the cluster (the kubelet mounts the ServiceAccount's
        # token) and succeeds (its failure without the ClusterRoleBinding is checked before the uninstall).
        config.test("ferry", timeout=120)
        pod = get_json(cluster, "pod", "ferry-kube-check", "-n", NAMESPACE)
        assert pod["status"]["phase"] == "Succeeded", pod["status"]

        # The controller runs with the Deployment's own arguments (as a local process: the local cluster has no
        # Deployment controller) and becomes ready.
        deployment = get_json(cluster, "deployment", "ferry", "-n", NAMESPACE)
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        port = free_port()
        args = [a if not a.startswith("--http-endpoint=") else f"--http-endpoint=127.0.0.1:{port}"
                for a in container["args"]]
        controller = subprocess.Popen([FERRY, *args, "--kubeconfig", sa_kubeconfig],
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            ready, deadline = False, time.time() + 60
            while time.time() < deadline and controller.poll() is None:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                        ready = response.status == 200
                except OSError:
                    pass
                if ready:
                    break
                time.sleep(0.3)
            if not ready:
                controller.kill()
                pytest.fail(f"controller exited {controller.poll()} or never became ready:\n" + controller.stdout.read())
        finally:
            controller.send_signal(signal.SIGTERM)
            try:
                controller.wait(timeout=30)
            except subprocess.TimeoutExpired:
                controller.kill()
        output = controller.stdout.read()
        assert controller.returncode == 0, output

        # Upgrade with the toggle off: no gate flag, no ReferenceGrant RBAC.
        config.upgrade(CHART, "ferry", {"enableSnapshotCrossNamespace": False}, namespace=NAMESPACE, timeout=120)
        assert grant_rules(cluster) == []
        deployment = get_json(cluster, "deployment", "ferry", "-n", NAMESPACE)
        assert "--feature-gates=CrossNamespaceVolumeDataSource=true" not in \
            deployment["spec"]["template"]["spec"]["containers"][0]["args"]

        # `helm test` fails when the ServiceAccount lacks what Ferry needs (RBAC enforced): one line per problem.
        kubectl(cluster, "delete", "clusterrolebinding", "ferry")
        with pytest.raises(helm.HelmError):
            config.test("ferry", timeout=120)
        pod = get_json(cluster, "pod", "ferry-kube-check", "-n", NAMESPACE)
        assert pod["status"]["phase"] == "Failed", pod["status"]
        message = pod["status"]["containerStatuses"][0]["state"]["terminated"].get("message", "")
        # The termination message is the end of the output (FallbackToLogsOnError: its last 2048 bytes).
        assert "create core/events: NO" in message and "check(s) failed" in message, message

        # Uninstall removes what the release created; the CRDs stay (Helm never deletes crds/).
        config.uninstall("ferry", timeout=120)
        assert kubectl(cluster, "get", "deployment", "ferry", "-n", NAMESPACE, check=False).returncode != 0
        assert kubectl(cluster, "get", "clusterrole", "ferry", check=False).returncode != 0
        kubectl(cluster, "get", "crd", "datasourcelinks.ferry.io", "kopiasnapshots.ferry.io")
        assert "sh.helm.release" not in kubectl(cluster, "get", "secrets", "-n", NAMESPACE, "-o", "name").stdout
