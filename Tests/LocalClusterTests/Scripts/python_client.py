"""The official Kubernetes Python client against the local API server (driven by PythonClientTests.swift).

Modes:
  watch NS      list PVCs in NS, create one, watch from the list's resourceVersion until its ADDED arrives;
                prints JSON {"listed": rv, "seen": [...]}.
  relist NS RV  watch from RV (compacted by the caller); expects 410 Gone, then relists (list + watch from the new
                list's resourceVersion) and prints JSON {"gone": true, "names": [...], "relist_rv": rv}.
"""
import json
import sys

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException


def pvc(name):
    return client.V1PersistentVolumeClaim(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PersistentVolumeClaimSpec(
            access_modes=["ReadWriteOnce"],
            resources=client.V1VolumeResourceRequirements(requests={"storage": "1Gi"})))


def main():
    config.load_kube_config()
    core = client.CoreV1Api()
    mode, ns = sys.argv[1], sys.argv[2]
    if mode == "watch":
        listed = core.list_namespaced_persistent_volume_claim(ns)
        rv = listed.metadata.resource_version
        core.create_namespaced_persistent_volume_claim(ns, pvc("from-python"))
        seen = []
        w = watch.Watch()
        for event in w.stream(core.list_namespaced_persistent_volume_claim, ns, resource_version=rv, timeout_seconds=10):
            seen.append([event["type"], event["object"].metadata.name, event["object"].metadata.resource_version])
            if event["object"].metadata.name == "from-python":
                w.stop()
        print(json.dumps({"listed": rv, "before": [i.metadata.name for i in listed.items], "seen": seen}))
    elif mode == "relist":
        old_rv = sys.argv[3]
        gone = False
        w = watch.Watch()
        try:
            for _ in w.stream(core.list_namespaced_persistent_volume_claim, ns, resource_version=old_rv, timeout_seconds=10):
                pass
        except ApiException as e:
            gone = e.status == 410
        relisted = core.list_namespaced_persistent_volume_claim(ns)
        new_rv = relisted.metadata.resource_version
        # The relist's version is current: watching from it must not be gone (ends by timeout without error).
        for _ in watch.Watch().stream(core.list_namespaced_persistent_volume_claim, ns, resource_version=new_rv,
                                      timeout_seconds=1):
            pass
        print(json.dumps({"gone": gone, "names": sorted(i.metadata.name for i in relisted.items), "relist_rv": new_rv}))


if __name__ == "__main__":
    main()
