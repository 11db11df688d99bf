import ArgumentParser
import FerryCore

/// `ferry csi …`: tools that talk to a CSI driver's socket.
struct CSICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "csi",
        abstract: "Talk to a CSI driver over its Unix socket.",
        subcommands: [CSIInfoCommand.self]
    )
}

/// A `--timeout` value: `500ms`, `5s`, `2m`, or a bare number of seconds.
struct CSITimeout: ExpressibleByArgument, Sendable {
    let duration: Duration

    init(_ duration: Duration) { self.duration = duration }

    init?(argument: String) {
        let units: [(suffix: String, scale: Duration)] = [
            ("ms", .milliseconds(1)), ("s", .seconds(1)), ("m", .seconds(60)),
        ]
        for unit in units where argument.hasSuffix(unit.suffix) {
            guard let value = Double(argument.dropLast(unit.suffix.count)), value > 0, value.isFinite else { return nil }
            duration = Duration(clamping: value, unit.scale)  // 1e21s is "forever", not a trap
            return
        }
        guard let seconds = Double(argument), seconds > 0, seconds.isFinite else { return nil }
        duration = Duration(clampingSeconds: seconds)
    }
}
