import Foundation
import Kube
import KubeTestSupport
import HTTPTestSupport
import Logging
import Testing

/// `leaseTransitions` comes from whoever can write the Lease; counting a takeover never overflows
/// (issue 17 item 10).
struct LeaseTransitionsTests {
    @Test(arguments: [
        (nil, "", 0), (nil, "old", 1), (0, "", 1), (4, "old", 5), (-3, "old", 1),
        (Int(Int32.max) - 1, "old", Int(Int32.max)), (Int(Int32.max), "old", Int(Int32.max)), (Int.max, "", Int(Int32.max)),
    ] as [(Int?, String, Int)])
    func takeoverCountSaturatesAtInt32Max(_ current: Int?, _ holder: String, _ expected: Int) {
        #expect(LeaderElector.transitions(after: current, previousHolder: holder) == expected)
    }

    @Test func electorTakesAFreeLeaseWhoseCountIsAtTheLimit() async throws {
        let f = try Fixture()
        var lease = Lease(name: "limit", namespace: "default")
        lease.spec.leaseTransitions = Int.max
        lease.spec.leaseDurationSeconds = 1
        _ = try await f.client.create(lease)
        let elector = LeaderElector(client: f.client, configuration: .init(
            leaseName: "limit", leaseNamespace: "default", identity: "me", leaseDuration: .seconds(6),
            renewDeadline: .seconds(4), retryPeriod: .milliseconds(100)), logger: Logger(label: "me"))
        let ran = LockedBox(false)
        try await elector.run { ran.withLock { $0 = true } }
        #expect(ran.withLock { $0 })
        let after = try await f.client.get(Lease.self, name: "limit", namespace: "default")
        #expect(after.spec.leaseTransitions == Int(Int32.max))
    }
}
