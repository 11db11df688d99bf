#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The directories of a restore that are in flight, and their open descriptors, each opened relative to its
/// parent's descriptor with `O_NOFOLLOW | O_DIRECTORY` — so no path the restore touches ever goes through a
/// symlink, whatever the snapshot or the target already holds (a symlink `a -> /etc` in the way makes `a/…`
/// fail, never reach `/etc`).
///
/// A directory is registered when its window enters it and released once its metadata is applied, so the table
/// holds only the directories between the root and the files in flight. Up to `limit` descriptors stay cached
/// until their directory is released (cached ones are never closed earlier, so a caller may use one outside
/// the lock); beyond that, directories are opened for one use and closed. Thread-safe.
final class DirectoryHandles: Sendable {
    private let limit: Int
    private let state: Mutex<State>

    private struct Node {
        let parent: Int?
        let name: String
        let path: String
        let temporaryPrefix: String
        /// The snapshot's entry (its metadata is applied when the directory finishes); nil for a target without.
        let entry: DirectoryEntry?
        var fd: Int32 = -1
        /// Why the directory cannot be used (it could not be created or opened); its subtree fails with this.
        var blocked: KopiaError?
    }

    private struct State {
        var nodes: [Int: Node] = [:]
        var cached = 0
    }

    /// - Parameter root: the target directory's descriptor (directory 0); owned from now on (closed by
    ///   `closeAll` or `release(0)`).
    init(root: Int32, limit: Int = 1024) {
        self.limit = max(1, limit)
        var s = State()
        s.nodes[0] = Node(parent: nil, name: "", path: "", temporaryPrefix: TemporaryName.defaultPrefix, entry: nil,
                          fd: root)
        s.cached = 1
        state = Mutex(s)
    }

    /// Adds a directory a window entered (its parent must be registered). The root (0) keeps its descriptor
    /// and takes the entry and prefix.
    func register(_ dir: RestorePlan.PlannedDirectory) {
        state.withLock { s in
            let existing = s.nodes[dir.id]
            s.nodes[dir.id] = Node(parent: dir.parent, name: dir.name, path: dir.path,
                                   temporaryPrefix: dir.temporaryPrefix, entry: dir.entry, fd: existing?.fd ?? -1,
                                   blocked: existing?.blocked)
        }
    }

    /// The entry and path of registered directory `id`.
    func entry(_ id: Int) -> (entry: DirectoryEntry?, path: String)? {
        state.withLock { s in s.nodes[id].map { ($0.entry, $0.path) } }
    }

    /// The prefix of temporary names in directory `id`.
    func temporaryPrefix(_ id: Int) -> String {
        state.withLock { $0.nodes[id]?.temporaryPrefix ?? TemporaryName.defaultPrefix }
    }

    /// Marks a directory unusable; files and directories below it then fail with `error`.
    func block(_ id: Int, _ error: KopiaError) {
        state.withLock { s in s.nodes[id]?.blocked = error }
    }

    /// Why directory `id` (or an ancestor, at registration) cannot be used; nil when it can.
    func blocked(_ id: Int) -> KopiaError? {
        state.withLock { $0.nodes[id]?.blocked }
    }

    /// Whether `block` was called for `id`.
    func isBlocked(_ id: Int) -> Bool { blocked(id) != nil }

    /// Forgets a finished directory and closes its descriptor. Call only once nothing below it is in flight.
    func release(_ id: Int) {
        let fd = state.withLock { s -> Int32 in
            guard let node = s.nodes.removeValue(forKey: id) else { return -1 }
            if node.fd >= 0 { s.cached -= 1 }
            return node.fd
        }
        if fd >= 0 { close(fd) }
    }

    /// Runs `body` with an open descriptor of directory `id` (opening its ancestors as needed).
    func withDirectory<R>(_ id: Int, _ body: (Int32) throws(KopiaError) -> R) throws(KopiaError) -> R {
        let node = state.withLock { $0.nodes[id] }
        guard let node else {
            throw KopiaError(.ioFailure, "the restore lost track of a directory", path: nil)
        }
        if let blocked = node.blocked { throw blocked }
        if node.fd >= 0 { return try body(node.fd) }
        guard let parent = node.parent else {
            throw KopiaError(.ioFailure, "the target directory is closed", path: node.path)
        }
        let opened = try withDirectory(parent) { (pfd: Int32) throws(KopiaError) -> Int32 in
            try PosixFiles.openDirectory(pfd, node.name, path: node.path)
        }
        let outcome = state.withLock { s -> HandleOutcome in
            guard let current = s.nodes[id] else { return .transient }
            if current.fd >= 0 { return .existing(current.fd) }
            guard s.cached < limit else { return .transient }
            s.nodes[id]?.fd = opened
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

    /// Closes every cached descriptor and forgets every directory. Call once, after all users finished.
    func closeAll() {
        let fds = state.withLock { s -> [Int32] in
            let fds = s.nodes.values.map(\.fd).filter { $0 >= 0 }
            s.nodes = [:]
            s.cached = 0
            return fds
        }
        for fd in fds { close(fd) }
    }
}
