#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Open descriptors of the plan's directories, each opened relative to its parent's descriptor with
/// `O_NOFOLLOW | O_DIRECTORY` — so no path the restore touches ever goes through a symlink, whatever the
/// snapshot or the target already holds (a symlink `a -> /etc` in the way makes `a/…` fail, never reach `/etc`).
///
/// Up to `limit` descriptors stay cached until `closeAll()` (cached ones are never closed earlier, so a caller
/// may use one outside the lock); beyond that, directories are opened for one use and closed. Thread-safe.
final class DirectoryHandles: Sendable {
    private let parents: [Int?]
    private let names: [String]
    private let paths: [String]
    private let limit: Int
    private let state: Mutex<State>

    private struct State {
        var descriptors: [Int32]
        var cached = 0
        /// Why a directory cannot be used (it could not be created or opened); its subtree fails with this.
        var blocked: [Int: KopiaError] = [:]
    }

    /// - Parameter root: the target directory's descriptor; owned from now on (closed by `closeAll`).
    init(root: Int32, plan: RestorePlan, limit: Int = 1024) {
        parents = plan.directories.map(\.parent)
        names = plan.directories.map(\.name)
        paths = plan.directories.map(\.path)
        self.limit = max(1, limit)
        var fds = [Int32](repeating: -1, count: plan.directories.count)
        if !fds.isEmpty { fds[0] = root }
        state = Mutex(State(descriptors: fds, cached: 1))
    }

    /// Marks a directory unusable; files and directories below it then fail with `error`.
    func block(_ index: Int, _ error: KopiaError) {
        state.withLock { _ = $0.blocked.updateValue(error, forKey: index) }
    }

    /// Whether `block` was called for `index`.
    func isBlocked(_ index: Int) -> Bool {
        state.withLock { $0.blocked[index] != nil }
    }

    /// Runs `body` with an open descriptor of directory `index` (opening its ancestors as needed).
    func withDirectory<R>(_ index: Int, _ body: (Int32) throws(KopiaError) -> R) throws(KopiaError) -> R {
        let (cached, blocked) = state.withLock { ($0.descriptors[index], $0.blocked[index]) }
        if let blocked { throw blocked }
        if cached >= 0 { return try body(cached) }
        guard let parent = parents[index] else {
            throw KopiaError(.ioFailure, "the target directory is closed", path: paths[index])
        }
        let opened = try withDirectory(parent) { (pfd: Int32) throws(KopiaError) -> Int32 in
            try PosixFiles.openDirectory(pfd, names[index], path: paths[index])
        }
        let outcome = state.withLock { s -> HandleOutcome in
            if s.descriptors[index] >= 0 { return .existing(s.descriptors[index]) }
            guard s.cached < limit else { return .transient }
            s.descriptors[index] = opened
            s.cached += 1
            return .stored
        }
        switch outcome {
        case .existing(let fd):
            close(opened)
            return try body(fd)
        case .stored:
            return try body(opened)
        case .transient:
            defer { close(opened) }
            return try body(opened)
        }
    }

    private enum HandleOutcome { case existing(Int32), stored, transient }

    /// Closes every cached descriptor. Call once, after all users finished.
    func closeAll() {
        state.withLock { s in
            for fd in s.descriptors where fd >= 0 { close(fd) }
            s.descriptors = s.descriptors.map { _ in -1 }
            s.cached = 0
        }
    }
}
