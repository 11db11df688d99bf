import ArgumentParser
import Foundation
import Kopia

/// `ferry repo create`: a new filesystem repository Kopia (0.12 and later) opens.
struct RepoCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a Kopia repository (format v3, index v2, epoch manager) on the local filesystem.",
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
            let path = try repository.writableFilesystemPath()
            let password = try repository.password()
            var options = RepositoryCreateOptions()
            options.hash = hash
            options.encryption = encryption
            options.splitter = splitter
            options.keyAlgorithm = keyAlgorithm
            options.maxPackSize = maxPackSizeMB << 20
            let format = try await RepositoryCreator.createFilesystem(at: path, password: password, options: options)
            print("created Kopia repository at \(path): format v\(format.version), index v2, \(hash), \(encryption), \(splitter)")
        }
    }
}

extension RepositoryOptions {
    /// The repository path for the write commands, which write filesystem repositories only.
    func writableFilesystemPath() throws -> String {
        guard case .filesystem(let path) = try location() else {
            throw CommandError.usage("only filesystem repositories can be written (use filesystem:///path or a path)")
        }
        return path
    }
}
