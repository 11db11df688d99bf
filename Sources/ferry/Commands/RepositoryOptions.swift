import ArgumentParser
import Foundation
import Kopia
import Logging

/// Where the repository is and how to unlock it — shared by every command that opens a repository.
///
/// Defaults come from `KOPIA_REPOSITORY` and `KOPIA_PASSWORD` (the keys of VolSync's `kopia-config` Secret);
/// `--repo` and `--password-file` override them.
struct RepositoryOptions: ParsableArguments {
    @Option(name: .customLong("repo"),
            help: ArgumentHelp("Repository: filesystem:///path, a plain path, or s3://bucket/prefix (default: $KOPIA_REPOSITORY).",
                               valueName: "LOCATION"))
    var repository: String?

    @Option(help: ArgumentHelp("File holding the repository password; one trailing newline is ignored (default: $KOPIA_PASSWORD).",
                               valueName: "PATH"))
    var passwordFile: String?

    @OptionGroup(title: "S3")
    var s3: S3Options

    /// The repository location from `--repo` or `KOPIA_REPOSITORY`.
    func location(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> RepositoryLocation {
        guard let text = repository ?? environment["KOPIA_REPOSITORY"], !text.isEmpty else {
            throw CommandError.usage("no repository given: set KOPIA_REPOSITORY or pass --repo LOCATION")
        }
        return try RepositoryLocation(parsing: text)
    }

    /// The password from `--password-file` or `KOPIA_PASSWORD`.
    func password(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        if let passwordFile {
            guard let data = FileManager.default.contents(atPath: passwordFile) else {
                throw CommandError.usage("cannot read the password file \(passwordFile)")
            }
            var text = String(decoding: data, as: UTF8.self)
            if text.hasSuffix("\n") { text.removeLast() }
            if text.hasSuffix("\r") { text.removeLast() }
            return text
        }
        guard let password = environment["KOPIA_PASSWORD"] else {
            throw CommandError.usage("no password given: set KOPIA_PASSWORD or pass --password-file PATH")
        }
        return password
    }

    /// Opens the repository (format, index, manifests).
    func open(logger: Logger) async throws -> KopiaRepository {
        let location = try location()
        let password = try password()
        return try await KopiaRepository.open(location: location, password: password, logger: logger,
                                              environment: ProcessInfo.processInfo.environment,
                                              s3Overrides: s3.overrides, httpClient: try ProcessHTTPClient.shared())
    }
}
