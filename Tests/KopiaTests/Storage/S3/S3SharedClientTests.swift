import CurlHTTP
import Foundation
import KopiaTestSupport
import Logging
import Testing
@testable import Kopia

/// S3 storages run on an injected, shared HTTP client (issue 17 item 2): many repositories, one libcurl thread.
struct S3SharedClientTests {
    @Test func storagesShareOneClientAndReleasingOneLeavesItRunning() async throws {
        try await withMotoServer() { server in
            try await server.createBucket("shared")
            let client = try HTTPClient(configuration: S3Storage.sharedClientConfiguration, logger: Logger(label: "t"))
            defer { client.shutdown() }
            do {
                let first = try S3StorageMotoTests.storage(server, bucket: "shared", prefix: "a/", httpClient: client)
                try await first.write("x", [1, 2, 3])
            }  // `first` is released here; before issue 17 its deinit shut its own client down
            let second = try S3StorageMotoTests.storage(server, bucket: "shared", prefix: "b/", httpClient: client)
            try await second.write("y", [4])
            #expect(try await second.read("y") == [4])
            let again = try S3StorageMotoTests.storage(server, bucket: "shared", prefix: "a/", httpClient: client)
            #expect(try await again.read("x") == [1, 2, 3])
            // Many repositories at once on the one client.
            let many = try (0..<12).map {
                try S3StorageMotoTests.storage(server, bucket: "shared", prefix: "m\($0)/", httpClient: client)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (i, s) in many.enumerated() { group.addTask { try await s.write("blob", [UInt8(i)]) } }
                try await group.waitForAll()
            }
            for (i, s) in many.enumerated() { #expect(try await s.read("blob") == [UInt8(i)]) }
        }
    }

    @Test func theStorageCAGoesWithEachRequestNotWithTheClient() throws {
        var config = S3Configuration(location: S3Location(bucket: "b"), endpoint: try S3Endpoint.parse("https://127.0.0.1:1"),
                                     credentials: nil, caFile: "/dev/null")
        config.maxConcurrentRequests = 2
        let client = try SharedTestHTTPClient.client()
        _ = try S3Storage(configuration: config, httpClient: client, logger: Logger(label: "t"))
        #expect(client.configuration.tls.certificateAuthority == nil)
    }
}
