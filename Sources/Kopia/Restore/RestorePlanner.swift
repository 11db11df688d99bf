/// Walks a snapshot tree and builds a `RestorePlan` (kopia-format.md §12.1, §9.2): directory listings level by
/// level, chunk lists of multi-chunk files, and symlink targets, each level's reads running concurrently.
///
/// Read-only: nothing is written anywhere. Listings that cannot be read or are refused (names that are empty,
/// `.`, `..`, or hold `/` or NUL; duplicate names) become `RestorePlan.Failure`s and their subtree is left out;
/// planning itself only throws on cancellation.
public struct RestorePlanner: Sendable {
    public let repository: KopiaRepository
    /// Concurrent listing / chunk-list / symlink reads.
    public let concurrency: Int

    public init(repository: KopiaRepository, concurrency: Int = 16) {
        self.repository = repository
        self.concurrency = max(1, concurrency)
    }

    /// Plans the restore of `root` (a snapshot's root entry) into a target directory.
    /// - Parameter include: decides per file whether it is planned (`--skip-existing`, `verify --percent`);
    ///   called once per file, in plan order, from the planning task.
    public func plan(root: DirectoryEntry, include: (RestorePlan.PlannedFile) -> Bool = { _ in true }) async throws
        -> RestorePlan
    {
        var plan = RestorePlan()
        switch root.type {
        case .directory:
            plan.directories.append(.init(parent: nil, name: "", entry: root, path: "",
                                          temporaryPrefix: TemporaryName.defaultPrefix))
        case .file, .symlink:
            plan.directories.append(.init(parent: nil, name: "", entry: nil, path: "",
                                          temporaryPrefix: TemporaryName.defaultPrefix))
            try await addLeaves([(0, root, root.name)], to: &plan, include: include)
            return plan
        case .other:
            plan.failures.append(.init(path: root.name, error: KopiaError(
                .invalidDirectory, "the snapshot root is a \(root.type); nothing can be restored",
                objectID: root.objectID.description)))
            return plan
        }
        var level = [0]
        while !level.isEmpty {
            try Task.checkCancellation()
            let listed = level.map { plan.directories[$0].entry }
            let listings = await concurrentMap(listed) { entry -> Result<Directory, KopiaError> in
                guard let entry else { return .success(Directory(entries: [])) }
                do {
                    return .success(try await repository.directory(entry.objectID))
                } catch {
                    return .failure(KopiaError.wrap(error))
                }
            }
            var next: [Int] = []
            var leaves: [(Int, DirectoryEntry, String)] = []
            for (index, listing) in zip(level, listings) {
                let dir = plan.directories[index]
                let entries: [DirectoryEntry]
                switch listing {
                case .success(let d): entries = d.entries
                case .failure(let error):
                    plan.failures.append(.init(path: dir.path, error: error.adding(path: dir.path)))
                    continue
                }
                let prefix = TemporaryName.prefix(avoiding: entries.map(\.name))
                var seen = Set<String>()
                for entry in entries {
                    let path = dir.path.isEmpty ? entry.name : dir.path + "/" + entry.name
                    guard TemporaryName.isSafe(entry.name) else {
                        plan.failures.append(.init(path: dir.path, error: KopiaError(
                            .unsafePath, "directory holds an entry with the unsafe name \"\(entry.name)\"; refused",
                            objectID: dir.entry?.objectID.description, path: dir.path)))
                        continue
                    }
                    guard seen.insert(entry.name).inserted else {
                        plan.failures.append(.init(path: path, error: KopiaError(
                            .unsafePath, "directory holds two entries named \"\(entry.name)\"; the second is refused",
                            objectID: dir.entry?.objectID.description, path: path)))
                        continue
                    }
                    switch entry.type {
                    case .directory:
                        next.append(plan.directories.count)
                        plan.directories.append(.init(parent: index, name: entry.name, entry: entry, path: path,
                                                      temporaryPrefix: TemporaryName.defaultPrefix))
                    case .file, .symlink:
                        leaves.append((index, entry, path))
                    case .other:
                        plan.failures.append(.init(path: path, error: KopiaError(
                            .invalidDirectory, "entry has the \(entry.type); only files, directories and symlinks are restored",
                            objectID: entry.objectID.description, path: path)))
                    }
                }
                plan.directories[index] = .init(parent: dir.parent, name: dir.name, entry: dir.entry, path: dir.path,
                                                temporaryPrefix: prefix)
            }
            try await addLeaves(leaves, to: &plan, include: include)
            level = next
        }
        return plan
    }

    /// Resolves files (chunk lists) and symlinks (targets) concurrently and appends them in the given order.
    private func addLeaves(_ leaves: [(parent: Int, entry: DirectoryEntry, path: String)], to plan: inout RestorePlan,
                           include: (RestorePlan.PlannedFile) -> Bool) async throws {
        try Task.checkCancellation()
        let resolved = await concurrentMap(leaves) { leaf -> Result<Leaf, KopiaError> in
            do {
                switch leaf.entry.type {
                case .symlink:
                    return .success(.symlink(try await repository.symlinkTarget(leaf.entry)))
                default:
                    if leaf.entry.objectID.indirection == 0 {
                        let id = leaf.entry.objectID
                        return .success(.chunks([ObjectChunk(start: 0, length: leaf.entry.size,
                                                             contentID: id.contentID, isCompressed: id.isCompressed)],
                                                direct: true))
                    }
                    return .success(.chunks(try await flatten(leaf.entry.objectID, depth: 0), direct: false))
                }
            } catch {
                return .failure(KopiaError.wrap(error).adding(objectID: leaf.entry.objectID.description))
            }
        }
        for (leaf, result) in zip(leaves, resolved) {
            let ordinal = plan.leavesPlanned
            plan.leavesPlanned += 1
            switch result {
            case .failure(let error):
                plan.failures.append(.init(path: leaf.path, error: error.adding(path: leaf.path)))
            case .success(.symlink(let target)):
                plan.symlinks.append(.init(parent: leaf.parent, name: leaf.entry.name, entry: leaf.entry,
                                           path: leaf.path, target: target))
            case .success(.chunks(let chunks, let direct)):
                let file = RestorePlan.PlannedFile(parent: leaf.parent, name: leaf.entry.name, entry: leaf.entry,
                                                   path: leaf.path, chunks: chunks, ordinal: ordinal,
                                                   lengthFromContent: direct)
                if include(file) { plan.files.append(file) }
            }
        }
    }

    private enum Leaf: Sendable {
        case chunks([ObjectChunk], direct: Bool)
        case symlink(String)
    }

    /// The flat chunk list of an indirect object (kopia-format.md §9.2), checking nested lengths.
    private func flatten(_ id: ObjectID, depth: Int) async throws -> [ObjectChunk] {
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
            let inner = try await flatten(entry.object, depth: depth + 1)
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

    /// Maps `items` with at most `concurrency` calls in flight; results keep the input order.
    private func concurrentMap<T: Sendable, R: Sendable>(_ items: [T], _ body: @escaping @Sendable (T) async -> R)
        async -> [R]
    {
        if items.count <= 1 { return await items.asyncMap(body) }
        return await withTaskGroup(of: (Int, R).self) { group in
            var results = [R?](repeating: nil, count: items.count)
            var nextIndex = 0
            for _ in 0..<min(concurrency, items.count) {
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

extension Array where Element: Sendable {
    fileprivate func asyncMap<R>(_ body: (Element) async -> R) async -> [R] {
        var out: [R] = []
        for e in self { out.append(await body(e)) }
        return out
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
