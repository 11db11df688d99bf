import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Kopia's filesystem backend (kopia-format.md §1.2; kopia/kopia `repo/blob/filesystem/filesystem_storage.go`,
/// `repo/blob/sharded/sharded.go`).
///
/// Every blob is a file `<shard dirs…>/<rest>.f` under `root`; files not ending in `.f` (temporaries,
/// `.shards`, a fixture's `MANIFEST.md`) are invisible. The sharding comes from `<root>/.shards`; without it
/// the layout is detected from the root's directories (1-character ⇒ `[1,3]`, 3-character ⇒ `[3,3]`), and an
/// empty root uses the current `[1,3]` layout.
///
/// Reads use `pread`; writes create `<path>.tmp.<16 hex>` (mode 0600, directories 0700) and `rename` it, so
/// readers see the old blob or the whole new one. `delete` of a missing blob succeeds. Blocking system calls
/// run off the cooperative pool. Safe to use from many tasks at once: the value is immutable.
public struct FilesystemStorage: BlobStorage {
    public let root: String
    public let sharding: ShardingParameters

    /// Opens `root`, reading `.shards` or detecting the layout.
    /// - Throws: `KopiaError(.notARepository)` when `root` is not a directory, `.corruptBlob` for a bad `.shards`.
    public init(root: String) throws(KopiaError) {
        let root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
        var st = stat()
        guard stat(root, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            throw KopiaError(.notARepository, "\(root) is not a directory; check the repository path", path: root)
        }
        self.root = root
        let shardsPath = root + "/.shards"
        if let bytes = try FilesystemStorage.readWholeFile(shardsPath, blobID: ".shards") {
            sharding = try ShardingParameters.decode(bytes)
        } else {
            sharding = FilesystemStorage.detectLayout(root: root)
        }
    }

    /// Uses explicit sharding parameters (tests, or a caller that knows the layout).
    public init(root: String, sharding: ShardingParameters) {
        self.root = root
        self.sharding = sharding
    }

    public var displayName: String { "filesystem://\(root)" }

    /// The absolute path of a blob's file.
    public func path(for blobID: String) -> String {
        root + "/" + sharding.relativePath(for: blobID).joined(separator: "/")
    }

    public func read(_ id: String) async throws -> [UInt8] {
        let path = try checkedPath(id)
        return try await BlockingIO.run {
            guard let bytes = try FilesystemStorage.readWholeFile(path, blobID: id) else {
                throw KopiaError(.blobNotFound, "blob is missing from the repository", blobID: id, path: path)
            }
            return bytes
        }
    }

    public func read(_ id: String, offset: Int64, length: Int) async throws -> [UInt8] {
        guard offset >= 0, length >= 0 else {
            throw KopiaError(.invalidArgument, "negative offset \(offset) or length \(length)", blobID: id)
        }
        let path = try checkedPath(id)
        return try await BlockingIO.run {
            let fd = try FilesystemStorage.openForReading(path, blobID: id)
            defer { close(fd) }
            var out = [UInt8](repeating: 0, count: length)
            var done = 0
            while done < length {
                let n = out.withUnsafeMutableBytes { buf in
                    pread(fd, buf.baseAddress.map { $0 + done }, length - done, off_t(offset) + off_t(done))
                }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FilesystemStorage.error(errno, "read", blobID: id, path: path)
                }
                if n == 0 {
                    throw KopiaError(.truncatedData,
                                     "blob is shorter than expected: wanted \(length) bytes at offset \(offset), got \(done)",
                                     blobID: id, path: path)
                }
                done += n
            }
            return out
        }
    }

    public func list(prefix: String) async throws -> [BlobMetadata] {
        let root = self.root
        return try await BlockingIO.run {
            var out: [BlobMetadata] = []
            try FilesystemStorage.walk(directory: root, accumulated: "", prefix: prefix, into: &out)
            return out
        }
    }

    public func metadata(_ id: String) async throws -> BlobMetadata {
        let path = try checkedPath(id)
        return try await BlockingIO.run {
            var st = stat()
            guard stat(path, &st) == 0 else { throw FilesystemStorage.error(errno, "stat", blobID: id, path: path) }
            return BlobMetadata(id: id, length: Int64(st.st_size), modified: FilesystemStorage.modified(st))
        }
    }

    public func write(_ id: String, _ data: [UInt8]) async throws {
        let path = try checkedPath(id)
        let components = sharding.relativePath(for: id)
        let root = self.root
        try await BlockingIO.run {
            var dir = root
            for component in components.dropLast() {
                dir += "/" + component
                if mkdir(dir, 0o700) != 0 && errno != EEXIST {
                    throw FilesystemStorage.error(errno, "create directory", blobID: id, path: dir)
                }
            }
            let temp = path + ".tmp." + Hex.encode((0..<8).map { _ in UInt8.random(in: 0...255) })
            let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw FilesystemStorage.error(errno, "create", blobID: id, path: temp) }
            var written = 0
            while written < data.count {
                let n = data.withUnsafeBytes { buf in Glibc.write(fd, buf.baseAddress.map { $0 + written }, data.count - written) }
                if n < 0 {
                    if errno == EINTR { continue }
                    let e = errno
                    close(fd)
                    unlink(temp)
                    throw FilesystemStorage.error(e, "write", blobID: id, path: temp)
                }
                written += n
            }
            let syncFailed = fsync(fd) != 0
            let e = errno
            close(fd)
            if syncFailed {
                unlink(temp)
                throw FilesystemStorage.error(e, "sync", blobID: id, path: temp)
            }
            guard rename(temp, path) == 0 else {
                let e = errno
                unlink(temp)
                throw FilesystemStorage.error(e, "rename", blobID: id, path: path)
            }
        }
    }

    public func delete(_ id: String) async throws {
        let path = try checkedPath(id)
        try await BlockingIO.run {
            if unlink(path) != 0 && errno != ENOENT {
                throw FilesystemStorage.error(errno, "delete", blobID: id, path: path)
            }
        }
    }

    // MARK: - Helpers

    /// Rejects IDs that could leave the root or collide with non-blob files.
    private func checkedPath(_ id: String) throws(KopiaError) -> String {
        guard !id.isEmpty, !id.contains("/"), !id.contains("\0"), id != ".", id != ".." else {
            throw KopiaError(.invalidArgument, "\"\(id)\" is not a valid blob ID", blobID: id)
        }
        return path(for: id)
    }

    static func detectLayout(root: String) -> ShardingParameters {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        var short = false
        var long = false
        for name in names where !name.hasPrefix(".") {
            var st = stat()
            guard stat(root + "/" + name, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { continue }
            if name.utf8.count == 1 { short = true } else if name.utf8.count == 3 { long = true }
        }
        if short { return .current }
        if long { return .legacy }
        // No shard directories: an existing repository without `.shards` is legacy, an empty root is new.
        return names.contains("kopia.repository.f") ? .legacy : .current
    }

    static func openForReading(_ path: String, blobID: String) throws(KopiaError) -> Int32 {
        while true {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd >= 0 { return fd }
            if errno == EINTR { continue }
            throw error(errno, "open", blobID: blobID, path: path)
        }
    }

    /// Reads a whole file; nil when it does not exist.
    static func readWholeFile(_ path: String, blobID: String) throws(KopiaError) -> [UInt8]? {
        let fd: Int32
        do {
            fd = try openForReading(path, blobID: blobID)
        } catch where error.code == .blobNotFound {
            return nil
        }
        defer { close(fd) }
        var st = stat()
        let expected = fstat(fd, &st) == 0 ? max(Int(st.st_size), 0) : 0
        var out = [UInt8](repeating: 0, count: expected)
        var done = 0
        while true {
            if done == out.count { out.append(contentsOf: repeatElement(0, count: max(4096, out.count / 2))) }
            let n = out.withUnsafeMutableBytes { buf in Glibc.read(fd, buf.baseAddress.map { $0 + done }, buf.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw error(errno, "read", blobID: blobID, path: path)
            }
            if n == 0 { break }
            done += n
        }
        out.removeSubrange(done...)
        return out
    }

    static func walk(directory: String, accumulated: String, prefix: String, into out: inout [BlobMetadata])
        throws(KopiaError)
    {
        guard let dir = opendir(directory) else {
            if errno == ENOENT { return }
            throw error(errno, "list", blobID: nil, path: directory)
        }
        defer { closedir(dir) }
        let fd = dirfd(dir)
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            var st = stat()
            guard fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }  // vanished meanwhile
            let full = accumulated + name
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                if full.hasPrefix(prefix) || prefix.hasPrefix(full) {
                    try walk(directory: directory + "/" + name, accumulated: full, prefix: prefix, into: &out)
                }
            case S_IFREG:
                guard name.hasSuffix(".f") else { continue }
                let id = String(full.dropLast(2))
                if !id.isEmpty, id.hasPrefix(prefix) {
                    out.append(BlobMetadata(id: id, length: Int64(st.st_size), modified: modified(st)))
                }
            default:
                continue
            }
        }
    }

    static func modified(_ st: stat) -> Date {
        Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
    }

    static func error(_ code: Int32, _ operation: String, blobID: String?, path: String) -> KopiaError {
        let reason = String(cString: strerror(code))
        switch code {
        case ENOENT, ENOTDIR:
            return KopiaError(.blobNotFound, "blob is missing from the repository", blobID: blobID, path: path)
        case EACCES, EPERM, EROFS:
            return KopiaError(.storageFailure, "cannot \(operation): \(reason); check the permissions of the repository",
                              blobID: blobID, path: path)
        case ENOSPC, EDQUOT:
            return KopiaError(.storageFailure, "cannot \(operation): \(reason); free some space", retry: .transient,
                              blobID: blobID, path: path)
        default:
            return KopiaError(.storageFailure, "cannot \(operation): \(reason)", retry: .transient,
                              blobID: blobID, path: path)
        }
    }
}
