import Foundation
import Testing
@testable import Kopia

struct S3XMLTests {
    static let page = """
        <?xml version="1.0" encoding="UTF-8"?>
        <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
          <Name>bucket</Name><Prefix>repo/x</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys>
          <IsTruncated>true</IsTruncated>
          <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
          <Contents><Key>repo/xn0_abc-s1-c1</Key><LastModified>2026-01-30T10:11:12.345Z</LastModified>
            <ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag><Size>4096</Size><StorageClass>STANDARD</StorageClass></Contents>
          <Contents><Key>repo/x&amp;y&#x20;z&#65;</Key><LastModified>2026-01-30T10:11:12Z</LastModified><Size>0</Size></Contents>
        </ListBucketResult>
        """

    @Test func listPageYieldsKeysSizesTimesAndToken() throws {
        let p = try S3ListObjectsPage.parse(Array(Self.page.utf8))
        #expect(p.isTruncated)
        #expect(p.nextContinuationToken == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
        #expect(p.objects.map(\.key) == ["repo/xn0_abc-s1-c1", "repo/x&y zA"])
        #expect(p.objects.map(\.size) == [4096, 0])
        #expect(p.objects[0].lastModified == Date(timeIntervalSince1970: 1_769_767_872.345))
        #expect(p.objects[1].lastModified == Date(timeIntervalSince1970: 1_769_767_872))
    }

    @Test func lastPageHasNoToken() throws {
        let xml = "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>"
        let p = try S3ListObjectsPage.parse(Array(xml.utf8))
        #expect(!p.isTruncated && p.objects.isEmpty && p.nextContinuationToken == nil)
    }

    @Test(arguments: [
        "", "<ListBucketResult>", "<ListBucketResult></Other>", "<a><b></a></b>",
        "<!DOCTYPE x [<!ENTITY e \"boom\">]><ListBucketResult/>", "<ListBucketResult>&bogus;</ListBucketResult>",
        "<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
        "<Error><Code>x</Code></Error>",
        String(repeating: "<a>", count: 100) + String(repeating: "</a>", count: 100),
    ])
    func malformedListingsThrowStorageFailure(_ xml: String) {
        #expect(throws: KopiaError(.storageFailure, "")) { try S3ListObjectsPage.parse(Array(xml.utf8)) }
    }

    @Test func errorDocumentKeepsCodeMessageRegionButNotTheStringToSign() {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match</Message>
            <AWSAccessKeyId>AKIAEXAMPLE</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256…</StringToSign>
            <Region>eu-west-1</Region><RequestId>R1</RequestId></Error>
            """
        let e = S3ServiceError.parse(status: 403, header: { _ in nil }, body: Array(xml.utf8), operation: .get,
                                     url: "http://h/b/k")
        #expect(e.code == "SignatureDoesNotMatch")
        #expect(e.region == "eu-west-1")
        #expect(e.requestID == "R1")
        #expect(!"\(e)".contains("AKIAEXAMPLE"))
    }

    @Test func bodilessErrorTakesRegionFromHeader() {
        let e = S3ServiceError.parse(status: 301, header: { $0 == "x-amz-bucket-region" ? "ap-south-1" : nil },
                                     body: [], operation: .head, url: "https://h/b/k")
        #expect(e.code == nil && e.region == "ap-south-1")
    }
}
