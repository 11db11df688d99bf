import ArgumentParser

/// Every subcommand of `ferry`, in the order `--help` lists them. One line per command group.
enum FerrySubcommands {
    static let all: [any ParsableCommand.Type] = [
        ControllerCommand.self, KubeCommand.self,
        RepoCommand.self,
        SnapshotCommand.self, LsCommand.self,
        CSICommand.self,
        RestoreCommand.self, VerifyCommand.self, PopulateCommand.self,
    ]
}
