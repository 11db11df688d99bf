public import Kopia
public import Kube

/// The repository a KopiaSnapshot's Secret describes, taken **only** from the Secret's keys — never from the
/// controller's process environment (pure).
///
/// VolSync's `kopia-config` keys: `KOPIA_REPOSITORY`, `KOPIA_PASSWORD`, `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`, `AWS_DEFAULT_REGION`, `AWS_S3_ENDPOINT`, … Every key
/// of the Secret is kept in `environment` (a backend may need keys Ferry does not name here); `description`
/// never prints a value.
public struct RepositoryCredentials: Sendable, Hashable, CustomStringConvertible {
    public let location: RepositoryLocation
    public let password: String
    /// Every key of the Secret (decoded), for the storage backend and the populator pod's Secret.
    public let environment: [String: String]
    /// PEM bytes of the custom CA, when `spec.customCA` names one.
    public let caBundle: [UInt8]?
    /// The Secret's resourceVersion: opened repositories are cached per Secret version.
    public let secretVersion: String

    /// - Parameters:
    ///   - secret: the repository Secret.
    ///   - repositoryPVC: set when the repository lives on a PVC mounted at `/repository` in the populator pod;
    ///     `KOPIA_REPOSITORY` may then be omitted (it defaults to `filesystem:///repository`) and must otherwise
    ///     be a `filesystem://` path under `/repository`.
    ///   - caBundle: the customCA's bytes, already read from its Secret or ConfigMap.
    ///   A `filesystem://` location without `repositoryPVC` is accepted: the controller and the populator pod must
    ///   then both see that path (the local control plane, where pods are local processes).
    /// - Throws: `PopulatingError` `.invalidSecret` naming the missing or unusable key (never its value).
    public init(secret: Secret, repositoryPVC: String? = nil, caBundle: [UInt8]? = nil) throws(PopulatingError) {
        var env: [String: String] = [:]
        for (key, value) in secret.decodedData { env[key] = String(decoding: value, as: UTF8.self) }
        for (key, value) in secret.stringData { env[key] = value }
        let name = secret.name
        guard let password = env["KOPIA_PASSWORD"], !password.isEmpty else {
            throw PopulatingError(.invalidSecret, "Secret \(name) has no KOPIA_PASSWORD key")
        }
        let location: RepositoryLocation
        let root = PopulatingNames.repositoryMountPath
        if let pvc = repositoryPVC {
            let text = env["KOPIA_REPOSITORY"].flatMap { $0.isEmpty ? nil : $0 } ?? "filesystem://\(root)"
            guard let parsed = try? RepositoryLocation(parsing: text), case .filesystem(let path) = parsed,
                  path == root || path.hasPrefix(root + "/"), !path.split(separator: "/").contains("..")
            else {
                throw PopulatingError(.invalidSecret,
                    "with spec.repositoryPVC \(pvc), KOPIA_REPOSITORY in Secret \(name) must be filesystem://\(root) or a path below it (the PVC is mounted at \(root))")
            }
            location = parsed
        } else {
            // VolSync's mover keys (KOPIA_AZURE_CONTAINER, KOPIA_GCS_BUCKET) name a repository too, and win over
            // KOPIA_REPOSITORY as in the mover (RepositoryLocation.resolve, kopia-format.md §18.6).
            let keys = [RepositoryLocation.MoverKey.repository, RepositoryLocation.MoverKey.azureContainer,
                        RepositoryLocation.MoverKey.gcsBucket]
            guard keys.contains(where: { !(env[$0] ?? "").isEmpty }) else {
                throw PopulatingError(.invalidSecret, "Secret \(name) has no KOPIA_REPOSITORY key")
            }
            do { location = try RepositoryLocation.resolve(explicit: nil, environment: env).location } catch {
                throw PopulatingError(.invalidSecret, "the repository in Secret \(name): \(error.message)")
            }
        }
        self.location = location
        self.password = password
        self.environment = env
        self.caBundle = caBundle
        self.secretVersion = secret.metadata.resourceVersion ?? ""
    }

    /// Assembles credentials directly (tests, and `ferry populate`, which reads them from its own environment).
    public init(location: RepositoryLocation, password: String, environment: [String: String],
                caBundle: [UInt8]? = nil, secretVersion: String = "") {
        self.location = location
        self.password = password
        self.environment = environment
        self.caBundle = caBundle
        self.secretVersion = secretVersion
    }

    /// The location only; the password and keys are never printed.
    public var description: String { "repository \(location) (credentials hidden)" }

    /// What the populator pod's Secret carries: the Secret's keys, `KOPIA_REPOSITORY` normalised, and the CA
    /// bundle under `ca.crt` with `AWS_CA_BUNDLE` pointing at its mount.
    public var podSecretData: [String: [UInt8]] { podSecretData(key: nil) }

    /// `podSecretData`, with the key the password derived for the repository in place of the password when the
    /// controller has it (``RepositoryKey``, `FERRY_KOPIA_REPOSITORY_KEY`): the pod then skips the password KDF,
    /// and the password itself (which may open other repositories) does not leave the owner's Secret at all.
    public func podSecretData(key: RepositoryKey?) -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for (k, v) in environment { out[k] = Array(v.utf8) }
        if let key {
            out["KOPIA_PASSWORD"] = nil
            out[RepositoryKey.environmentKey] = Array(key.encoded.utf8)
        }
        out["KOPIA_REPOSITORY"] = Array(location.description.utf8)
        if let caBundle {
            out[PopulatingNames.caFileName] = caBundle
            out["AWS_CA_BUNDLE"] = Array("\(PopulatingNames.caMountPath)/\(PopulatingNames.caFileName)".utf8)
        }
        return out
    }
}
