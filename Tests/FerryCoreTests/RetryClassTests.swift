import FerryCore
import Testing

struct RetryClassTests {
    struct Classified: RetryClassifying { var retry: RetryClass }
    struct Foreign: Error {}

    @Test func classifiedErrorsReportTheirOwnClassAndForeignOnesNone() {
        #expect(RetryClass.of(Classified(retry: .transient)) == .transient)
        #expect(RetryClass.of(Classified(retry: .permanent)) == .permanent)
        #expect(RetryClass.of(Foreign()) == nil)
        #expect(RetryClass.of(CancellationError()) == nil)
    }
}
