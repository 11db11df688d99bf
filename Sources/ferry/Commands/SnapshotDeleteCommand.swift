import ArgumentParser
import Foundation
import Kopia
import Logging

/// `ferry snapshot delete ID`.
struct SnapshotDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a snapshot (its manifest); Kopia's maintenance later frees unreferenced data.",
        discussion: ExitCodes.help
    )

    @OptionGroup var repository: RepositoryOptions

    @Argument(help: "The snapshot (manifest) ID.")
    var id: String

    func run() async throws {
        try await CommandFailure.run {
            let storage = try repository.storage()
            let writer = try await RepositoryWriter.open(storage: storage, password: try repository.password(),
                                                         logger: Logger(label: "ferry"))
            try await writer.deleteSnapshot(id: id)
            print("deleted snapshot \(id)")
        }
    }
}
