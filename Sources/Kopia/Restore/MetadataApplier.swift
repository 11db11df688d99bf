#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Applies an entry's ownership, permissions and times (kopia-format.md §12.2 "Attributes"): owner first (a
/// chown clears setuid/setgid), then the mode with setuid/setgid/sticky, then atime = mtime = the entry's mtime
/// to the nanosecond. Files and directories are changed through their own descriptor; symlinks through their
/// parent with `AT_SYMLINK_NOFOLLOW` (Linux cannot chmod a symlink; its mode is skipped, as Kopia does).
///
/// Ownership is applied only when `restoreOwnership` and the process runs as root; a failing chown with EPERM
/// is ignored (Kopia's `--ignore-permission-errors`, default on). Stateless apart from its settings.
struct MetadataApplier: Sendable {
    let applyOwnership: Bool

    init(restoreOwnership: Bool) {
        applyOwnership = restoreOwnership && geteuid() == 0
    }

    static func timespecs(_ time: KopiaTime) -> [timespec] {
        let t = timespec(tv_sec: time_t(time.seconds), tv_nsec: Int(time.nanoseconds))
        return [t, t]
    }

    /// Applies `entry`'s metadata to the open file or directory `fd`.
    func apply(_ entry: DirectoryEntry, fd: Int32, path: String) throws(KopiaError) {
        if applyOwnership, fchown(fd, entry.uid, entry.gid) != 0, errno != EPERM {
            throw PosixFiles.failure("setting the owner", errno, path: path)
        }
        if fchmod(fd, mode_t(entry.permissions.rawValue)) != 0 {
            throw PosixFiles.failure("setting the mode", errno, path: path)
        }
        let times = Self.timespecs(entry.modified)
        if futimens(fd, times) != 0 {
            throw PosixFiles.failure("setting the modification time", errno, path: path)
        }
    }

    /// Applies `entry`'s owner and times to the symlink `name` in `parent` (never its target).
    func applySymlink(_ entry: DirectoryEntry, parent: Int32, name: String, path: String) throws(KopiaError) {
        if applyOwnership, fchownat(parent, name, entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW) != 0, errno != EPERM {
            throw PosixFiles.failure("setting the symlink's owner", errno, path: path)
        }
        let times = Self.timespecs(entry.modified)
        if utimensat(parent, name, times, AT_SYMLINK_NOFOLLOW) != 0 {
            throw PosixFiles.failure("setting the symlink's modification time", errno, path: path)
        }
    }
}
