import ArgumentParser

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
}
