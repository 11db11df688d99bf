import E2ETestSupport
import Foundation
import Kube
import LocalCluster
import Testing

/// Issue 11's Done-when scenarios with no Ferry controller: kubectl against a whole local cluster (API server and
/// every default component), the pod's command running as a process, data landing in the driver's directories.
@Suite(.serialized) struct EndToEndTests {
    /// A whole local cluster (no Ferry CRDs, no controller) for `body`, stopped and removed afterwards.
    static func withCluster(_ body: (E2ECluster, KubeClient) async throws -> Void) async throws {
        let dir = URL(fileURLWithPath: "/tmp/ferry-e2e-\(UInt32.random(in: 0...UInt32.max))")
        let cluster = try await E2ECluster(options: LocalClusterOptions(directory: dir), installFerry: false)
        try await cluster.stopAfter { try await body(cluster, cluster.client) }
    }

    static let storage = """
        apiVersion: storage.k8s.io/v1
        kind: StorageClass
        metadata: {name: local}
        provisioner: local.csi.ferry.io
        reclaimPolicy: Delete
        volumeBindingMode: Immediate
        ---
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata: {name: data, namespace: default}
        spec:
          accessModes: [ReadWriteOnce]
          storageClassName: local
          resources: {requests: {storage: 16Mi}}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: writer, namespace: default}
        spec:
          restartPolicy: Never
          containers:
          - name: main
            image: busybox:1.36
            command: [sh, -c, "echo hello from the pod > /data/hello.txt"]
            volumeMounts: [{name: data, mountPath: /data}]
          volumes:
          - name: data
            persistentVolumeClaim: {claimName: data}
        """

    static func volumeDirectory(_ cluster: E2ECluster, _ client: KubeClient, claim: String) async throws -> URL {
        let pvc = try await client.get(PersistentVolumeClaim.self, name: claim, namespace: "default")
        let pv = try await client.get(PersistentVolume.self, name: pvc.spec.volumeName ?? "")
        return cluster.volumeDirectory(pv.spec.csi?.volumeHandle ?? "?")
    }

    /// Applies the class, claim and writer pod, and waits for the pod to succeed.
    static func runWriter(_ cluster: E2ECluster) async throws {
        try await cluster.kubectl(["apply", "-f", "-"], stdin: storage)
        try await cluster.kubectl(["wait", "--for=jsonpath={.status.phase}=Bound", "pvc/data", "--timeout=60s"])
        try await cluster.kubectl(["wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/writer", "--timeout=60s"])
    }

    @Test func podWritesIntoAProvisionedClaimAndDeletingTheClaimDeletesTheVolume() async throws {
        try await Self.withCluster { cluster, client in
            try await Self.runWriter(cluster)
            let directory = try await Self.volumeDirectory(cluster, client, claim: "data")
            #expect((try? String(contentsOf: directory.appendingPathComponent("hello.txt"), encoding: .utf8))
                == "hello from the pod\n")
            let pvName = try await client.get(PersistentVolumeClaim.self, name: "data", namespace: "default").spec.volumeName ?? ""
            try await cluster.kubectl(["delete", "pod/writer", "--timeout=60s"])
            try await cluster.kubectl(["delete", "pvc/data", "--timeout=60s"])
            #expect(try await eventually(.seconds(30)) {
                (try? await client.get(PersistentVolume.self, name: pvName)) == nil
            })
            #expect(!FileManager.default.fileExists(atPath: directory.path))
        }
    }

    @Test func snapshotOfTheClaimRestoresIntoASameNamespaceClaimWithTheData() async throws {
        try await Self.withCluster { cluster, client in
            try await Self.runWriter(cluster)
            try await cluster.kubectl(["apply", "-f", "-"], stdin: """
                apiVersion: snapshot.storage.k8s.io/v1
                kind: VolumeSnapshotClass
                metadata: {name: local-snapshots}
                driver: local.csi.ferry.io
                deletionPolicy: Delete
                ---
                apiVersion: snapshot.storage.k8s.io/v1
                kind: VolumeSnapshot
                metadata: {name: data-snap, namespace: default}
                spec:
                  volumeSnapshotClassName: local-snapshots
                  source: {persistentVolumeClaimName: data}
                """)
            try await cluster.kubectl(["wait", "--for=jsonpath={.status.readyToUse}=true", "volumesnapshot/data-snap",
                                             "--timeout=60s"])
            try await cluster.kubectl(["apply", "-f", "-"], stdin: """
                apiVersion: v1
                kind: PersistentVolumeClaim
                metadata: {name: restored, namespace: default}
                spec:
                  accessModes: [ReadWriteOnce]
                  storageClassName: local
                  resources: {requests: {storage: 16Mi}}
                  dataSource: {apiGroup: snapshot.storage.k8s.io, kind: VolumeSnapshot, name: data-snap}
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: reader, namespace: default}
                spec:
                  restartPolicy: Never
                  containers:
                  - name: main
                    image: busybox
                    command: [sh, -c, "cat /restored/hello.txt"]
                    volumeMounts: [{name: r, mountPath: /restored, readOnly: true}]
                  volumes:
                  - name: r
                    persistentVolumeClaim: {claimName: restored}
                """)
            try await cluster.kubectl(["wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/reader", "--timeout=60s"])
            let restored = try await Self.volumeDirectory(cluster, client, claim: "restored")
            let original = try await Self.volumeDirectory(cluster, client, claim: "data")
            #expect(restored != original)
            #expect((try? String(contentsOf: restored.appendingPathComponent("hello.txt"), encoding: .utf8))
                == "hello from the pod\n")
            let log = cluster.directory.appendingPathComponent("logs/default/reader/main.log")
            #expect((try? String(contentsOf: log, encoding: .utf8)) == "hello from the pod\n")
        }
    }
}
