/// Walks a snapshot tree depth first and hands it out as bounded `RestorePlan` windows (kopia-format.md §12.1,
/// §9.2): directory listings, the chunk lists of multi-chunk files and symlink targets, read ahead concurrently.
///
/// Memory is bounded by the tree's depth and the window size, never by its number of entries: the walk holds the
/// listings of the directories on its path from the root (and a few read ahead), and a window closes once it
/// holds `windowEntries` files, symlinks and directories, or about `windowChunks` chunks.
///
/// Read-only: nothing is written anywhere. Listings that cannot be read or are refused (names that are empty,
/// `.`, `..`, or hold `/` or NUL; duplicate names) become `RestorePlan.Failure`s and their subtree is left out;
/// the walk itself only throws on cancellation. One caller at a time (an actor): windows come out in order.
public actor RestorePlanner {
    public let repository: KopiaRepository
    /// Concurrent listing / chunk-list / symlink reads.
    public let concurrency: Int
    /// Files, symlinks and directories per window.
    public let windowEntries: Int
    /// Chunks per window (estimated from file sizes while walking).
    public let windowChunks: Int
    private let include: @Sendable (RestorePlan.PlannedFile) -> Bool

    private struct Frame {
        let id: Int
        let path: String
        let entries: [DirectoryEntry]
        let objectID: String?
        var next = 0
        /// Entries up to here were considered for read-ahead.
        var prefetched = 0
        var seen = Set<String>()
    }

    private let root: DirectoryEntry
    private var started = false
    private var stack: [Frame] = []
    private var nextDirectoryID = 1
    private var leavesSeen = 0
    private var filesSeen = 0
    private var prefetch: [ObjectID: Task<Result<Directory, KopiaError>, Never>] = [:]

    /// - Parameters:
    ///   - root: a snapshot's root entry.
    ///   - include: decides per file whether it is planned (`verify --percent`); called once per file, in walk
    ///     order.
    public init(repository: KopiaRepository, root: DirectoryEntry, concurrency: Int = 16, windowEntries: Int = 4096,
                windowChunks: Int = 65536,
                include: @escaping @Sendable (RestorePlan.PlannedFile) -> Bool = { _ in true }) {
        self.repository = repository
        self.root = root
        self.concurrency = max(1, concurrency)
        self.windowEntries = max(1, windowEntries)
        self.windowChunks = max(1, windowChunks)
        self.include = include
    }

    deinit {
        for task in prefetch.values { task.cancel() }
    }

    /// Files seen so far, planned or not.
    public var filesWalked: Int { filesSeen }

    /// The next window, or nil when the walk is complete.
    public func nextWindow() async throws -> RestorePlan? {
        try Task.checkCancellation()
        var window = RestorePlan()
        if !started {
            started = true
            switch root.type {
            case .directory:
                window.directories.append(.init(id: 0, parent: nil, name: "", entry: root, path: "",
                                                temporaryPrefix: TemporaryName.defaultPrefix))
                await enter(id: 0, entry: root, path: "", into: &window)
            case .file, .symlink:
                window.directories.append(.init(id: 0, parent: nil, name: "", entry: nil, path: "",
                                                temporaryPrefix: TemporaryName.defaultPrefix))
                try await addLeaves([(0, root, root.name)], to: &window)
                window.finishedDirectories.append(0)
                return window
            case .other:
                window.failures.append(.init(path: root.name, error: KopiaError(
                    .invalidDirectory, "the snapshot root is a \(root.type); nothing can be restored",
                    objectID: root.objectID.description)))
                return window
            }
        } else if stack.isEmpty {
            return nil
        }
        var leaves: [(parent: Int, entry: DirectoryEntry, path: String)] = []
        var entries = 0
        var chunks = 0
        while let top = stack.last, entries < windowEntries, chunks < windowChunks {
            guard top.next < top.entries.count else {
                stack.removeLast()
                window.finishedDirectories.append(top.id)
                continue
            }
            let entry = top.entries[top.next]
            stack[stack.count - 1].next += 1
            let path = top.path.isEmpty ? entry.name : top.path + "/" + entry.name
            guard TemporaryName.isSafe(entry.name) else {
                window.failures.append(.init(path: top.path, error: KopiaError(
                    .unsafePath, "directory holds an entry with the unsafe name \"\(entry.name)\"; refused",
                    objectID: top.objectID, path: top.path)))
                continue
            }
            guard stack[stack.count - 1].seen.insert(entry.name).inserted else {
                window.failures.append(.init(path: path, error: KopiaError(
                    .unsafePath, "directory holds two entries named \"\(entry.name)\"; the second is refused",
                    objectID: top.objectID, path: path)))
                continue
            }
            entries += 1
            switch entry.type {
            case .directory:
                let id = nextDirectoryID
                nextDirectoryID += 1
                window.directories.append(.init(id: id, parent: top.id, name: entry.name, entry: entry, path: path,
                                                temporaryPrefix: TemporaryName.defaultPrefix))
                await enter(id: id, entry: entry, path: path, into: &window)
            case .file, .symlink:
                leaves.append((top.id, entry, path))
                chunks += entry.type == .file ? Int(min(entry.size >> 20, Int64(windowChunks))) + 1 : 1
            case .other:
                window.failures.append(.init(path: path, error: KopiaError(
                    .invalidDirectory, "entry has the \(entry.type); only files, directories and symlinks are restored",
                    objectID: entry.objectID.description, path: path)))
            }
        }
        try await addLeaves(leaves, to: &window)
        return window
    }

    /// Reads the listing of a directory just entered and pushes it (a failed read is reported and the directory
    /// finishes at once, empty).
    private func enter(id: Int, entry: DirectoryEntry, path: String, into window: inout RestorePlan) async {
        let listing: Result<Directory, KopiaError>
        if let task = prefetch.removeValue(forKey: entry.objectID) {
            listing = await task.value
        } else {
            listing = await Self.load(repository, entry.objectID)
        }
        switch listing {
        case .failure(let error):
            window.failures.append(.init(path: path, error: error.adding(path: path)))
            window.finishedDirectories.append(id)
        case .success(let directory):
            let names = directory.entries.map(\.name)
            let prefix = TemporaryName.prefix(avoiding: names)
            if prefix != TemporaryName.defaultPrefix, let last = window.directories.last, last.id == id {
                window.directories[window.directories.count - 1] = .init(
                    id: id, parent: last.parent, name: last.name, entry: last.entry, path: last.path,
                    temporaryPrefix: prefix)
            }
            stack.append(Frame(id: id, path: path, entries: directory.entries, objectID: entry.objectID.description))
            readAhead()
        }
    }

    /// Starts reading the listings the walk will enter next: the deepest directory's subdirectories first, then
    /// its ancestors' remaining ones, keeping at most `concurrency` reads in flight or waiting.
    private func readAhead() {
        var level = stack.count - 1
        while level >= 0, prefetch.count < concurrency {
            var frame = stack[level]
            while frame.prefetched < frame.entries.count, prefetch.count < concurrency {
                let e = frame.entries[frame.prefetched]
                frame.prefetched += 1
                if e.type == .directory, frame.prefetched > frame.next, prefetch[e.objectID] == nil {
                    let repository = self.repository
                    prefetch[e.objectID] = Task { await Self.load(repository, e.objectID) }
                }
            }
            stack[level].prefetched = frame.prefetched
            level -= 1
        }
    }

    private static func load(_ repository: KopiaRepository, _ id: ObjectID) async -> Result<Directory, KopiaError> {
        do {
            return .success(try await repository.directory(id))
        } catch {
            return .failure(KopiaError.wrap(error))
        }
    }

    /// Resolves files (chunk lists) and symlinks (targets) concurrently and appends them in the given order.
    private func addLeaves(_ leaves: [(parent: Int, entry: DirectoryEntry, path: String)],
                           to window: inout RestorePlan) async throws {
        try Task.checkCancellation()
        // Direct file objects need no read; only symlink targets and chunk lists go through the read pool.
        var resolved = leaves.map { leaf -> Result<Leaf, KopiaError>? in
            guard leaf.entry.type != .symlink, leaf.entry.objectID.indirection == 0 else { return nil }
            let id = leaf.entry.objectID
            return .success(.chunks([ObjectChunk(start: 0, length: leaf.entry.size, contentID: id.contentID,
                                                 isCompressed: id.isCompressed)], direct: true))
        }
        let needRead = resolved.indices.filter { resolved[$0] == nil }
        let repository = self.repository
        let read = await concurrentMap(needRead.map { leaves[$0].entry }) { entry -> Result<Leaf, KopiaError> in
            do {
                if entry.type == .symlink {
                    return .success(.symlink(try await repository.symlinkTarget(entry)))
                }
                return .success(.chunks(try await Self.flatten(repository, entry.objectID, depth: 0), direct: false))
            } catch {
                return .failure(KopiaError.wrap(error).adding(objectID: entry.objectID.description))
            }
        }
        for (i, r) in zip(needRead, read) { resolved[i] = r }
        for (leaf, outcome) in zip(leaves, resolved) {
            guard let result = outcome else { continue }
            let ordinal = leavesSeen
            leavesSeen += 1
            switch result {
            case .failure(let error):
                if leaf.entry.type == .file { filesSeen += 1 }
                window.failures.append(.init(path: leaf.path, error: error.adding(path: leaf.path)))
            case .success(.symlink(let target)):
                window.symlinks.append(.init(parent: leaf.parent, name: leaf.entry.name, entry: leaf.entry,
                                             path: leaf.path, target: target, ordinal: ordinal))
            case .success(.chunks(let chunks, let direct)):
                filesSeen += 1
                let file = RestorePlan.PlannedFile(parent: leaf.parent, name: leaf.entry.name, entry: leaf.entry,
                                                   path: leaf.path, chunks: chunks, ordinal: ordinal,
                                                   lengthFromContent: direct)
                if include(file) { window.files.append(file) }
            }
        }
    }

    private enum Leaf: Sendable {
        case chunks([ObjectChunk], direct: Bool)
        case symlink(String)
    }

    /// The flat chunk list of an indirect object (kopia-format.md §9.2), checking nested lengths.
    private static func flatten(_ repository: KopiaRepository, _ id: ObjectID, depth: Int) async throws
        -> [ObjectChunk]
    {
        guard let listID = id.listObject else { return [] }
        guard depth <= ObjectID.maximumIndirection else {
            throw KopiaError(.corruptContent, "indirect objects nest more than \(ObjectID.maximumIndirection) levels",
                             objectID: id.description)
        }
        let entries = try IndirectObjectList.parse(try await repository.objects.read(listID, maximumLength: 64 << 20),
                                                   objectID: id)
        var chunks: [ObjectChunk] = []
        chunks.reserveCapacity(entries.count)
        for entry in entries {
            if entry.object.indirection == 0 {
                chunks.append(ObjectChunk(start: entry.start, length: entry.length, contentID: entry.object.contentID,
                                          isCompressed: entry.object.isCompressed))
                continue
            }
            let inner = try await flatten(repository, entry.object, depth: depth + 1)
            guard (inner.last?.end ?? 0) == entry.length else {
                throw KopiaError(.corruptContent,
                                 "nested object \(entry.object) is \(inner.last?.end ?? 0) bytes, its entry says \(entry.length)",
                                 objectID: id.description)
            }
            chunks += inner.map {
                ObjectChunk(start: entry.start + $0.start, length: $0.length, contentID: $0.contentID,
                            isCompressed: $0.isCompressed)
            }
        }
        return chunks
    }

    /// Maps `items` with at most `concurrency` calls in flight; results keep the input order. Items that need no
    /// read (direct file objects) cost no task.
    private func concurrentMap<T: Sendable, R: Sendable>(_ items: [T], _ body: @escaping @Sendable (T) async -> R)
        async -> [R]
    {
        if items.count <= 1 {
            var out: [R] = []
            for item in items { out.append(await body(item)) }
            return out
        }
        let width = concurrency
        return await withTaskGroup(of: (Int, R).self) { group in
            var results = [R?](repeating: nil, count: items.count)
            var nextIndex = 0
            for _ in 0..<min(width, items.count) {
                let i = nextIndex
                group.addTask { (i, await body(items[i])) }
                nextIndex += 1
            }
            while let (i, r) = await group.next() {
                results[i] = r
                if nextIndex < items.count {
                    let j = nextIndex
                    group.addTask { (j, await body(items[j])) }
                    nextIndex += 1
                }
            }
            return results.compactMap { $0 }
        }
    }
}

extension KopiaError {
    /// `error` as a `KopiaError` (other errors become `.ioFailure` with the error as cause).
    static func wrap(_ error: any Error) -> KopiaError {
        if let e = error as? KopiaError { return e }
        if error is CancellationError { return KopiaError(.cancelled, "the restore was cancelled") }
        return KopiaError(.ioFailure, "\(error)", cause: error)
    }
}
