import CSI
import Foundation
import GRPCTransport

/// The on-disk state of ``LocalCSIDriver``: every volume is a directory `DIR/volumes/<volumeID>/`, every snapshot a
/// directory `DIR/snapshots/<snapshotID>/`, and each has a metadata record in `DIR/csi/volumes/<id>.json` or
/// `DIR/csi/snapshots/<id>.json`. The disk is the truth: a restarted driver reloads the records, so names stay
/// idempotent across restarts.
///
/// Concurrency: an actor; long copies run with the actor free (it is re-entrant across `await`), and a name being
/// created is held in `inFlight`, so a concurrent call for the same name answers ABORTED as the CSI spec asks
/// ("an operation for this volume is already in progress").
actor VolumeStore {
    struct VolumeRecord: Codable, Sendable {
        var id: String
        var name: String
        var capacityBytes: Int64
        var sourceSnapshotID: String?
        var sourceVolumeID: String?
        var node: String?
        var parameters: [String: String]
    }

    struct SnapshotRecord: Codable, Sendable {
        var id: String
        var name: String
        var sourceVolumeID: String
        var sizeBytes: Int64
        var creationSeconds: Int64
        var creationNanos: Int32
    }

    let root: URL
    let totalCapacityBytes: Int64
    private var volumes: [String: VolumeRecord] = [:]
    private var snapshots: [String: SnapshotRecord] = [:]
    private var inFlight: Set<String> = []
    /// Volume ID → nodes where it is staged; target path → volume ID of each publication (DeleteVolume refuses
    /// volumes in use).
    private var staged: [String: Set<String>] = [:]
    private var published: [String: String] = [:]

    init(root: URL, totalCapacityBytes: Int64) throws {
        self.root = root
        self.totalCapacityBytes = totalCapacityBytes
        let fm = FileManager.default
        for sub in ["volumes", "snapshots", "csi/volumes", "csi/snapshots"] {
            try fm.createDirectory(at: root.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        let decoder = JSONDecoder()
        for file in (try? fm.contentsOfDirectory(atPath: root.appendingPathComponent("csi/volumes").path)) ?? []
        where file.hasSuffix(".json") {
            if let data = fm.contents(atPath: root.appendingPathComponent("csi/volumes/\(file)").path),
               let record = try? decoder.decode(VolumeRecord.self, from: data) { volumes[record.id] = record }
        }
        for file in (try? fm.contentsOfDirectory(atPath: root.appendingPathComponent("csi/snapshots").path)) ?? []
        where file.hasSuffix(".json") {
            if let data = fm.contents(atPath: root.appendingPathComponent("csi/snapshots/\(file)").path),
               let record = try? decoder.decode(SnapshotRecord.self, from: data) { snapshots[record.id] = record }
        }
    }

    // MARK: Paths and IDs

    func volumeDirectory(_ id: String) -> URL { root.appendingPathComponent("volumes/\(id)") }
    func snapshotDirectory(_ id: String) -> URL { root.appendingPathComponent("snapshots/\(id)") }

    /// A safe path component derived from a CSI name: `<prefix>-<name>` when the name is a plain token, else
    /// `<prefix>-<FNV-1a hash>`. Deterministic, so a name maps to the same ID after a restart.
    static func id(prefix: String, name: String) -> String {
        let safe = name.count <= 120 && !name.hasPrefix(".")
            && name.unicodeScalars.allSatisfy { ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)))
                || $0 == "-" || $0 == "_" || $0 == "." }
        if safe { return "\(prefix)-\(name)" }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return "\(prefix)-\(String(hash, radix: 16))"
    }

    // MARK: Reads

    func volume(id: String) -> VolumeRecord? { volumes[id] }
    func volume(named name: String) -> VolumeRecord? { volumes.values.first { $0.name == name } }
    func snapshot(id: String) -> SnapshotRecord? { snapshots[id] }
    func snapshot(named name: String) -> SnapshotRecord? { snapshots.values.first { $0.name == name } }
    func allVolumes() -> [VolumeRecord] { volumes.values.sorted { $0.id < $1.id } }
    func allSnapshots() -> [SnapshotRecord] { snapshots.values.sorted { $0.id < $1.id } }
    var availableBytes: Int64 { totalCapacityBytes - volumes.values.reduce(0) { $0 + $1.capacityBytes } }

    // MARK: Writes

    /// Claims `name` for a create; false when another create of it is running.
    func begin(_ name: String) -> Bool { inFlight.insert(name).inserted }
    func end(_ name: String) { inFlight.remove(name) }

    func save(_ record: VolumeRecord) throws {
        try write(record, to: root.appendingPathComponent("csi/volumes/\(record.id).json"))
        volumes[record.id] = record
    }

    func save(_ record: SnapshotRecord) throws {
        try write(record, to: root.appendingPathComponent("csi/snapshots/\(record.id).json"))
        snapshots[record.id] = record
    }

    private func write(_ value: some Encodable, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(value).write(to: url, options: .atomic)
    }

    func removeVolume(_ id: String) throws(RPCError) {
        if let nodes = staged[id], !nodes.isEmpty {
            throw RPCError(.failedPrecondition, "volume \(id) is still staged on \(nodes.sorted().joined(separator: ", "))")
        }
        if let target = published.first(where: { $0.value == id })?.key {
            throw RPCError(.failedPrecondition, "volume \(id) is still published at \(target)")
        }
        volumes[id] = nil
        try? FileManager.default.removeItem(at: root.appendingPathComponent("csi/volumes/\(id).json"))
        try? FileManager.default.removeItem(at: volumeDirectory(id))
    }

    func removeSnapshot(_ id: String) {
        snapshots[id] = nil
        try? FileManager.default.removeItem(at: root.appendingPathComponent("csi/snapshots/\(id).json"))
        try? FileManager.default.removeItem(at: snapshotDirectory(id))
    }

    func setCapacity(_ id: String, _ bytes: Int64) throws {
        guard var record = volumes[id] else { return }
        record.capacityBytes = bytes
        try save(record)
    }

    func markStaged(_ id: String, node: String, _ on: Bool) {
        if on { staged[id, default: []].insert(node) } else { staged[id]?.remove(node) }
    }

    func isStaged(_ id: String, node: String) -> Bool { staged[id]?.contains(node) ?? false }

    func markPublished(_ target: String, volume: String, node: String, _ on: Bool) {
        published[target] = on ? volume : nil
    }
}

/// Copies a directory tree with `cp -a` (modes, times, ownership, symlinks and hard links kept), the way a storage
/// backend's clone or snapshot keeps a volume's contents exactly. Suspends without blocking a thread.
func copyTree(from source: URL, to destination: URL) async throws(RPCError) {
    do {
        try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: true)
    } catch {
        throw RPCError(.internal, "cannot create \(destination.path): \(error)")
    }
    let (status, output) = await runTool("/bin/cp", ["-a", source.path + "/.", destination.path + "/"])
    guard status == 0 else {
        try? FileManager.default.removeItem(at: destination)
        throw RPCError(.internal, "copying \(source.path) to \(destination.path) failed: \(output)")
    }
}

/// Runs a tool to completion and returns its exit status and combined output (at most 4 KiB kept).
func runTool(_ path: String, _ arguments: [String]) async -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    return await withCheckedContinuation { (continuation: CheckedContinuation<(Int32, String), Never>) in
        process.terminationHandler = { p in
            let data = (try? pipe.fileHandleForReading.readToEnd()) ?? Data()
            continuation.resume(returning: (p.terminationStatus, String(decoding: data.prefix(4096), as: UTF8.self)))
        }
        do { try process.run() } catch {
            process.terminationHandler = nil
            continuation.resume(returning: (-1, "cannot start \(path): \(error)"))
        }
    }
}
