import Foundation

/// How the filesystem backend maps a blob ID to a file path (kopia-format.md §1.2).
///
/// Stored in `<root>/.shards` as plain JSON (kopia/kopia `repo/blob/sharded/sharded_parameters.go`):
///
/// | JSON key | Meaning |
/// |---|---|
/// | `default` | directory-name lengths, one per level (e.g. `[1,3]`) |
/// | `maxNonShardedLength` | IDs of at most this length live unsharded in the root (default 20) |
/// | `overrides` | optional `[{"prefix":…,"shards":[…]}]`; the first entry whose prefix starts the ID wins |
///
/// Path algorithm: if `len(id) <= maxNonShardedLength` the file is `<id>.f` in the root; otherwise for each shard
/// size `s`: stop when `len(rest) <= s`, else descend into `rest[0..<s]` and drop those characters. `_` and `-`
/// are ordinary characters here (pitfall m).
public struct ShardingParameters: Sendable, Hashable, Codable {
    public struct Override: Sendable, Hashable, Codable {
        public var prefix: String
        public var shards: [Int]
        public init(prefix: String, shards: [Int]) {
            self.prefix = prefix
            self.shards = shards
        }
    }

    public var defaultShards: [Int]
    public var maxNonShardedLength: Int
    public var overrides: [Override]

    /// The layout of repositories created since Kopia v0.9.6.
    public static let current = ShardingParameters(defaultShards: [1, 3])
    /// The layout Kopia assumes for an existing repository without `.shards`.
    public static let legacy = ShardingParameters(defaultShards: [3, 3])

    public init(defaultShards: [Int], maxNonShardedLength: Int = 20, overrides: [Override] = []) {
        self.defaultShards = defaultShards
        self.maxNonShardedLength = maxNonShardedLength
        self.overrides = overrides
    }

    enum CodingKeys: String, CodingKey {
        case defaultShards = "default", maxNonShardedLength, overrides
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        defaultShards = try c.decodeIfPresent([Int].self, forKey: .defaultShards) ?? [1, 3]
        maxNonShardedLength = try c.decodeIfPresent(Int.self, forKey: .maxNonShardedLength) ?? 20
        overrides = try c.decodeIfPresent([Override].self, forKey: .overrides) ?? []
    }

    /// Parses `.shards` bytes; rejects non-positive shard sizes so path arithmetic cannot misbehave.
    /// - Throws: `KopiaError(.corruptBlob)` naming `.shards`.
    public static func decode(_ bytes: [UInt8]) throws(KopiaError) -> ShardingParameters {
        let parsed: ShardingParameters
        do {
            parsed = try JSONDecoder().decode(ShardingParameters.self, from: Data(bytes))
        } catch {
            throw KopiaError(.corruptBlob, "the sharding file does not parse as JSON; fix or remove it",
                             blobID: ".shards", cause: error)
        }
        let all = parsed.defaultShards + parsed.overrides.flatMap(\.shards)
        guard all.allSatisfy({ (1...64).contains($0) }), parsed.maxNonShardedLength >= 0 else {
            throw KopiaError(.corruptBlob, "the sharding file holds a shard size outside 1...64", blobID: ".shards")
        }
        return parsed
    }

    /// The shard sizes used for `blobID`.
    public func shards(for blobID: String) -> [Int] {
        for o in overrides where blobID.hasPrefix(o.prefix) { return o.shards }
        return defaultShards
    }

    /// The path of `blobID` relative to the root, as components (directories…, `<rest>.f`).
    public func relativePath(for blobID: String) -> [String] {
        let utf8 = Array(blobID.utf8)
        if utf8.count <= maxNonShardedLength { return [blobID + ".f"] }
        var components: [String] = []
        var rest = utf8[...]
        for size in shards(for: blobID) {
            if rest.count <= size { break }
            components.append(String(decoding: rest.prefix(size), as: UTF8.self))
            rest = rest.dropFirst(size)
        }
        components.append(String(decoding: rest, as: UTF8.self) + ".f")
        return components
    }
}
