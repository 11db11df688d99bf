import ArgumentParser

/// `ferry repo …`: repository administration.
struct RepoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repo",
        abstract: "Create Kopia repositories.",
        subcommands: [RepoCreateCommand.self]
    )
}
