public import Logging

/// Reads and authenticates what a snapshot references without writing anything (`ferry verify`): every
/// directory listing and chunk list (while planning), every symlink target, and the contents of every file — or
/// of a random sample of `percent` of the files — grouped by pack like a restore, each content decrypted
/// (AEAD-authenticated), decompressed and checked against its hash.
///
/// Damaged or missing data is reported per path, naming the pack blob and content. It is the restore's pipeline
/// (`RestorePipeline`) with a `DiscardingOutput`: same windows, concurrency and memory bounds as
/// `SnapshotRestorer`, nothing written.
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
        let random = self.random
        let planner = RestorePlanner(repository: repository, root: root, windowEntries: options.windowEntries) { _ in
            share >= 1 || random.unitInterval() < share
        }
        let output = DiscardingOutput(progress: progress)
        var verifyOptions = options
        verifyOptions.failFast = false
        let pipeline = RestorePipeline(repository: repository, options: verifyOptions, progress: progress,
                                       checkHashes: true)
        var phases = RestorePipeline.Phases()
        _ = try await pipeline.run(planner, into: output, phases: &phases)
        let tally = output.tally
        var result = Result()
        result.filesInSnapshot = await planner.filesWalked
        result.filesChecked = tally.filesChecked
        result.directories = tally.directories
        result.symlinks = tally.symlinks
        result.bytes = tally.bytes
        result.damaged = tally.damaged.sorted { $0.path < $1.path }
        let snapshot = progress.snapshot()
        result.contentsRead = snapshot.contentsRead
        result.packBytesRead = snapshot.packBytesRead
        return result
    }
}
