import ArgumentParser
import Foundation
import Kopia
import Logging

/// `ferry repo create`: a new repository (filesystem or S3) that Kopia (0.12 and later) opens.
struct RepoCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a Kopia repository (format v3, index v2, epoch manager) on a filesystem, in S3, GCS or Azure Blob Storage.",
        discussion: "Refuses to overwrite an existing repository.\n\n" + ExitCodes.help
    )

    @OptionGroup var repository: RepositoryOptions

    @Option(help: "Content hash: BLAKE2B-256-128, BLAKE2B-256, BLAKE2S-128, BLAKE2S-256, HMAC-SHA256, HMAC-SHA256-128, HMAC-SHA224, HMAC-SHA3-224, HMAC-SHA3-256, BLAKE3-256, BLAKE3-256-128.")
    var hash = "BLAKE2B-256-128"

    @Option(help: "Content encryption: AES256-GCM-HMAC-SHA256 or CHACHA20-POLY1305-HMAC-SHA256.")
    var encryption = "AES256-GCM-HMAC-SHA256"

    @Option(help: "Object splitter: DYNAMIC-{1,2,4,8}M-BUZHASH or FIXED-{1,2,4,8}M.")
    var splitter = "DYNAMIC-4M-BUZHASH"

    @Option(name: .customLong("key-algorithm"), help: "Password key derivation: scrypt-65536-8-1 or pbkdf2-sha256-600000.")
    var keyAlgorithm = "scrypt-65536-8-1"

    @Option(name: .customLong("max-pack-size-mb"), help: "Target pack size in MiB (10–120).")
    var maxPackSizeMB = 20

    func run() async throws {
        try await CommandFailure.run {
            let location = try repository.location()
            let password = try repository.password()
            var options = RepositoryCreateOptions()
            options.hash = hash
            options.encryption = encryption
            options.splitter = splitter
            options.keyAlgorithm = keyAlgorithm
            options.maxPackSize = maxPackSizeMB << 20
            let format: RepositoryFormat
            switch location {
            case .filesystem(let path):
                format = try await RepositoryCreator.createFilesystem(at: path, password: password, options: options)
            default:
                format = try await RepositoryCreator.create(storage: try repository.storage(), password: password,
                                                            options: options)
            }
            print("created Kopia repository at \(location): format v\(format.version), index v2, \(hash), \(encryption), \(splitter)")
        }
    }
}

extension RepositoryOptions {
    /// The blob storage of `--repo` / `KOPIA_REPOSITORY` for the write commands: a filesystem directory or an
    /// S3 bucket and prefix (with the `--s3-…` flags and `AWS_*` variables).
    func storage(logger: Logger = Logger(label: "ferry")) throws -> any BlobStorage {
        try location().makeStorage(environment: ProcessInfo.processInfo.environment, s3Overrides: s3.overrides,
                                   gcsOverrides: gcs.overrides, azureOverrides: azure.overrides,
                                   httpClient: try ProcessHTTPClient.shared(), logger: logger)
    }
}
