/// `epochParameters` of the repository parameters (kopia-format.md §2.4, §8.1; kopia/kopia
/// `internal/epoch/epoch_parameters.go`). Keys are PascalCase for historical reasons; durations are integer
/// nanoseconds. `enabled` selects the epoch index-blob manager (format v2/v3) over the legacy one (v1).
public struct EpochParameters: Sendable, Hashable, Decodable {
    public var enabled: Bool
    public var epochRefreshFrequencyNanoseconds: Int64
    public var fullCheckpointFrequency: Int
    public var cleanupSafetyMarginNanoseconds: Int64
    public var minEpochDurationNanoseconds: Int64
    public var epochAdvanceOnCountThreshold: Int
    public var epochAdvanceOnTotalSizeBytesThreshold: Int64
    public var deleteParallelism: Int

    public init() {
        enabled = false
        epochRefreshFrequencyNanoseconds = 0
        fullCheckpointFrequency = 0
        cleanupSafetyMarginNanoseconds = 0
        minEpochDurationNanoseconds = 0
        epochAdvanceOnCountThreshold = 0
        epochAdvanceOnTotalSizeBytesThreshold = 0
        deleteParallelism = 0
    }

    enum CodingKeys: String, CodingKey {
        case enabled = "Enabled", epochRefreshFrequency = "EpochRefreshFrequency"
        case fullCheckpointFrequency = "FullCheckpointFrequency", cleanupSafetyMargin = "CleanupSafetyMargin"
        case minEpochDuration = "MinEpochDuration", epochAdvanceOnCountThreshold = "EpochAdvanceOnCountThreshold"
        case epochAdvanceOnTotalSizeBytesThreshold = "EpochAdvanceOnTotalSizeBytesThreshold"
        case deleteParallelism = "DeleteParallelism"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? false
        epochRefreshFrequencyNanoseconds = try c.decodeIfPresent(Int64.self, forKey: .epochRefreshFrequency) ?? 0
        fullCheckpointFrequency = try c.decodeIfPresent(Int.self, forKey: .fullCheckpointFrequency) ?? 0
        cleanupSafetyMarginNanoseconds = try c.decodeIfPresent(Int64.self, forKey: .cleanupSafetyMargin) ?? 0
        minEpochDurationNanoseconds = try c.decodeIfPresent(Int64.self, forKey: .minEpochDuration) ?? 0
        epochAdvanceOnCountThreshold = try c.decodeIfPresent(Int.self, forKey: .epochAdvanceOnCountThreshold) ?? 0
        epochAdvanceOnTotalSizeBytesThreshold =
            try c.decodeIfPresent(Int64.self, forKey: .epochAdvanceOnTotalSizeBytesThreshold) ?? 0
        deleteParallelism = try c.decodeIfPresent(Int.self, forKey: .deleteParallelism) ?? 0
    }
}
