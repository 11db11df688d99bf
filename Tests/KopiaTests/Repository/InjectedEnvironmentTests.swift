#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KopiaTestSupport
import Logging
import Synchronization
import Testing
import Kopia

/// A repository opened with a Secret-derived environment sees only that environment, never the process's
/// (issue 17 item 1: a credential mix-up across tenants otherwise).
struct InjectedEnvironmentTests {
    /// The process's own S3 settings, set once; no library may ever read them.
    static let processVariables: [String: String] = {
        let values = [
            "AWS_ACCESS_KEY_ID": "AKIDPROCESSONLY", "AWS_SECRET_ACCESS_KEY": "process-secret",
            "AWS_S3_ENDPOINT": "http://127.0.0.1:9",
        ]
        for (k, v) in values { setenv(k, v, 1) }
        return values
    }()

    /// Opens `s3://tenant/app` through a proxy that answers 404 to everything and records what was sent.
    private func openThroughRecorder(environment: (String) -> [String: String]) async throws
        -> [FaultInjectingProxy.Request]
    {
        let seen = Mutex<[FaultInjectingProxy.Request]>([])
        let proxy = try FaultInjectingProxy(upstreamPort: 9) { r in
            seen.withLock { $0.append(r) }
            return .status(404, code: "NoSuchKey")
        }
        defer { proxy.stop() }
        let location = try RepositoryLocation(parsing: "s3://tenant/app")
        await #expect { _ = try await KopiaRepository.open(location: location, password: "pw",
                                                            logger: Logger(label: "test"),
                                                            environment: environment(proxy.endpoint),
                                                            httpClient: try SharedTestHTTPClient.client()) } throws: {
            ($0 as? KopiaError)?.code == .notARepository
        }
        return seen.withLock { $0 }
    }

    @Test func repositoryOpenedWithASecretEnvironmentSignsOnlyWithTheSecretsKeys() async throws {
        _ = Self.processVariables  // set the process's variables before reading them back (run alone, nothing else has)
        #expect(getenv("AWS_ACCESS_KEY_ID").map { String(cString: $0) } == Self.processVariables["AWS_ACCESS_KEY_ID"])
        let requests = try await openThroughRecorder { endpoint in
            ["AWS_ACCESS_KEY_ID": "AKIDTENANT", "AWS_SECRET_ACCESS_KEY": "tenant-secret",
             "AWS_S3_ENDPOINT": endpoint, "AWS_REGION": "eu-tenant-1"]
        }
        #expect(!requests.isEmpty, "the Secret's endpoint was not used")
        for r in requests {
            let auth = r.header("authorization") ?? ""
            #expect(auth.contains("Credential=AKIDTENANT/"))
            #expect(!auth.contains("AKIDPROCESSONLY"))
            #expect(r.signedRegion == "eu-tenant-1")
        }
    }

    @Test func repositoryOpenedWithoutCredentialsStaysAnonymousDespiteProcessCredentials() async throws {
        _ = Self.processVariables
        let requests = try await openThroughRecorder { endpoint in ["AWS_S3_ENDPOINT": endpoint] }
        #expect(!requests.isEmpty)
        #expect(requests.allSatisfy { $0.header("authorization") == nil })
    }

    /// The rule behind the two tests above, checked over the sources: only the `ferry` executable reads the
    /// process environment.
    @Test func librariesNeverReadTheProcessEnvironment() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Sources")
        let libraries = ["Kopia", "Kube", "CurlHTTP", "CSI", "GRPCTransport", "FerryControllers"]
        var offenders: [String] = []
        for library in libraries {
            let root = sources.appendingPathComponent(library)
            guard let files = FileManager.default.enumerator(atPath: root.path) else { continue }
            for case let file as String in files where file.hasSuffix(".swift") {
                let text = try String(contentsOfFile: root.appendingPathComponent(file).path, encoding: .utf8)
                if text.contains("ProcessInfo.processInfo.environment") || text.contains("getenv(") {
                    offenders.append("\(library)/\(file)")
                }
            }
        }
        #expect(offenders.isEmpty, "libraries reading the process environment: \(offenders)")
    }
}
