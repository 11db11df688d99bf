import ArgumentParser
import Foundation

/// The `ferry` binary: commands only. Each subcommand parses flags and environment, wires the
/// library parts together and runs them; no engine logic lives here.
@main
struct Ferry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ferry",
        abstract: "Provision PersistentVolumeClaims from cross-namespace sources and Kopia repositories.",
        discussion: ExitCodes.help,
        version: "0.1.0",
        subcommands: FerrySubcommands.all
    )

    /// Runs the command, mapping argument-parser usage errors (its default exit code 64) to `ExitCodes.usage`
    /// so every usage error exits 2 as `--help` documents.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(ExitCodes.usage)
            }
            exit(withError: error)
        }
    }
}
