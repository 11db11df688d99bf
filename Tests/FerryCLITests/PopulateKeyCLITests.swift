import Foundation
import Kopia
import KopiaTestSupport
import Logging
import Testing

/// `ferry populate` unlocked with `FERRY_KOPIA_REPOSITORY_KEY` (the key the controller derived when it opened the
/// repository, handed over instead of the password): it restores without the password, and a key that does not
/// open the repository fails the run with a report naming it (never printing the key).
struct PopulateKeyCLITests {
    static func key(_ fixture: String) async throws -> RepositoryKey {
        try await KopiaRepository.open(storage: try FilesystemStorage(root: Fixtures.kopia(fixture).path),
                                       password: Fixtures.password, logger: Logger(label: "test")).format.repositoryKey
    }

    @Test func theRepositoryKeyAloneRestoresTheSnapshotByteExact() async throws {
        let target = try PopulateCLITests.tempDir("populate-key")
        let reportPath = target + ".report"
        defer { try? FileManager.default.removeItem(atPath: target); try? FileManager.default.removeItem(atPath: reportPath) }
        var env = FerryProcess.fixtureEnvironment("fs-identities")
        env["KOPIA_PASSWORD"] = nil
        env[RepositoryKey.environmentKey] = try await Self.key("fs-identities").encoded
        let r = try FerryProcess.run(["populate", "--snapshot", "8acd6104b18c10046f4878a3f3284e18", "--target", target,
                                      "--report", reportPath], environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        let report = try PopulateCLITests.report(reportPath)
        #expect(report["state"] as? String == "succeeded")
        #expect(report["snapshotID"] as? String == "8acd6104b18c10046f4878a3f3284e18")
        let listing = try FileManager.default.subpathsOfDirectory(atPath: target)
        #expect(!listing.isEmpty)
    }

    @Test func aKeyOfAnotherRepositoryFailsWithAWrongPasswordReportThatDoesNotShowTheKey() async throws {
        let target = try PopulateCLITests.tempDir("populate-key")
        let reportPath = target + ".report"
        defer { try? FileManager.default.removeItem(atPath: target); try? FileManager.default.removeItem(atPath: reportPath) }
        var env = FerryProcess.fixtureEnvironment("fs-identities")
        env["KOPIA_PASSWORD"] = nil
        let other = try await Self.key("fs-multichunk").encoded
        env[RepositoryKey.environmentKey] = other
        let r = try FerryProcess.run(["populate", "--target", target, "--report", reportPath], environment: env)
        #expect(r.status == 3, "\(r.stderr)")
        let report = try PopulateCLITests.report(reportPath)
        #expect(report["reason"] as? String == "WrongPassword")
        let message = report["message"] as? String ?? ""
        #expect(message.contains("another repository"), "\(message)")
        let secretPart = String(other.split(separator: ":")[3])
        #expect(!message.contains(secretPart) && !r.stderr.contains(secretPart) && !r.stdout.contains(secretPart))
        #expect(try FileManager.default.contentsOfDirectory(atPath: target).isEmpty)
    }
}
