import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One filesystem entry found by ``SourceTreeScanner`` (metadata only; no file contents read yet).
struct ScannedNode: Sendable {
    enum Kind: Sendable {
        case directory([ScannedNode])
        case file
        case symlink(target: [UInt8])
    }

    var name: String
    var path: String
    var kind: Kind
    var permissions: FilePermissions
    var size: Int64
    var modified: KopiaTime
    var uid: UInt32
    var gid: UInt32
    var inode: UInt64
}

/// A problem met while reading the source (reported, counted, the entry skipped).
public struct SourceEntryError: Sendable, Hashable {
    public var path: String
    public var message: String
}

/// Walks a source tree with `lstat`/`readdir`, never following symlinks (kopia/kopia `fs/localfs`).
///
/// Sockets, FIFOs and devices are skipped and counted as ignored (Kopia's `ignoreUnknownTypes` default);
/// unreadable directories and failing `lstat`/`readlink` calls are reported as errors and skipped. Names are
/// decoded as UTF-8 with invalid bytes replaced by U+FFFD, as Kopia does.
struct SourceTreeScanner {
    var errors: [SourceEntryError] = []
    var ignored = 0

    mutating func scan(path: String, name: String) -> ScannedNode? {
        var st = stat()
        guard lstat(path, &st) == 0 else {
            errors.append(SourceEntryError(path: path, message: String(cString: strerror(errno))))
            return nil
        }
        var node = ScannedNode(
            name: name, path: path, kind: .file, permissions: FilePermissions(rawValue: UInt32(st.st_mode) & 0o7777),
            size: Int64(st.st_size),
            modified: KopiaTime(seconds: Int64(st.st_mtim.tv_sec), nanoseconds: Int32(st.st_mtim.tv_nsec)),
            uid: st.st_uid, gid: st.st_gid, inode: UInt64(st.st_ino))
        switch st.st_mode & S_IFMT {
        case S_IFREG:
            return node
        case S_IFLNK:
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = buffer.withUnsafeMutableBufferPointer { b -> Int in
                guard let base = b.baseAddress else { return -1 }
                return readlink(path, base, b.count)
            }
            guard n >= 0 else {
                errors.append(SourceEntryError(path: path, message: String(cString: strerror(errno))))
                return nil
            }
            node.kind = .symlink(target: buffer[0..<n].map { UInt8(bitPattern: $0) })
            node.size = Int64(n)
            return node
        case S_IFDIR:
            guard let dir = opendir(path) else {
                errors.append(SourceEntryError(path: path, message: String(cString: strerror(errno))))
                return nil
            }
            var names: [String] = []
            while let entry = readdir(dir) {
                let childName = withUnsafeBytes(of: entry.pointee.d_name) { raw -> String in
                    let bytes = raw.prefix { $0 != 0 }
                    return String(decoding: bytes, as: UTF8.self)
                }
                if childName == "." || childName == ".." { continue }
                names.append(childName)
            }
            closedir(dir)
            var children: [ScannedNode] = []
            for child in names.sorted() {
                if let c = scan(path: path == "/" ? "/" + child : path + "/" + child, name: child) {
                    children.append(c)
                }
            }
            node.kind = .directory(children)
            node.size = 0
            return node
        default:
            ignored += 1
            return nil
        }
    }
}
