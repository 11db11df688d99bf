import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One filesystem entry found by ``SourceTreeScanner`` (metadata only; no file contents read yet).
struct ScannedNode: Sendable {
    enum Kind: Sendable {
        case directory
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
}

/// A problem met while reading the source (reported, counted, the entry skipped).
public struct SourceEntryError: Error, Sendable, Hashable {
    public var path: String
    public var message: String
}

/// Reads the source one directory at a time with `lstat`/`readdir`, never following symlinks (kopia/kopia
/// `fs/localfs`): the uploader walks depth first and holds only the listings on its path, never the whole tree.
///
/// Sockets, FIFOs and devices are skipped and counted as ignored (Kopia's `ignoreUnknownTypes` default);
/// unreadable directories and failing `lstat`/`readlink` calls are reported as errors and skipped. Names are
/// decoded as UTF-8 with invalid bytes replaced by U+FFFD, as Kopia does. Pure functions of the file system.
enum SourceTreeScanner {
    /// What one directory holds.
    struct Listing: Sendable {
        var children: [ScannedNode] = []
        var errors: [SourceEntryError] = []
        var ignored = 0
    }

    /// The entry at `path` itself (nil with an error when it cannot be read or is of an ignored type).
    static func node(path: String, name: String) -> Result<ScannedNode, SourceEntryError>? {
        var st = stat()
        guard lstat(path, &st) == 0 else {
            return .failure(SourceEntryError(path: path, message: String(cString: strerror(errno))))
        }
        var node = ScannedNode(
            name: name, path: path, kind: .file, permissions: FilePermissions(rawValue: UInt32(st.st_mode) & 0o7777),
            size: Int64(st.st_size),
            modified: KopiaTime(seconds: Int64(st.st_mtim.tv_sec), nanoseconds: Int32(st.st_mtim.tv_nsec)),
            uid: st.st_uid, gid: st.st_gid)
        switch st.st_mode & S_IFMT {
        case S_IFREG:
            return .success(node)
        case S_IFLNK:
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = buffer.withUnsafeMutableBufferPointer { b -> Int in
                guard let base = b.baseAddress else { return -1 }
                return readlink(path, base, b.count)
            }
            guard n >= 0 else {
                return .failure(SourceEntryError(path: path, message: String(cString: strerror(errno))))
            }
            node.kind = .symlink(target: buffer[0..<n].map { UInt8(bitPattern: $0) })
            node.size = Int64(n)
            return .success(node)
        case S_IFDIR:
            node.kind = .directory
            node.size = 0
            return .success(node)
        default:
            return nil
        }
    }

    /// The children of the directory at `path`, sorted by name, each `lstat`ed.
    static func list(path: String) -> Result<Listing, SourceEntryError> {
        guard let dir = opendir(path) else {
            return .failure(SourceEntryError(path: path, message: String(cString: strerror(errno))))
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
        names.sort()
        var listing = Listing()
        listing.children.reserveCapacity(names.count)
        for child in names {
            switch node(path: path == "/" ? "/" + child : path + "/" + child, name: child) {
            case .success(let c): listing.children.append(c)
            case .failure(let e): listing.errors.append(e)
            case nil: listing.ignored += 1
            }
        }
        return .success(listing)
    }
}
