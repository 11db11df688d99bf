import E2ETestSupport
import Foundation
import Kube
import LocalCluster
import Testing

/// The kubelet runs pods as local processes in a private mount namespace (pods are created with `nodeName`, as a
/// user may, so these tests need no scheduler).
struct KubeletTests {
    static let components: [any ClusterComponent] = [CSIDriverComponent(), PVBinder(), ExternalProvisioner(),
                                                     Kubelet(nodeName: "node-1")]

    /// A mount path below a directory that does not exist on the host, so the test sees it created and removed.
    static func freshMountRoot() -> String { "/ferry-kubelet-test-\(UInt32.random(in: 0...UInt32.max))" }

    static func pod(_ name: String, command: String, restartPolicy: String = "Never", volumeMounts: [JSONValue] = [],
                    volumes: [JSONValue] = [], env: [JSONValue] = []) -> Pod {
        var pod = Pod(name: name, namespace: "default")
        pod.spec.nodeName = "node-1"
        pod.spec.restartPolicy = restartPolicy
        pod.spec.object["containers"] = [[
            "name": "main", "image": "busybox:1.36", "command": ["sh", "-c", .string(command)],
            "volumeMounts": .array(volumeMounts), "env": .array(env),
        ]]
        if !volumes.isEmpty { pod.spec.object["volumes"] = .array(volumes) }
        return pod
    }

    static func phase(_ f: ClusterFixture, _ name: String) async throws -> String? {
        try await f.client.get(Pod.self, name: name).status.phase
    }

    static func terminated(_ pod: Pod) -> JSONObject? {
        pod.status.object["containerStatuses"]?.array?.first?.object?["state"]?.object?["terminated"]?.object
    }

    @Test func podWritesIntoItsClaimThroughABindMountAndSucceeds() async throws {
        try await ClusterFixture.with(Self.components) { f in
            try await f.storageClass()
            _ = try await f.client.create(ClusterFixture.claim("data"))
            let root = Self.freshMountRoot()
            let pod = Self.pod("writer", command: "echo hello > \(root)/data/out.txt && echo wrote",
                               volumeMounts: [["name": "data", "mountPath": .string("\(root)/data")]],
                               volumes: [["name": "data", "persistentVolumeClaim": ["claimName": "data"]]])
            _ = try await f.client.create(pod)
            #expect(try await eventually(.seconds(30)) { try await Self.phase(f, "writer") == "Succeeded" })
            let done = try await f.client.get(Pod.self, name: "writer")
            #expect(Self.terminated(done)?["exitCode"]?.int == 0)
            #expect(Self.terminated(done)?["reason"]?.string == "Completed")
            let claim = try await f.client.get(PersistentVolumeClaim.self, name: "data")
            let pv = try await f.client.get(PersistentVolume.self, name: claim.spec.volumeName ?? "")
            let file = f.directory.appendingPathComponent("volumes/\(pv.spec.csi?.volumeHandle ?? "")/out.txt")
            #expect((try? String(contentsOf: file, encoding: .utf8)) == "hello\n")
            let log = f.directory.appendingPathComponent("logs/default/writer/main.log")
            #expect((try? String(contentsOf: log, encoding: .utf8)) == "wrote\n")
            // The mount point existed only inside the container's namespace; the host directory is gone again.
            #expect(try await eventually { !FileManager.default.fileExists(atPath: root) })
            let node = try await f.client.get(Node.self, name: "node-1")
            #expect(node.metadata.labels[LocalCSIDriver.topologyKey] == "node-1")
        }
    }

    @Test func exitCodeEnvironmentAndTerminationMessageReachTheStatus() async throws {
        try await ClusterFixture.with(Self.components) { f in
            var secret = Secret(name: "creds", namespace: "default")
            secret.data = ["token": Data("s3cr3t".utf8).base64EncodedString()]
            _ = try await f.client.create(secret)
            var cm = ConfigMap(name: "settings", namespace: "default")
            cm.data = ["MODE": "fast"]
            _ = try await f.client.create(cm)
            var pod = Self.pod("failing", command: "printf '%s %s %s %s' \"$TOKEN\" \"$MODE\" \"$GREETING\" \"$POD\" > /dev/termination-log; exit 3",
                               env: [["name": "TOKEN", "valueFrom": ["secretKeyRef": ["name": "creds", "key": "token"]]],
                                     ["name": "NAME", "value": "world"],
                                     ["name": "GREETING", "value": "hello-$(NAME)"],
                                     ["name": "POD", "valueFrom": ["fieldRef": ["fieldPath": "metadata.name"]]]])
            var containers: [JSONMap] = pod.spec["containers"] ?? []
            containers[0].object["envFrom"] = [["configMapRef": ["name": "settings"]]]
            pod.spec.object["containers"] = containers.json
            _ = try await f.client.create(pod)
            #expect(try await eventually(.seconds(30)) { try await Self.phase(f, "failing") == "Failed" })
            let failed = try await f.client.get(Pod.self, name: "failing")
            #expect(Self.terminated(failed)?["exitCode"]?.int == 3)
            #expect(Self.terminated(failed)?["reason"]?.string == "Error")
            #expect(Self.terminated(failed)?["message"]?.string == "s3cr3t fast hello-world failing")
        }
    }

    /// A runtime resolves volume sources on the host: an emptyDir at `/tmp` must not hide a claim's directory or
    /// the termination-message file that lie below the host's `/tmp` (the cluster directory is there).
    @Test func aVolumeMountedOverTmpDoesNotHideOtherVolumesWhoseHostDirectoriesAreBelowIt() async throws {
        try await ClusterFixture.with(Self.components) { f in
            #expect(f.directory.path.hasPrefix("/tmp/"))
            try await f.storageClass()
            _ = try await f.client.create(ClusterFixture.claim("data"))
            let root = Self.freshMountRoot()
            let pod = Self.pod("shadow", command: "echo kept > \(root)/data/out.txt && touch /tmp/scratch && mkdir -p /tmp/sub/x && printf done > /dev/termination-log",
                               volumeMounts: [["name": "scratch", "mountPath": "/tmp"],
                                              ["name": "nested", "mountPath": "/tmp/sub/x"],
                                              ["name": "data", "mountPath": .string("\(root)/data")]],
                               volumes: [["name": "scratch", "emptyDir": [:]], ["name": "nested", "emptyDir": [:]],
                                         ["name": "data", "persistentVolumeClaim": ["claimName": "data"]]])
            _ = try await f.client.create(pod)
            #expect(try await eventually(.seconds(30)) { try await Self.phase(f, "shadow") == "Succeeded" })
            let done = try await f.client.get(Pod.self, name: "shadow")
            #expect(Self.terminated(done)?["message"]?.string == "done")
            let claim = try await f.client.get(PersistentVolumeClaim.self, name: "data")
            let pv = try await f.client.get(PersistentVolume.self, name: claim.spec.volumeName ?? "")
            let file = f.directory.appendingPathComponent("volumes/\(pv.spec.csi?.volumeHandle ?? "")/out.txt")
            #expect((try? String(contentsOf: file, encoding: .utf8)) == "kept\n")
            // The emptyDir took the writes, not the host's /tmp.
            #expect(!FileManager.default.fileExists(atPath: "/tmp/scratch"))
        }
    }

    @Test func readOnlyMountsRefuseWrites() async throws {
        try await ClusterFixture.with(Self.components) { f in
            try await f.storageClass()
            _ = try await f.client.create(ClusterFixture.claim("ro"))
            let root = Self.freshMountRoot()
            let pod = Self.pod("reader", command: "touch \(root)/v/x",
                               volumeMounts: [["name": "v", "mountPath": .string("\(root)/v"), "readOnly": true]],
                               volumes: [["name": "v", "persistentVolumeClaim": ["claimName": "ro"]]])
            _ = try await f.client.create(pod)
            #expect(try await eventually(.seconds(30)) { try await Self.phase(f, "reader") == "Failed" })
            let log = try String(contentsOf: f.directory.appendingPathComponent("logs/default/reader/main.log"), encoding: .utf8)
            #expect(log.contains("Read-only file system"))
        }
    }

    @Test func killedContainerRestartsAndDeletionKillsTheProcess() async throws {
        try await ClusterFixture.with(Self.components) { f in
            _ = try await f.client.create(Self.pod("sleeper", command: "sleep 60", restartPolicy: "OnFailure"))
            let hooks = PodProcesses.forCluster(directory: f.directory)
            #expect(try await eventually(.seconds(30)) { hooks.pid(namespace: "default", pod: "sleeper", container: "main") != nil })
            let first = try #require(hooks.pid(namespace: "default", pod: "sleeper", container: "main"))
            #expect(try await eventually { try await Self.phase(f, "sleeper") == "Running" })

            #expect(hooks.pause(namespace: "default", pod: "sleeper") == 1)
            #expect(try await eventually { Self.processState(first) == "T" })
            #expect(hooks.resume(namespace: "default", pod: "sleeper") == 1)
            #expect(try await eventually { Self.processState(first) == "S" })

            #expect(hooks.kill(namespace: "default", pod: "sleeper") == 1)
            #expect(try await eventually(.seconds(30)) {
                let p = try await f.client.get(Pod.self, name: "sleeper")
                let status = p.status.object["containerStatuses"]?.array?.first?.object
                return status?["restartCount"]?.int == 1
                    && status?["lastState"]?.object?["terminated"]?.object?["exitCode"]?.int == 137
                    && status?["state"]?.object?["running"] != nil
            })
            let second = try #require(hooks.pid(namespace: "default", pod: "sleeper", container: "main"))
            #expect(second != first)

            try await f.client.delete(Pod.self, name: "sleeper")
            #expect(try await eventually { kill(second, 0) != 0 })
        }
    }

    /// The state letter of /proc/<pid>/stat (R, S, T, Z …), nil once the process is gone.
    static func processState(_ pid: Int32) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ").first.map(String.init)
    }
}
