import FerryControllers
import Foundation
import Kube
import KopiaTestSupport
import LocalCluster
import Testing

/// Issue 13's fail-closed cases that need a running populator pod, on the local control plane with the real
/// `ferry controller` (one cluster for the suite): the pod killed mid-restore is replaced and the next one resumes
/// to a byte-exact volume; the repository disappearing mid-restore leaves the claim Pending with a Warning and
/// nothing bound, and deleting the claim removes every temporary object. The repository holds a ~96 MiB tree
/// written with `ferry snapshot create`, so the restore runs long enough to be caught halfway.
@Suite(.serialized, .kopiaCluster)
struct KopiaFailClosedEndToEndTests {
    var cluster: KopiaCluster { get throws { try #require(KopiaCluster.current) } }

    /// A tree (48 random 2 MiB files in 4 directories, a small file with a fixed mtime, a symlink) and a filesystem
    /// repository with one snapshot of it as `big@fail:/data`, in the cluster's scratch space.
    static func repository(_ c: KopiaCluster, name: String) throws -> (repository: URL, tree: URL) {
        let tree = c.scratch.appendingPathComponent("big-tree")
        let fm = FileManager.default
        if !fm.fileExists(atPath: tree.appendingPathComponent("done").path) {
            for d in 0..<4 {
                let dir = tree.appendingPathComponent("d\(d)")
                try fm.createDirectory(at: dir, withIntermediateDirectories: true)
                for f in 0..<12 {
                    let p = Process()
                    p.executableURL = URL(fileURLWithPath: "/usr/bin/head")
                    p.arguments = ["-c", "2097152", "/dev/urandom"]
                    _ = fm.createFile(atPath: dir.appendingPathComponent("f\(f).bin").path, contents: nil)
                    p.standardOutput = try FileHandle(forWritingTo: dir.appendingPathComponent("f\(f).bin"))
                    try p.run()
                    p.waitUntilExit()
                }
            }
            try Data("small\n".utf8).write(to: tree.appendingPathComponent("small.txt"))
            try fm.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_700_000_000), .posixPermissions: 0o640],
                                 ofItemAtPath: tree.appendingPathComponent("small.txt").path)
            try fm.createSymbolicLink(atPath: tree.appendingPathComponent("link").path, withDestinationPath: "d0/f0.bin")
            _ = fm.createFile(atPath: tree.appendingPathComponent("done").path, contents: Data())
        }
        let repo = c.scratch.appendingPathComponent(name)
        let env = ["KOPIA_REPOSITORY": "filesystem://" + repo.path, "KOPIA_PASSWORD": "fail-password"]
        let (s0, o0) = try KopiaCluster.ferry(["repo", "create"], environment: env)
        try #require(s0 == 0, "\(o0)")
        let (s1, o1) = try KopiaCluster.ferry(["snapshot", "create", tree.path, "--identity", "big@fail:/data"], environment: env)
        try #require(s1 == 0, "\(o1)")
        return (repo, tree)
    }

    /// Path, type, mode, size, sha256, mtime (ns) and symlink target of every entry.
    static func listing(_ root: URL) throws -> [String] {
        var lines: [String] = []
        for line in try KopiaPopulateEndToEndTests.listing(root) {
            if line.hasPrefix("l ") { lines.append(line); continue }
            let rel = String(line.split(separator: " ").last ?? "")
            var st = stat()
            guard lstat(root.appendingPathComponent(rel).path, &st) == 0 else { lines.append(line + " ?"); continue }
            lines.append(line + " mtime=\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)")
        }
        return lines
    }

    /// The populator pod of `claimUID` once its container runs and three files of the restore are on the prime volume
    /// (so the restore is under way, not done: the tree is ~96 MiB in 48 files).
    static func podMidRestore(_ c: KopiaCluster, claimUID: String) async throws -> String? {
        let hooks = PodProcesses.forCluster(directory: c.directory)
        let podName = PopulatingNames.pod(forUID: claimUID)
        var volume: URL?
        let found = await poll(.seconds(60), every: .milliseconds(5)) {
            if volume == nil {
                let prime = try await c.pvc("ferry-system", PopulatingNames.primeClaim(forUID: claimUID))
                guard prime.status.phase == "Bound" else { return false }
                volume = try await c.volumeDirectory(prime)
            }
            guard let volume, hooks.pid(namespace: "ferry-system", pod: podName, container: "populate") != nil else { return false }
            let files = FileManager.default.enumerator(atPath: volume.path)?.allObjects.compactMap { $0 as? String } ?? []
            // Three files started: at least two are complete, so a resumed run has something to skip.
            return files.filter { $0.hasSuffix(".bin") }.count >= 3
        }
        return found ? podName : nil
    }

    @Test func aPopulatorPodKilledMidRestoreIsReplacedAndTheNextOneResumesToAByteExactVolume() async throws {
        let c = try cluster
        let (repo, tree) = try Self.repository(c, name: "kill-repo")
        try await c.namespaces("kill")
        try await c.repositorySecret("kill", ["KOPIA_REPOSITORY": "filesystem://" + repo.path, "KOPIA_PASSWORD": "fail-password"])
        try await c.kopiaSnapshot("kill", "big", "username: big, hostname: fail")
        try await c.claim("kill", "big-data", source: "big")
        let uid = try await c.pvc("kill", "big-data").metadata.uid ?? ""
        let pod = try #require(try await Self.podMidRestore(c, claimUID: uid), "no populator pod caught mid-restore")
        let killed = PodProcesses.forCluster(directory: c.directory).kill(namespace: "ferry-system", pod: pod)
        #expect(killed > 0)
        #expect(await poll(.seconds(30)) {
            try await c.events("kill", "big-data").contains { $0.type == "Warning" && $0.reason == "PopulatorFailed" }
        })
        #expect(try await c.pvc("kill", "big-data").status.phase == "Pending")
        let bound = try await c.waitBound("kill", "big-data", timeout: .seconds(120))
        #expect(try Self.listing(try await c.volumeDirectory(bound)) == (try Self.listing(tree)))
        // `Populated` is posted right after the claimRef move, so it may trail the bind by a moment.
        _ = await c.waitForEvent("kill", "big-data", reason: "Populated", timeout: .seconds(10))
        let populated = try await c.events("kill", "big-data").filter { $0.reason == "Populated" }.compactMap(\.message)
        #expect(populated.contains { $0.contains("already present") }, "the second pod did not resume: \(populated)")
        #expect(await poll(.seconds(20)) { try await c.temporaryObjects(forUID: uid).isEmpty })
    }

    @Test func theRepositoryDisappearingMidRestoreLeavesTheClaimPendingWithAWarningAndNothingBound() async throws {
        let c = try cluster
        let (repo, _) = try Self.repository(c, name: "gone-repo")
        try await c.namespaces("gone")
        try await c.repositorySecret("gone", ["KOPIA_REPOSITORY": "filesystem://" + repo.path, "KOPIA_PASSWORD": "fail-password"])
        try await c.kopiaSnapshot("gone", "big", "username: big, hostname: fail")
        try await c.claim("gone", "big-data", source: "big")
        let uid = try await c.pvc("gone", "big-data").metadata.uid ?? ""
        let hooks = PodProcesses.forCluster(directory: c.directory)
        let pod = try #require(try await Self.podMidRestore(c, claimUID: uid), "no populator pod caught mid-restore")
        #expect(hooks.pause(namespace: "ferry-system", pod: pod) > 0)
        try FileManager.default.removeItem(at: repo)
        #expect(hooks.resume(namespace: "ferry-system", pod: pod) > 0)
        // Whichever notices first says so on the claim: the pod failing on a missing pack (PopulatorFailed), or the
        // controller's refreshed index no longer holding the pinned snapshot (SnapshotGone) or the repository
        // failing to open (RepositoryUnreachable) — each a Warning naming the repository.
        let causes: Set<String> = ["PopulatorFailed", "SnapshotGone", "RepositoryUnreachable"]
        #expect(await poll(.seconds(30)) {
            try await c.events("gone", "big-data").contains { $0.type == "Warning" && causes.contains($0.reason ?? "") }
        })
        let warning = try await c.events("gone", "big-data").first { $0.type == "Warning" && causes.contains($0.reason ?? "") }
        #expect((warning?.message ?? "").contains(repo.path), "\(warning?.reason ?? ""): \(warning?.message ?? "")")
        // Nothing is handed over, for as long as the repository is gone.
        for _ in 0..<6 {
            let claim = try await c.pvc("gone", "big-data")
            #expect(claim.status.phase == "Pending")
            #expect((claim.spec.volumeName ?? "").isEmpty)
            try await Task.sleep(for: .milliseconds(500))
        }
        let volumes = try await c.client.list(PersistentVolume.self, namespace: nil).items
        #expect(!volumes.contains { $0.spec.claimRef?.namespace == "gone" })
        // Once the controller's index is refreshed (at most its 15 s interval), it names the cause for what it is:
        // the repository is unreachable (not "snapshot gone": a vanished directory must not read as an empty one).
        let unreachable = await poll(.seconds(45)) {
            try await c.events("gone", "big-data").contains { $0.type == "Warning" && $0.reason == "RepositoryUnreachable" }
        }
        let seen = ((try? await c.events("gone", "big-data")) ?? []).filter { $0.type == "Warning" }.map { "\($0.reason ?? ""): \($0.message ?? "")" }
        #expect(unreachable, "\(seen)")
        #expect(try await c.pvc("gone", "big-data").status.phase == "Pending")
        // Deleting the claim removes every temporary object (prime PVC, pod, Secret).
        try await c.kubectl(["delete", "pvc", "-n", "gone", "big-data", "--wait=false"])
        let cleaned = await poll(.seconds(30)) { try await c.temporaryObjects(forUID: uid).isEmpty }
        let leftBehind = (try? await c.temporaryObjects(forUID: uid)) ?? []
        #expect(cleaned, "left behind: \(leftBehind)")
        #expect(await poll(.seconds(30)) {
            (try? await c.pvc("gone", "big-data")) == nil
        })
    }
}
