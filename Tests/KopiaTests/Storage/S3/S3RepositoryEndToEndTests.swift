import Foundation
import Logging
import Testing
import KopiaTestSupport
import Kopia

/// The engine above storage reads a repository in S3 exactly as it reads the same repository on disk: each fixture
/// is uploaded in Kopia's S3 layout (boto3), then the format blob, the index set and contents are read through
/// S3Storage and compared with FilesystemStorage.
struct S3RepositoryEndToEndTests {
    @Test func fixturesOpenFromS3AndServeTheSameContentsAsFromDisk() async throws {
        try await withMotoServer() { server in
            try await server.createBucket("e2e")
            let logger = Logger(label: "test.e2e")
            for name in Fixtures.all {
                let prefix = "kopia/\(name)/"
                try await server.uploadRepository(at: Fixtures.kopia(name), bucket: "e2e", prefix: prefix)
                let env = ["AWS_S3_ENDPOINT": server.endpoint, "AWS_ACCESS_KEY_ID": server.admin.accessKeyID,
                           "AWS_SECRET_ACCESS_KEY": server.admin.secretAccessKey]
                let s3 = try S3Storage(bucket: "e2e", prefix: prefix, environment: env,
                                       httpClient: try SharedTestHTTPClient.client(), logger: logger)
                let disk = try FilesystemStorage(root: Fixtures.kopia(name).path)

                let s3Format = try await RepositoryFormat.open(storage: s3, password: Fixtures.password)
                let diskFormat = try await RepositoryFormat.open(storage: disk, password: Fixtures.password)
                let fromS3 = try await ContentManager.open(storage: s3, format: s3Format, logger: logger)
                let fromDisk = try await ContentManager.open(storage: disk, format: diskFormat, logger: logger)
                #expect(fromS3.entryCount == fromDisk.entryCount && fromS3.entryCount > 0, "\(name)")

                var compared = 0
                for prefixByte in [UInt8(0), UInt8(ascii: "k"), UInt8(ascii: "m")] {
                    let ids = fromDisk.contentIDs(prefix: prefixByte)
                    #expect(fromS3.contentIDs(prefix: prefixByte) == ids)
                    for id in ids.prefix(25) {
                        let a = try? await fromS3.content(id)
                        let b = try? await fromDisk.content(id)
                        #expect(a == b, "\(name) content \(id)")
                        if a != nil { compared += 1 }
                    }
                }
                #expect(compared > 0, "\(name): no content decoded from S3")
            }
        }
    }
}
