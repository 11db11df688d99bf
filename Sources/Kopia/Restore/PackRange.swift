#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes of one ranged pack read: an array, or a read-only memory mapping of a pack file on a filesystem
/// repository (no copy out of the page cache, no zero-filled buffer). Owns the mapping; `deinit` unmaps it.
///
/// Immutable after init; the bytes are only read, so sharing across threads is safe.
final class PackRange: @unchecked Sendable {
    // @unchecked: `storage` never changes after init and the mapped memory is read-only.
    private enum Storage {
        case array([UInt8])
        case mapped(base: UnsafeMutableRawPointer, mappedLength: Int, delta: Int, count: Int)
    }

    private let storage: Storage

    init(_ bytes: [UInt8]) {
        storage = .array(bytes)
    }

    var count: Int {
        switch storage {
        case .array(let a): a.count
        case .mapped(_, _, _, let count): count
        }
    }

    /// Calls `body` with the range's bytes (valid only during the call).
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case .array(let a):
            return try a.withUnsafeBytes(body)
        case .mapped(let base, _, let delta, let count):
            return try body(UnsafeRawBufferPointer(start: base + delta, count: count))
        }
    }

    /// Maps `[offset, offset + length)` of the pack file at `path` read-only. The file's size is checked first,
    /// so the mapping never reaches past its end (no SIGBUS on a short pack: `.corruptBlob` instead).
    init(mapping path: String, offset: Int64, length: Int, blobID: String) throws(KopiaError) {
        var fd: Int32
        repeat { fd = open(path, O_RDONLY | O_CLOEXEC) } while fd < 0 && errno == EINTR
        guard fd >= 0 else {
            if errno == ENOENT {
                throw KopiaError(.blobNotFound, "pack blob is missing from the repository; the contents it held cannot be read",
                                 blobID: blobID, path: path)
            }
            throw KopiaError(.storageFailure, "cannot open the pack: \(String(cString: strerror(errno)))",
                             blobID: blobID, path: path)
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, offset >= 0, length >= 0, offset + Int64(length) <= Int64(st.st_size) else {
            throw KopiaError(.corruptBlob, "pack blob is shorter than the index says; it is truncated",
                             blobID: blobID, path: path)
        }
        guard length > 0 else {
            storage = .array([])
            return
        }
        let page = Int64(sysconf(Int32(_SC_PAGESIZE)))
        let aligned = offset - offset % page
        let delta = Int(offset - aligned)
        let mappedLength = length + delta
        guard let base = mmap(nil, mappedLength, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, off_t(aligned)),
              base != MAP_FAILED
        else {
            throw KopiaError(.storageFailure, "cannot map the pack: \(String(cString: strerror(errno)))",
                             blobID: blobID, path: path)
        }
        storage = .mapped(base: base, mappedLength: mappedLength, delta: delta, count: length)
    }

    deinit {
        if case .mapped(let base, let mappedLength, _, _) = storage {
            munmap(base, mappedLength)
        }
    }
}
