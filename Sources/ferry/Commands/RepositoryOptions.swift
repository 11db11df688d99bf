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
            help: ArgumentHelp("Repository: filesystem:///path, a plain path, s3://bucket/prefix, gcs://bucket/prefix or azure://container/prefix (default: $KOPIA_REPOSITORY, or VolSync's $KOPIA_AZURE_CONTAINER / $KOPIA_GCS_BUCKET).",
                               valueName: "LOCATION"))
    var repository: String?

    @Option(help: ArgumentHelp("File holding the repository password; one trailing newline is ignored (default: $KOPIA_PASSWORD).",
                               valueName: "PATH"))
    var passwordFile: String?

    @OptionGroup(title: "S3")
    var s3: S3Options

    @OptionGroup(title: "GCS")
    var gcs: GCSOptions

    @OptionGroup(title: "Azure")
    var azure: AzureOptions

    /// The repository location from `--repo`, `KOPIA_REPOSITORY` or VolSync's mover keys
    /// (`RepositoryLocation.resolve`); warnings about keys that lost go to standard error.
    func location(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> RepositoryLocation {
        let hasAny = [repository, environment["KOPIA_REPOSITORY"], environment[RepositoryLocation.MoverKey.gcsBucket],
                      environment[RepositoryLocation.MoverKey.azureContainer]].contains { !($0 ?? "").isEmpty }
        guard hasAny else {
            throw CommandError.usage("no repository given: set KOPIA_REPOSITORY or pass --repo LOCATION")
        }
        let resolution = try RepositoryLocation.resolve(explicit: repository, environment: environment)
        for warning in resolution.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        return resolution.location
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

    /// Opens the repository (format, index, manifests). With `FERRY_KOPIA_REPOSITORY_KEY` (the key the password
    /// derives for this repository, which Ferry's controller hands its populator pods instead of the password) the
    /// password KDF is skipped; if that key does not open the repository and a password is given too, the password
    /// is tried.
    func open(logger: Logger) async throws -> KopiaRepository {
        let environment = ProcessInfo.processInfo.environment
        let location = try location()
        // Credentials are checked before the repository is touched: a missing password is a usage error whatever
        // state the repository's location is in.
        var key: RepositoryKey?
        if let text = environment[RepositoryKey.environmentKey], !text.isEmpty {
            do { key = try RepositoryKey(encoded: text) } catch {
                throw CommandError.usage("\(RepositoryKey.environmentKey): \(error.message)")
            }
        }
        let hasPassword = passwordFile != nil || environment["KOPIA_PASSWORD"] != nil
        if key == nil { _ = try password(environment: environment) }
        let storage = try location.makeStorage(environment: environment,
                                               s3Overrides: s3.overrides, gcsOverrides: gcs.overrides,
                                               azureOverrides: azure.overrides,
                                               httpClient: try ProcessHTTPClient.shared(), logger: logger)
        if let key {
            do {
                return try await KopiaRepository.open(storage: storage, unlock: .key(key), logger: logger)
            } catch let error as KopiaError where error.code == .wrongPassword && hasPassword {
                logger.info("repository key refused, trying the password", metadata: ["error": "\(error.message)"])
            }
        }
        return try await KopiaRepository.open(storage: storage, password: try password(), logger: logger)
    }
}
