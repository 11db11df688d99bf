import FerryControllers
import Foundation
import Kopia
import KopiaTestSupport
import Kube
import Logging
import Testing

/// The populator pod's Secret carries the key the password derives for the repository instead of the password
/// when the controller opened the repository, and the password when it could not (a repository on a PVC).
struct PopulatorKeyTests {
    static func claim() -> PersistentVolumeClaim {
        var c = PersistentVolumeClaim(name: "webapp-data", namespace: "staging")
        c.metadata.uid = "0123-uid"
        c.spec.accessModes = ["ReadWriteOnce"]
        c.spec.resources.requests = ["storage": "1Gi"]
        return c
    }

    @Test func withTheKeyThePasswordStaysWithTheOwner() async throws {
        let location = try RepositoryLocation(parsing: "filesystem://" + Fixtures.kopia("fs-identities").path)
        let credentials = RepositoryCredentials(location: location, password: Fixtures.password,
                                                environment: ["KOPIA_PASSWORD": Fixtures.password, "AWS_REGION": "eu-1"])
        let repo = try await KopiaRepository.open(storage: try FilesystemStorage(root: Fixtures.kopia("fs-identities").path),
                                                  password: Fixtures.password, logger: .init(label: "test"))
        let objects = PopulatorObjects(claim: Self.claim(), workNamespace: "ferry-system")
        let withKey = objects.credentials(credentials, key: repo.format.repositoryKey).decodedData
        #expect(withKey["KOPIA_PASSWORD"] == nil)
        #expect(withKey[RepositoryKey.environmentKey].map { String(decoding: $0, as: UTF8.self) } == repo.format.repositoryKey.encoded)
        #expect(withKey["AWS_REGION"].map { String(decoding: $0, as: UTF8.self) } == "eu-1")
        #expect(withKey["KOPIA_REPOSITORY"].map { String(decoding: $0, as: UTF8.self) } == location.description)
        let withoutKey = objects.credentials(credentials).decodedData
        #expect(withoutKey["KOPIA_PASSWORD"].map { String(decoding: $0, as: UTF8.self) } == Fixtures.password)
        #expect(withoutKey[RepositoryKey.environmentKey] == nil)
    }
}
