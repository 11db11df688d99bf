public import Logging
import Synchronization

/// Reads and authenticates what a snapshot references without writing anything (`ferry verify`): every
/// directory listing and chunk list (while planning), every symlink target, and the contents of every file — or
/// of a random sample of `percent` of the files — grouped by pack like a restore, each content decrypted
/// (AEAD-authenticated), decompressed and checked against its hash.
///
/// Damaged or missing data is reported per path, naming the pack blob and content. Same concurrency and memory
/// bounds as `SnapshotRestorer`.
public struct SnapshotVerifier: Sendable {
    public let repository: KopiaRepository
    public let options: RestoreOptions
    public let logger: Logger
    /// Chooses the sample when `percent` < 100; a `SeededRandomSource` makes the sample reproducible.
    public let random: any RandomSource

    public init(repository: KopiaRepository, options: RestoreOptions = RestoreOptions(),
                random: any RandomSource = SystemRandomSource(), logger: Logger) {
        self.repository = repository
        self.options = options
        self.random = random
        self.logger = logger
    }

    /// What a verify found.
    public struct Result: Sendable {
        /// Files whose contents were read (all, or the sample).
        public var filesChecked = 0
        public var filesInSnapshot = 0
        public var directories = 0
        public var symlinks = 0
        public var bytes: Int64 = 0
        public var contentsRead = 0
        public var packBytesRead: Int64 = 0
        /// Every damaged path (a listing, chunk list, symlink target or file content that failed).
        public var damaged: [RestoreResult.Failure] = []
        public var succeeded: Bool { damaged.isEmpty }
    }

    /// Verifies the tree under `root`.
    /// - Parameter percent: the share of files whose contents are read, 0...100 (listings are always read).
    /// - Throws: only on cancellation; damage is in the result.
    public func verify(_ root: DirectoryEntry, percent: Double = 100, progress: RestoreProgress = RestoreProgress())
        async throws -> Result
    {
        let share = min(max(percent, 0), 100) / 100
        var total = 0
        let random = self.random
        let plan = try await RestorePlanner(repository: repository).plan(root: root) { _ in
            total += 1
            return share >= 1 || random.unitInterval() < share
        }
        var result = Result()
        result.filesInSnapshot = total
        result.filesChecked = plan.files.count
        result.directories = plan.directories.count
        result.symlinks = plan.symlinks.count
        result.damaged = plan.failures.map { RestoreResult.Failure(path: $0.path, error: $0.error) }
        progress.setTotals(files: plan.files.count, bytes: plan.totalBytes)

        let source = RestoreContentSources.make(repository.contents, checkHashes: true)
        let schedule = ReadSchedule(files: plan.files, source: source, maximumGap: options.maximumReadGap,
                                    maximumLength: options.maximumReadLength)
        let failed = Mutex<[Int: KopiaError]>([:])
        for (file, error) in schedule.missing { failed.withLock { _ = $0.updateValue(error, forKey: file) } }
        let reader = PackReader(source: source, parallelism: options.parallelism,
                                budget: ByteBudget(capacity: options.memoryBudget), progress: progress)
        await reader.run(schedule, shouldStop: { false }) { content, outcome in
            var error: KopiaError?
            switch outcome {
            case .failure(let e): error = e
            case .success(let plain):
                if content.targets.contains(where: \.decompress) {
                    do {
                        _ = try ObjectDecompression.decompress(plain, contentID: content.info.contentID)
                    } catch {
                        let e = KopiaError.wrap(error).adding(blobID: content.info.packBlobID,
                                                             contentID: content.info.contentID.description)
                        failed.withLock { m in for t in content.targets { m[t.file] = m[t.file] ?? e } }
                        return
                    }
                }
                for t in content.targets where t.exactLength && !t.decompress && Int64(plain.count) != t.length {
                    error = KopiaError(.corruptContent,
                                       "chunk at offset \(t.offset) decodes to \(plain.count) bytes, its list says \(t.length)",
                                       blobID: content.info.packBlobID, contentID: content.info.contentID.description)
                }
                progress.addBytes(Int64(plain.count) * Int64(content.targets.count))
            }
            if let error {
                failed.withLock { m in for t in content.targets { m[t.file] = m[t.file] ?? error } }
            }
        }
        let damagedFiles = failed.withLock { $0 }
        for (file, error) in damagedFiles.sorted(by: { $0.key < $1.key }) {
            let path = plan.files[file].path
            result.damaged.append(RestoreResult.Failure(path: path, error: error.adding(path: path)))
        }
        result.bytes = plan.files.indices.filter { damagedFiles[$0] == nil }.reduce(0) { $0 + plan.files[$1].expectedSize }
        let snapshot = progress.snapshot()
        result.contentsRead = snapshot.contentsRead
        result.packBytesRead = snapshot.packBytesRead
        result.damaged.sort { $0.path < $1.path }
        return result
    }
}
