"""The Helm chart, rendered, linted and validated with real tools (helm-python-sdk, kubernetes-validate).

Run: python3 -m pytest -q helm/tests   (make test runs it in the `chart` group).
Every rendered object is validated against the official OpenAPI schemas of each Kubernetes version in
SUPPORTED_VERSIONS (oldest and newest still maintained, and the ones between), strictly (unknown fields fail).
"""
import copy
import json
import os
import shutil
import tempfile

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHART = os.path.join(ROOT, "helm", "ferry")
EXAMPLE = os.path.join(ROOT, "helm", "examples", "example-csi-driver")
SUPPORTED_VERSIONS = ["1.33.0", "1.34.0", "1.35.0", "1.36.0", "1.37.0"]
# Kinds that are not built in: CRDs of other projects, validated only as YAML here.
FOREIGN_KINDS = {("monitoring.coreos.com/v1", "ServiceMonitor")}
GATE = "--feature-gates=CrossNamespaceVolumeDataSource=true"


def render(chart_dir, values=None, namespace="ferry-system", name="ferry"):
    with helm.Chart.load(chart_dir) as chart:
        out = chart.render(values=values or {}, name=name, namespace=namespace)
    objects = []
    for path, text in sorted(out.items()):
        if not path.endswith(".yaml"):
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                objects.append(doc)
    return objects


def crds(chart_dir):
    with helm.Chart.load(chart_dir) as chart:
        return [yaml.safe_load(c["data"]) for c in chart.crds]


@pytest.fixture(scope="module")
def example_chart():
    """The example driver chart with its `ferry` dependency built (helm dependency build) in a scratch copy."""
    scratch = tempfile.mkdtemp(prefix="ferry-chart-")
    shutil.copytree(os.path.join(ROOT, "helm"), os.path.join(scratch, "helm"))
    chart_dir = os.path.join(scratch, "helm", "examples", "example-csi-driver")
    helm.dependency_build(chart_dir)
    yield chart_dir
    shutil.rmtree(scratch, ignore_errors=True)


def kinds(objects):
    return [(o["kind"], o["metadata"]["name"]) for o in objects]


def containers(objects):
    for o in objects:
        if o["kind"] == "Deployment":
            yield from o["spec"]["template"]["spec"]["containers"]


def rules(objects, kind="ClusterRole"):
    return [r for o in objects if o["kind"] == kind for r in o.get("rules", [])]


VALUE_SETS = {
    "defaults": {},
    "cross-namespace on": {"enableSnapshotCrossNamespace": True},
    "two replicas": {"replicas": 2},
    "no leader election": {"leaderElection": {"enabled": False}},
    "no metrics": {"metrics": {"enabled": False}},
    "service monitor": {"metrics": {"serviceMonitor": {"enabled": True}}},
    "owner namespaces": {"kopia": {"ownerNamespaces": ["production", "backups"]}},
    "sidecar mode": {"mode": "sidecar", "serviceAccount": {"create": False, "name": "driver-sa"}},
}


def test_chart_lints_clean():
    result = helm.lint(CHART)
    assert result["errors"] == []
    assert [m for m in result["messages"] if m["severity"] > 1] == []


def test_example_driver_chart_lints_clean(example_chart):
    result = helm.lint(example_chart)
    assert result["errors"] == []
    assert [m for m in result["messages"] if m["severity"] > 1] == []


@pytest.mark.parametrize("label", sorted(VALUE_SETS))
@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_every_rendered_object_validates(label, version):
    for obj in render(CHART, VALUE_SETS[label]) + crds(CHART):
        if (obj["apiVersion"], obj["kind"]) in FOREIGN_KINDS:
            continue
        kubernetes_validate.validate(obj, version, strict=True)


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_example_driver_chart_objects_validate(example_chart, version):
    for obj in render(example_chart, {}):
        kubernetes_validate.validate(obj, version, strict=True)


def test_crds_are_ferrys_two_kinds_with_status_and_structural_schemas():
    found = {c["spec"]["names"]["kind"]: c for c in crds(CHART)}
    assert set(found) == {"DataSourceLink", "KopiaSnapshot"}
    for crd in found.values():
        assert crd["spec"]["group"] == "ferry.io"
        version = crd["spec"]["versions"][0]
        assert version["subresources"]["status"] == {}
        assert version["schema"]["openAPIV3Schema"]["type"] == "object"


def test_toggle_off_renders_no_gate_flag_and_no_referencegrant_rbac(example_chart):
    for objects in (render(CHART, {}), render(example_chart, {"ferry": {"enableSnapshotCrossNamespace": False}})):
        for c in containers(objects):
            assert GATE not in c.get("args", []), c["name"]
        assert not [r for r in rules(objects) if "referencegrants" in r["resources"]]


def test_toggle_on_flags_ferry_and_the_provisioner_and_grants_referencegrant_reads(example_chart):
    objects = render(example_chart, {})  # the example turns the toggle on
    by_name = {c["name"]: c for c in containers(objects)}
    assert GATE in by_name["ferry"]["args"]
    assert GATE in by_name["csi-provisioner"]["args"]
    assert "--csi-address=/csi/csi.sock" in by_name["ferry"]["args"]
    assert {"name": "socket-dir", "mountPath": "/csi"} in by_name["ferry"]["volumeMounts"]
    grant_rules = [r for r in rules(objects) if "referencegrants" in r["resources"]]
    assert grant_rules == [{"apiGroups": ["gateway.networking.k8s.io"], "resources": ["referencegrants"],
                            "verbs": ["get", "list", "watch"]}]
    standalone = render(CHART, {"enableSnapshotCrossNamespace": True})
    assert GATE in next(containers(standalone))["args"]


def test_sidecar_mode_renders_no_deployment_and_binds_rbac_to_the_drivers_service_account():
    objects = render(CHART, VALUE_SETS["sidecar mode"])
    assert "Deployment" not in [k for k, _ in kinds(objects)]
    assert "ServiceAccount" not in [k for k, _ in kinds(objects)]
    binding = next(o for o in objects if o["kind"] == "ClusterRoleBinding")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "driver-sa", "namespace": "ferry-system"}]


def test_standalone_has_probes_metrics_and_a_restricted_security_context():
    c = next(containers(render(CHART, {})))
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert "--http-endpoint=:8080" in c["args"]
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert "--csi-address" not in " ".join(c["args"])


def test_populator_resources_reach_the_controller_as_one_json_flag():
    def flag(values):
        args = next(containers(render(CHART, values)))["args"]
        found = [a.split("=", 1)[1] for a in args if a.startswith("--populator-resources=")]
        return json.loads(found[0]) if found else None
    # The defaults (values.yaml says where the numbers come from: issue 16's restore RSS measurements).
    assert flag({}) == {"requests": {"cpu": "250m", "memory": "128Mi"}, "limits": {"memory": "192Mi"}}
    assert flag({"populator": {"resources": {"limits": {"memory": "1Gi"}}}}) == \
        {"requests": {"cpu": "250m", "memory": "128Mi"}, "limits": {"memory": "1Gi"}}


def test_repository_cache_values_reach_the_controller_as_its_flags():
    def flags(values):
        args = next(containers(render(CHART, values)))["args"]
        return {a.split("=", 1)[0]: a.split("=", 1)[1] for a in args if a.startswith("--kopia-")}
    # The defaults: the binary's, except the index budget, bounded for the chart's 256Mi memory limit (values.yaml).
    assert flags({}) == {
        "--kopia-repository-cache-size": "32",
        "--kopia-repository-cache-max-index-entries": "2000000",
        "--kopia-repository-idle-timeout": "10m",
        "--kopia-index-refresh-interval": "15s",
        "--kopia-wrong-password-retry-interval": "2m",
    }
    # Large counts render as integers (Helm reads numbers as floats: no 1e+08), durations as given.
    assert flags({"kopia": {"repositoryCacheSize": 4, "repositoryCacheMaxIndexEntries": 100000000,
                            "repositoryIdleTimeout": "1h", "indexRefreshInterval": "1m30s",
                            "wrongPasswordRetryInterval": "0"}}) == {
        "--kopia-repository-cache-size": "4",
        "--kopia-repository-cache-max-index-entries": "100000000",
        "--kopia-repository-idle-timeout": "1h",
        "--kopia-index-refresh-interval": "1m30s",
        "--kopia-wrong-password-retry-interval": "0",
    }


def test_pdb_only_with_more_than_one_replica():
    assert "PodDisruptionBudget" not in [k for k, _ in kinds(render(CHART, {}))]
    assert "PodDisruptionBudget" in [k for k, _ in kinds(render(CHART, {"replicas": 2}))]


def test_secrets_are_readable_cluster_wide_only_without_owner_namespaces():
    broad = [r for r in rules(render(CHART, {})) if "secrets" in r["resources"]]
    assert any("get" in r["verbs"] for r in broad)
    assert all("list" not in r["verbs"] and "watch" not in r["verbs"] for r in broad)
    confined = render(CHART, VALUE_SETS["owner namespaces"])
    assert not [r for r in rules(confined) if "secrets" in r["resources"]]
    role_namespaces = sorted(o["metadata"]["namespace"] for o in confined
                             if o["kind"] == "Role" and o["metadata"]["name"].endswith("-populate"))
    assert role_namespaces == ["backups", "ferry-system", "production"]


BAD_VALUES = [
    ({"mode": "daemonset"}, "mode"),
    ({"replicas": 0}, "replicas"),
    ({"controller": {"timeout": "5 minutes"}}, "timeout"),
    ({"enableSnapshotCrossNamespace": "yes"}, "enableSnapshotCrossNamespace"),
    ({"kopia": {"ownerNamespaces": ["Production"]}}, "ownerNamespaces"),
    ({"enableSnapshotCrossNamspace": True}, "enableSnapshotCrossNamspace"),
    ({"metrics": {"port": 70000}}, "port"),
    ({"kopia": {"repositoryCacheSize": 0}}, "repositoryCacheSize"),
    ({"kopia": {"repositoryCacheMaxIndexEntries": "lots"}}, "repositoryCacheMaxIndexEntries"),
    ({"kopia": {"indexRefreshInterval": "15 seconds"}}, "indexRefreshInterval"),
    ({"kopia": {"repositoryIdleTimeout": 600}}, "repositoryIdleTimeout"),
    ({"kopia": {"wrongPasswordRetryInterval": "-1s"}}, "wrongPasswordRetryInterval"),
]


@pytest.mark.parametrize("values,field", BAD_VALUES, ids=[f for _, f in BAD_VALUES])
def test_schema_rejects_bad_values_naming_the_field(values, field):
    with pytest.raises(helm.HelmError) as info:
        render(CHART, values)
    assert field in str(info.value)


def test_more_replicas_without_leader_election_fails_with_a_reason():
    with pytest.raises(helm.HelmError) as info:
        render(CHART, {"replicas": 2, "leaderElection": {"enabled": False}})
    assert "leaderElection.enabled=true" in str(info.value)
