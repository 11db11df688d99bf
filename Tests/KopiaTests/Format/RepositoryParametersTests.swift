import Foundation
import Kopia
import Testing

struct RepositoryParametersTests {
    static func json(_ fields: String) -> [UInt8] {
        Array(#"{"format":{"masterKey":"bssrEF7UGVN5PCNtvHjhqBmR5NKyj8OaGpaFgNL6rBQ=""#.utf8) + Array(fields.utf8) + Array("}}".utf8)
    }

    @Test
    func theSpecificationExampleDecodes() throws {
        let text = #"{"format":{"hash":"BLAKE2B-256-128","encryption":"AES256-GCM-HMAC-SHA256","secret":"mpXXgdCgxF1bGJ1R2tfAdLPeOwm/4tGotOy7w3BI2cw=","masterKey":"bssrEF7UGVN5PCNtvHjhqBmR5NKyj8OaGpaFgNL6rBQ=","version":3,"maxPackSize":20971520,"indexVersion":2,"epochParameters":{"Enabled":true,"EpochRefreshFrequency":1200000000000,"FullCheckpointFrequency":7,"CleanupSafetyMargin":14400000000000,"MinEpochDuration":86400000000000,"EpochAdvanceOnCountThreshold":20,"EpochAdvanceOnTotalSizeBytesThreshold":10485760,"DeleteParallelism":4},"enablePasswordChange":true,"splitter":"DYNAMIC-4M-BUZHASH","somethingNew":{"x":1}}}"#
        let p = try RepositoryParameters.decode(Array(text.utf8))
        #expect(p.version == 3 && p.indexVersion == 2 && p.maxPackSize == 20_971_520)
        #expect(Hex.encode(p.masterKey) == "6ecb2b105ed41953793c236dbc78e1a81991e4d2b28fc39a1a968580d2faac14")
        #expect(Hex.encode(p.secret) == "9a95d781d0a0c45d5b189d51dad7c074b3de3b09bfe2d1a8b4ecbbc37048d9cc")
        #expect(p.epochParameters.enabled && p.epochParameters.fullCheckpointFrequency == 7)
        #expect(p.epochParameters.cleanupSafetyMarginNanoseconds == 14_400_000_000_000)
        #expect(p.epochParameters.deleteParallelism == 4)
    }

    @Test
    func defaultsApplyToAMinimalVersionOneConfig() throws {
        let p = try RepositoryParameters.decode(Self.json(""))
        #expect(p.version == 1 && p.indexVersion == 1 && !p.epochParameters.enabled)
        #expect(p.hash == "BLAKE2B-256-128" && p.encryption == "AES256-GCM-HMAC-SHA256")
        #expect(p.maxPackSize == 20 << 20 && p.splitter == "FIXED" && p.secret.isEmpty && !p.enablePasswordChange)
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        var fields: String
        var code: KopiaError.Code
        var mentions: String
        var testDescription: String { mentions }
    }

    static let refusals = [
        Refusal(fields: #","version":4"#, code: .unsupportedFormat, mentions: "version 4"),
        Refusal(fields: #","version":0"#, code: .unsupportedFormat, mentions: "version 0"),
        Refusal(fields: #","indexVersion":3"#, code: .unsupportedFormat, mentions: "index version 3"),
        Refusal(fields: #","requiredFeatures":[{"feature":"index-v3","ifNotUnderstood":{"warn":false}}]"#,
                code: .unsupportedFormat, mentions: "index-v3"),
        Refusal(fields: #","upgradeLock":{"ownerID":"admin@host","creationTime":"2026-01-01T00:00:00Z"}"#,
                code: .unsupportedFormat, mentions: "admin@host"),
        Refusal(fields: #","version":"three""#, code: .corruptBlob, mentions: "do not parse"),
    ]

    @Test(arguments: refusals)
    func unsupportedParametersAreRefusedWithTheReason(_ r: Refusal) {
        let error = #expect(throws: KopiaError.self) { _ = try RepositoryParameters.decode(Self.json(r.fields)) }
        #expect(error?.code == r.code && error?.blobID == "kopia.repository")
        #expect(error?.message.contains(r.mentions) == true, "\(error?.message ?? "")")
    }

    @Test
    func knownOrWarnOnlyFeaturesAreAccepted() throws {
        let p = try RepositoryParameters.decode(Self.json(
            #","requiredFeatures":[{"feature":"index-v2"},{"feature":"shiny","ifNotUnderstood":{"warn":true,"message":"m"}}]"#))
        #expect(p.requiredFeatures.map(\.feature) == ["index-v2", "shiny"])
    }

    @Test
    func aConfigWithoutMasterKeyIsCorrupt() {
        let error = #expect(throws: KopiaError.self) { _ = try RepositoryParameters.decode(Array(#"{"format":{}}"#.utf8)) }
        #expect(error?.code == .corruptBlob)
    }
}
