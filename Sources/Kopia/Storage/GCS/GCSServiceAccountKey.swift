internal import Foundation

/// A Google service-account key, the JSON file the Cloud console hands out (kopia-format.md §18.5).
///
/// Only `type` = `service_account` is accepted (the JWT bearer flow; what kopia v0.12–v0.13 and the newest kopia
/// accept). Never printed: `description` shows the client e-mail and key ID only, never the private key.
public struct GCSServiceAccountKey: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public var clientEmail: String
    /// PEM, normally PKCS#8 (`-----BEGIN PRIVATE KEY-----`).
    public var privateKeyPEM: String
    public var privateKeyID: String?
    /// Where assertions are exchanged for access tokens.
    public var tokenURI: String
    public var projectID: String?

    /// Google's token endpoint, used when the key names none.
    public static let defaultTokenURI = "https://oauth2.googleapis.com/token"

    public init(clientEmail: String, privateKeyPEM: String, privateKeyID: String? = nil,
                tokenURI: String = GCSServiceAccountKey.defaultTokenURI, projectID: String? = nil) {
        self.clientEmail = clientEmail
        self.privateKeyPEM = privateKeyPEM
        self.privateKeyID = privateKeyID
        self.tokenURI = tokenURI
        self.projectID = projectID
    }

    /// Parses the key JSON. `source` names where it came from, for messages (`GOOGLE_APPLICATION_CREDENTIALS`, a
    /// path); the JSON itself never appears in an error.
    /// - Throws: `KopiaError.invalidArgument` for malformed JSON, another key type, or missing fields.
    public static func parse(_ bytes: [UInt8], source: String) throws(KopiaError) -> GCSServiceAccountKey {
        let object: [String: Any]
        do {
            guard let o = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                throw KopiaError(.invalidArgument, "the GCS credentials in \(source) are not a JSON object")
            }
            object = o
        } catch let e as KopiaError {
            throw e
        } catch {
            throw KopiaError(.invalidArgument, "the GCS credentials in \(source) are not valid JSON")
        }
        let type = object["type"] as? String
        guard type == "service_account" else {
            throw KopiaError(.invalidArgument,
                             "the GCS credentials in \(source) are of type \"\(type ?? "none")\"; Ferry accepts service-account keys (\"type\": \"service_account\")")
        }
        guard let email = object["client_email"] as? String, !email.isEmpty else {
            throw KopiaError(.invalidArgument, "the GCS service-account key in \(source) has no client_email")
        }
        guard let pem = object["private_key"] as? String, pem.contains("PRIVATE KEY") else {
            throw KopiaError(.invalidArgument, "the GCS service-account key in \(source) has no PEM private_key")
        }
        let tokenURI = (object["token_uri"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? defaultTokenURI
        guard tokenURI.hasPrefix("https://") || tokenURI.hasPrefix("http://") else {
            throw KopiaError(.invalidArgument, "the GCS service-account key in \(source) has a token_uri that is not an http(s) URL")
        }
        return GCSServiceAccountKey(clientEmail: email, privateKeyPEM: pem, privateKeyID: object["private_key_id"] as? String,
                                    tokenURI: tokenURI, projectID: object["project_id"] as? String)
    }

    public var description: String {
        "GCSServiceAccountKey(\(clientEmail), key \(privateKeyID.map { String($0.prefix(8)) + "…" } ?? "?"), private key: <redacted>)"
    }

    public var debugDescription: String { description }
}
