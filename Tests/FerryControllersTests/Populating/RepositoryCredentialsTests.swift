import Foundation
import FerryControllers
import Kopia
import Kube
import Testing

/// Secret → repository credentials: only the Secret's keys, never the process environment, never printed.
struct RepositoryCredentialsTests {
    static func secret(_ data: [String: String], name: String = "kopia-config") -> Secret {
        var s = Secret(name: name, namespace: "production")
        s.data = data.mapValues { Data($0.utf8).base64EncodedString() }
        s.metadata.resourceVersion = "42"
        return s
    }

    @Test func anS3SecretBecomesLocationPasswordAndItsOwnKeysOnly() throws {
        setenv("AWS_SECRET_ACCESS_KEY", "from-the-controller-process", 1)
        defer { unsetenv("AWS_SECRET_ACCESS_KEY") }
        let c = try RepositoryCredentials(secret: Self.secret([
            "KOPIA_REPOSITORY": "s3://backups/volsync/", "KOPIA_PASSWORD": "pw", "AWS_ACCESS_KEY_ID": "AK",
        ]))
        #expect(c.location == .s3(bucket: "backups", prefix: "volsync/"))
        #expect(c.password == "pw")
        #expect(c.environment["AWS_SECRET_ACCESS_KEY"] == nil)
        #expect(c.environment["AWS_ACCESS_KEY_ID"] == "AK")
        #expect(c.secretVersion == "42")
        #expect(!c.description.contains("pw") && !c.description.contains("AK"))
    }

    /// VolSync's real GCS/Azure Secrets name the bucket or container with mover keys (kopia-format.md §18.6).
    @Test func volSyncMoverKeysNameGCSAndAzureRepositoriesAtTheRoot() throws {
        let gcs = try RepositoryCredentials(secret: Self.secret([
            "KOPIA_GCS_BUCKET": "team-backups", "KOPIA_PASSWORD": "pw", "GOOGLE_APPLICATION_CREDENTIALS": "{}",
            "KOPIA_REPOSITORY": "gcs://team-backups/ignored",
        ]))
        #expect(gcs.location == .gcs(bucket: "team-backups", prefix: ""))
        let azure = try RepositoryCredentials(secret: Self.secret([
            "KOPIA_AZURE_CONTAINER": "backups", "KOPIA_AZURE_STORAGE_ACCOUNT": "acct1", "KOPIA_PASSWORD": "pw",
        ]))
        #expect(azure.location == .azure(container: "backups", prefix: ""))
        let documented = try RepositoryCredentials(secret: Self.secret([
            "KOPIA_REPOSITORY": "azure://backups/volsync", "KOPIA_PASSWORD": "pw",
        ]))
        #expect(documented.location == .azure(container: "backups", prefix: "volsync/"))
    }

    @Test func aMissingPasswordOrRepositoryNamesTheKeyButNoValue() {
        #expect { _ = try RepositoryCredentials(secret: Self.secret(["KOPIA_REPOSITORY": "s3://b/"])) } throws: {
            ($0 as? PopulatingError)?.message == "Secret kopia-config has no KOPIA_PASSWORD key"
        }
        #expect { _ = try RepositoryCredentials(secret: Self.secret(["KOPIA_PASSWORD": "secret-value"])) } throws: {
            guard let e = $0 as? PopulatingError else { return false }
            return e.code == .invalidSecret && !e.message.contains("secret-value")
        }
    }

    @Test func aRepositoryPVCDefaultsToItsMountAndRefusesPathsOutsideIt() throws {
        let c = try RepositoryCredentials(secret: Self.secret(["KOPIA_PASSWORD": "pw"]), repositoryPVC: "repo")
        #expect(c.location == .filesystem(path: "/repository"))
        let sub = try RepositoryCredentials(secret: Self.secret(["KOPIA_PASSWORD": "pw", "KOPIA_REPOSITORY": "filesystem:///repository/volsync"]),
                                            repositoryPVC: "repo")
        #expect(sub.location == .filesystem(path: "/repository/volsync"))
        for bad in ["filesystem:///etc", "s3://b/p", "filesystem:///repository/../etc"] {
            #expect(throws: PopulatingError.self) {
                _ = try RepositoryCredentials(secret: Self.secret(["KOPIA_PASSWORD": "pw", "KOPIA_REPOSITORY": bad]),
                                              repositoryPVC: "repo")
            }
        }
    }

    @Test func thePodSecretCarriesTheCAAndPointsAWSCABundleAtItsMount() throws {
        let c = try RepositoryCredentials(secret: Self.secret(["KOPIA_REPOSITORY": "s3://b/", "KOPIA_PASSWORD": "pw"]),
                                          caBundle: Array("PEM".utf8))
        let data = c.podSecretData
        #expect(data["ca.crt"] == Array("PEM".utf8))
        #expect(data["AWS_CA_BUNDLE"] == Array("/etc/ferry-ca/ca.crt".utf8))
        #expect(data["KOPIA_REPOSITORY"] == Array("s3://b/".utf8))
    }
}
