/// The password key-derivation algorithm of `kopia.repository` (`keyAlgo`, kopia-format.md §2.2).
public enum PasswordKeyAlgorithm: String, CaseIterable, Sendable {
    case scrypt65536_8_1 = "scrypt-65536-8-1"
    case pbkdf2SHA256_600000 = "pbkdf2-sha256-600000"

    /// Parses a `keyAlgo` value; an empty value means the historical default, scrypt.
    /// - Throws: `KopiaError.unknownAlgorithm` naming the value.
    public init(name: String) throws {
        if name.isEmpty {
            self = .scrypt65536_8_1
            return
        }
        guard let algorithm = PasswordKeyAlgorithm(rawValue: name) else {
            throw KopiaError(.unknownAlgorithm, "unknown password key algorithm \"\(name)\" (known: "
                + PasswordKeyAlgorithm.allCases.map(\.rawValue).joined(separator: ", ") + ")")
        }
        self = algorithm
    }

    /// Derives the 32-byte format key from a password (UTF-8) and the repository's uniqueID.
    ///
    /// Slow by design (scrypt: ~64 MiB and ~0.2 s); cache the result.
    /// - Throws: `KopiaError.invalidArgument` when the salt is shorter than 16 bytes (Kopia refuses it too).
    public func deriveKey(password: String, salt: [UInt8]) throws -> [UInt8] {
        guard salt.count >= 16 else {
            throw KopiaError(.invalidArgument, "password salt (uniqueID) is \(salt.count) bytes; at least 16 are required")
        }
        let pw = Array(password.utf8)
        switch self {
        case .scrypt65536_8_1:
            return try KeyDerivation.scrypt(password: pw, salt: salt, n: 65536, r: 8, p: 1, length: 32)
        case .pbkdf2SHA256_600000:
            return try KeyDerivation.pbkdf2SHA256(password: pw, salt: salt, iterations: 600_000, length: 32)
        }
    }
}
