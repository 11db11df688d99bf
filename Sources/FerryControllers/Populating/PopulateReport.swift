public import Foundation

/// What `ferry populate` reports, as one JSON object: progress lines on stdout while it runs, and the final
/// report in its termination message (`/dev/termination-log`), which the controller reads from the pod's status.
/// The same type encodes and decodes, so the two ends cannot drift.
public struct PopulateReport: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        /// The snapshot was chosen; nothing written yet.
        case resolved
        case progress
        case succeeded
        case failed
    }

    public var state: State
    public var snapshotID: String?
    public var identity: String?
    public var startTime: String?
    public var bytesDone: Int64 = 0
    public var bytesTotal: Int64 = 0
    public var filesDone: Int = 0
    public var filesTotal: Int = 0
    /// Files already present from an earlier, interrupted run.
    public var filesSkipped: Int = 0
    public var seconds: Double = 0
    public var bytesPerSecond: Int64 = 0
    public var verified: Bool = false
    /// For `failed`: the populating error code (a reason such as `DamagedRepository`) and what failed.
    public var reason: String?
    public var message: String?

    public init(state: State, snapshotID: String? = nil) {
        self.state = state
        self.snapshotID = snapshotID
    }

    /// One line of JSON (sorted keys; no credentials ever appear in it).
    public func encodedLine() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "{\"state\":\"failed\"}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Parses a termination message; nil when it is not a report (e.g. the runtime's own message).
    public static func parse(_ text: String?) -> PopulateReport? {
        guard let text else { return nil }
        // The last JSON line wins (FallbackToLogsOnError may hand over a log tail).
        for line in text.split(separator: "\n").reversed() where line.hasPrefix("{") {
            if let r = try? JSONDecoder().decode(PopulateReport.self, from: Data(line.utf8)) { return r }
        }
        return nil
    }

    /// "1.2 GiB of 3.0 GiB, 120 of 400 files, 85 MiB/s".
    public var progressText: String {
        var s = "\(Self.bytes(bytesDone)) of \(Self.bytes(bytesTotal)), \(filesDone) of \(filesTotal) files"
        if filesSkipped > 0 { s += " (\(filesSkipped) already present)" }
        if bytesPerSecond > 0 { s += ", \(Self.bytes(bytesPerSecond))/s" }
        return s
    }

    static func bytes(_ n: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(n)
        var i = 0
        while v >= 1024, i < units.count - 1 { v /= 1024; i += 1 }
        return i == 0 ? "\(n) B" : String(format: "%.1f ", v) + units[i]
    }
}
