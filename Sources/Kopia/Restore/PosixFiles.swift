#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The system calls a restore makes, each relative to a directory descriptor and never following a symlink in
/// the last component: the one place that owns their error policy (retry EINTR; throw `KopiaError` `.ioFailure`
/// or `.unsafePath` naming the path otherwise). Blocking: call from `BlockingIO` work, never from the
/// cooperative pool directly.
enum PosixFiles {
    static func failure(_ operation: String, _ code: Int32, path: String) -> KopiaError {
        let reason = String(cString: strerror(code))
        if code == ELOOP || code == ENOTDIR {
            return KopiaError(.unsafePath,
                              "\(operation): a symlink or non-directory is in the way (\(reason)); not followed",
                              path: path)
        }
        return KopiaError(.ioFailure, "\(operation) failed: \(reason)", path: path)
    }

    static func retrying(_ call: () -> Int32) -> Int32 {
        while true {
            let r = call()
            if r >= 0 || errno != EINTR { return r }
        }
    }

    /// Opens directory `name` inside `parent` without following a symlink.
    static func openDirectory(_ parent: Int32, _ name: String, path: String) throws(KopiaError) -> Int32 {
        let fd = retrying { openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        guard fd >= 0 else { throw failure("opening directory", errno, path: path) }
        return fd
    }

    /// Opens (or creates, with every missing parent) a target directory given by the user. The user's path may
    /// hold symlinks; everything below it is opened without following any.
    static func openTarget(_ path: String) throws(KopiaError) -> Int32 {
        var built = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            built += (built.isEmpty || built.hasSuffix("/") ? "" : "/") + component
            if mkdir(built, 0o755) != 0, errno != EEXIST {
                throw failure("creating the target directory", errno, path: built)
            }
        }
        let fd = retrying { open(path.isEmpty ? "." : path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else { throw failure("opening the target directory", errno, path: path) }
        return fd
    }

    /// Creates directory `name` (mode 0700 until its metadata is applied); an existing entry is left alone (the
    /// following `openDirectory` refuses it unless it is a real directory).
    static func makeDirectory(_ parent: Int32, _ name: String, path: String) throws(KopiaError) {
        if retrying({ mkdirat(parent, name, 0o700) }) != 0, errno != EEXIST {
            throw failure("creating directory", errno, path: path)
        }
    }

    /// Creates or truncates the regular file `name` for writing (mode 0600), never following a symlink and never
    /// blocking on a FIFO; whatever non-regular entry holds the name is removed first.
    static func createFile(_ parent: Int32, _ name: String, path: String) throws(KopiaError) -> Int32 {
        for attempt in 0..<2 {
            let fd = retrying {
                openat(parent, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0o600)
            }
            if fd >= 0 {
                var st = stat()
                if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG { return fd }
                close(fd)
            } else if errno != ELOOP && errno != ENXIO && errno != EISDIR || attempt == 1 {
                throw failure("creating file", errno, path: path)
            }
            // A symlink, FIFO or other special file holds the temporary name: remove it, never use it.
            if retrying({ unlinkat(parent, name, 0) }) != 0 {
                throw failure("removing a non-regular file in the way", errno, path: path)
            }
        }
        throw KopiaError(.unsafePath, "a non-regular file keeps reappearing in the way", path: path)
    }

    /// Writes all of `bytes` at `offset`.
    static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64, path: String) throws(KopiaError) {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress.map { $0 + done }, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("writing", errno, path: path)
            }
            done += n
        }
    }

    static func truncate(_ fd: Int32, to size: Int64, path: String) throws(KopiaError) {
        guard retrying({ ftruncate(fd, off_t(size)) }) == 0 else { throw failure("setting the file size", errno, path: path) }
    }

    static func rename(_ parent: Int32, from: String, to: String, path: String) throws(KopiaError) {
        guard retrying({ renameat(parent, from, parent, to) }) == 0 else {
            throw failure("renaming into place", errno, path: path)
        }
    }

    /// Removes a file, ignoring a missing one.
    static func unlink(_ parent: Int32, _ name: String) {
        _ = retrying { unlinkat(parent, name, 0) }
    }

    static func symlink(_ target: String, _ parent: Int32, _ name: String, path: String) throws(KopiaError) {
        guard retrying({ symlinkat(target, parent, name) }) == 0 else { throw failure("creating symlink", errno, path: path) }
    }

    /// `lstat` of `name` inside `parent`; nil when it does not exist.
    static func status(_ parent: Int32, _ name: String) -> stat? {
        var st = stat()
        return fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? st : nil
    }

    /// The target of symlink `name`, nil when it is not a symlink.
    static func linkTarget(_ parent: Int32, _ name: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4097)
        let n = readlinkat(parent, name, &buffer, buffer.count - 1)
        guard n >= 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
