import Foundation
import Synchronization

/// Mount points the kubelet had to create on the host so that a container's private mount namespace can bind a
/// volume (or a termination-message file) there. Reference-counted across every kubelet of **every process** on the
/// machine: two pods mounting `/data` share the directory, and it is removed — with every ancestor the kubelet created
/// for it, deepest first, and only while empty — when the last holder releases it. Paths that already existed are
/// never removed.
///
/// Why across processes: the host's root filesystem is shared by every local cluster on the machine (a test
/// process's in-process clusters, `ferry-localcluster up` of the demo). With a per-process count, one cluster's
/// kubelet removed `/var/run/secrets/kubernetes.io/serviceaccount` when its pod ended while another cluster's
/// container was between creating that mount point and binding its token there: `mount` failed, the container
/// exited 32 and the pod — e.g. the chart's `ferry kube check` test pod — went Failed. The counts therefore live in
/// a state file under an exclusive `flock` (in `/run`, not `TMPDIR`, which test runs make private); holders are
/// process ids, and the holders of a process that is gone are dropped (its created paths removed when unused).
final class MountPoints: Sendable {
    static let shared = MountPoints(stateDirectory: MountPoints.defaultStateDirectory)

    static var defaultStateDirectory: String {
        access("/run", W_OK) == 0 ? "/run/ferry-localcluster" : "/tmp/ferry-localcluster-\(getuid())"
    }

    struct Entry: Codable, Equatable {
        /// Process id → references it holds.
        var holders: [String: Int]
        /// Paths created for this mount point (parents first).
        var created: [String]
    }

    let stateDirectory: String
    /// Serialises this process's threads (flock locks belong to open file descriptions, and so does the state read);
    /// holds the state itself when the state directory cannot be used.
    private let local = Mutex<[String: Entry]>([:])
    /// The holder name of this process (a process id; injectable so a test can play a second process).
    private let pid: String

    init(stateDirectory: String, processID: Int32 = getpid()) {
        self.stateDirectory = stateDirectory
        pid = String(processID)
    }

    /// Makes sure `path` exists (a directory, or an empty file when `file`); returns an error text on failure.
    func acquire(_ path: String, file: Bool) -> String? {
        withState { entries -> String? in
            var entry = entries[path] ?? Entry(holders: [:], created: [])
            // Create what is missing, also for an existing entry (someone outside may have removed it).
            let fm = FileManager.default
            var created: [String] = []
            var missing: [String] = []
            var p = (path as NSString).deletingLastPathComponent
            while !p.isEmpty, p != "/", !fm.fileExists(atPath: p) {
                missing.append(p)
                p = (p as NSString).deletingLastPathComponent
            }
            for dir in missing.reversed() {
                do { try fm.createDirectory(atPath: dir, withIntermediateDirectories: false) } catch {
                    Self.remove(created)
                    return "cannot create mount point \(dir): \(error.localizedDescription)"
                }
                created.append(dir)
            }
            if !fm.fileExists(atPath: path) {
                let ok = file ? fm.createFile(atPath: path, contents: nil)
                    : (try? fm.createDirectory(atPath: path, withIntermediateDirectories: false)) != nil
                guard ok else {
                    Self.remove(created)
                    return "cannot create mount point \(path)"
                }
                created.append(path)
            }
            entry.created += created.filter { !entry.created.contains($0) }
            entry.holders[pid, default: 0] += 1
            entries[path] = entry
            return nil
        }
    }

    /// Drops one reference of this process; the last holder's release removes what was created.
    func release(_ path: String) {
        withState { entries in
            guard var e = entries[path], let mine = e.holders[pid] else { return }
            e.holders[pid] = mine > 1 ? mine - 1 : nil
            entries[path] = e
            if e.holders.isEmpty { Self.dispose(path, in: &entries) }
        }
    }

    /// Removes an unheld entry and the paths created for it (keeping directories another entry lives below).
    private static func dispose(_ path: String, in entries: inout [String: Entry]) {
        guard let e = entries.removeValue(forKey: path) else { return }
        let inUse = Set(entries.keys)
        remove(e.created.filter { created in !inUse.contains { $0.hasPrefix(created + "/") || $0 == created } })
    }

    /// Runs `body` on the machine-wide state: under this process's mutex and an exclusive flock of the state
    /// directory's lock file; holders that are no longer running are dropped first.
    private func withState<R>(_ body: (inout [String: Entry]) -> R) -> R {
        local.withLock { fallback -> R in
            let lockPath = stateDirectory + "/mount-points.lock"
            let statePath = stateDirectory + "/mount-points.json"
            try? FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
            let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { return body(&fallback) }
            defer { close(fd) }
            while flock(fd, LOCK_EX) != 0 {
                guard errno == EINTR else { return body(&fallback) }
            }
            var entries = (FileManager.default.contents(atPath: statePath))
                .flatMap { try? JSONDecoder().decode([String: Entry].self, from: $0) } ?? [:]
            for (path, var e) in entries {
                e.holders = e.holders.filter { Self.isRunning($0.key) }
                entries[path] = e
            }
            for (path, e) in entries where e.holders.isEmpty { Self.dispose(path, in: &entries) }
            let result = body(&entries)
            if let data = try? JSONEncoder().encode(entries) {
                let temporary = statePath + ".\(pid)"
                if FileManager.default.createFile(atPath: temporary, contents: data) { _ = rename(temporary, statePath) }
            }
            return result
        }
    }

    private static func isRunning(_ pid: String) -> Bool {
        guard let n = Int32(pid), n > 0 else { return false }
        return kill(n, 0) == 0 || errno == EPERM
    }

    /// Removes created paths deepest first, only while empty (rmdir / unlink of an empty file).
    private static func remove(_ created: [String]) {
        for p in created.reversed() {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: p, isDirectory: &isDir) else { continue }
            if isDir.boolValue { _ = rmdir(p) } else if ((try? FileManager.default.attributesOfItem(atPath: p)[.size] as? Int) ?? 1) == 0 {
                _ = unlink(p)
            }
        }
    }
}
