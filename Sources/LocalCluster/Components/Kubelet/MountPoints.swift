import Foundation
import Synchronization

/// Mount points the kubelet had to create on the host so that a container's private mount namespace can bind a
/// volume (or a termination-message file) there. Reference-counted across every kubelet of the process: two pods
/// mounting `/data` share the directory, and it is removed — with every ancestor the kubelet created for it, deepest
/// first, and only while empty — when the last one releases it. Paths that already existed are never removed.
final class MountPoints: Sendable {
    static let shared = MountPoints()

    private struct Entry { var count: Int; var created: [String] }
    private let entries = Mutex<[String: Entry]>([:])

    /// Makes sure `path` exists (a directory, or an empty file when `file`); returns an error text on failure.
    func acquire(_ path: String, file: Bool) -> String? {
        entries.withLock { entries -> String? in
            if var e = entries[path] {
                e.count += 1
                entries[path] = e
                return nil
            }
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
            entries[path] = Entry(count: 1, created: created)
            return nil
        }
    }

    /// Drops one reference; the last one removes what `acquire` created.
    func release(_ path: String) {
        entries.withLock { entries in
            guard var e = entries[path] else { return }
            e.count -= 1
            if e.count > 0 { entries[path] = e; return }
            entries[path] = nil
            // Another entry may live below a directory created here; keep those directories.
            let inUse = Set(entries.keys)
            Self.remove(e.created.filter { created in !inUse.contains { $0.hasPrefix(created + "/") || $0 == created } })
        }
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
