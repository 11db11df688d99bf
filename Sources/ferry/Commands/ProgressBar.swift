import Foundation
import Kopia

/// A one-line progress display for `restore` and `verify` on a terminal: bytes, files, throughput and ETA,
/// redrawn a few times a second on stderr. Shown only when both stdout and stderr are terminals and JSON output
/// is off, so scripts and logs get nothing noisy.
final class ProgressBar: Sendable {
    private let progress: RestoreProgress
    private let verb: String
    private let task: Task<Void, Never>?

    init(progress: RestoreProgress, verb: String, enabled: Bool) {
        self.progress = progress
        self.verb = verb
        guard enabled, isatty(STDOUT_FILENO) == 1, isatty(STDERR_FILENO) == 1 else {
            task = nil
            return
        }
        let start = Date()
        task = Task.detached { [progress] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(250))
                ProgressBar.draw(progress.snapshot(), verb: verb, elapsed: Date().timeIntervalSince(start))
            }
        }
    }

    /// Stops redrawing and clears the line.
    func finish() {
        guard let task else { return }
        task.cancel()
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    static func draw(_ s: RestoreProgress.Snapshot, verb: String, elapsed: Double) {
        let fraction = s.bytesTotal > 0 ? min(1, Double(s.bytesDone) / Double(s.bytesTotal)) : 0
        let width = 24
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let rate = elapsed > 0 ? Double(s.bytesDone) / elapsed : 0
        let eta = rate > 0 ? Double(s.bytesTotal - s.bytesDone) / rate : 0
        var line = "\r\(verb) [\(bar)] \(ByteCount.format(s.bytesDone))/\(ByteCount.format(s.bytesTotal))"
        line += "  \(s.filesDone)/\(s.filesTotal) files  \(ByteCount.format(Int64(rate)))/s  ETA \(Int(eta.rounded()))s"
        if s.filesFailed > 0 { line += "  \(s.filesFailed) failed" }
        FileHandle.standardError.write(Data((line + "\u{1B}[K").utf8))
    }
}

/// Human byte counts: `512 B`, `1.5 MiB`.
enum ByteCount {
    static func format(_ n: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
    }
}
