// grpc-roundtrip-bench: unary CSI round trips over a Unix socket, Ferry client -> Ferry server
// (Benchmarks/bench-grpc-roundtrip.sh runs it beside the same measurement with Python grpcio on both ends).
//
//   grpc-roundtrip-bench serve <socket>
//   grpc-roundtrip-bench client <socket> [sequential-calls] [concurrent-callers] [calls-per-caller]
//
// The client prints one JSON line: sequential p50/p99/mean in microseconds, and calls/s with concurrent callers.
import CSI
import Foundation
import GRPCTransport
import Logging

struct BenchIdentity: IdentityService {
    func getPluginInfo(_ request: GetPluginInfoRequest, context: ServerContext) async throws -> GetPluginInfoResponse {
        GetPluginInfoResponse(name: "bench.csi.ferry", vendorVersion: "1.0.0", manifest: ["impl": "ferry"])
    }
    func probe(_ request: ProbeRequest, context: ServerContext) async throws -> ProbeResponse { .init(ready: true) }
}

func microseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let index = min(sorted.count - 1, max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1))
    return sorted[index]
}

nonisolated func runClient(socket: String, sequential: Int, callers: Int, perCaller: Int) async throws -> String {
    let channel = try GRPCChannel(
        target: socket, configuration: .init(busyPoll: busyPoll), logger: Logger(label: "ferry.bench"))
    defer { channel.close() }
    let identity = IdentityClient(channel: channel)
    _ = try await identity.getPluginInfo(options: .init(timeout: .seconds(30), waitForReady: true))
    for _ in 0..<200 { _ = try await identity.getPluginInfo() }  // warm-up
    let clock = ContinuousClock()
    var samples: [Double] = []
    samples.reserveCapacity(sequential)
    for _ in 0..<sequential {
        let start = clock.now
        _ = try await identity.getPluginInfo()
        samples.append(microseconds(clock.now - start))
    }
    samples.sort()
    let concurrentStart = clock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<callers {
            group.addTask {
                for _ in 0..<perCaller { _ = try await identity.getPluginInfo() }
            }
        }
        try await group.waitForAll()
    }
    let elapsed = microseconds(clock.now - concurrentStart) / 1e6
    let result: [String: Double] = [
        "p50_us": percentile(samples, 0.50), "p99_us": percentile(samples, 0.99),
        "mean_us": samples.reduce(0, +) / Double(max(1, samples.count)),
        "calls_per_s": Double(callers * perCaller) / elapsed,
        "sequential_calls": Double(sequential), "concurrent_callers": Double(callers),
    ]
    let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
    return String(decoding: json, as: UTF8.self)
}

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    FileHandle.standardError.write(Data("usage: grpc-roundtrip-bench serve|client <socket> ...\n".utf8))
    exit(2)
}
let logger = Logger(label: "ferry.bench")
let socket = arguments[2]
/// FERRY_BENCH_BUSY_POLL_US overrides the transport's busy-poll window on both ends (0 = off).
let busyPoll: Duration = ProcessInfo.processInfo.environment["FERRY_BENCH_BUSY_POLL_US"]
    .flatMap(Int.init).map { .microseconds($0) } ?? ChannelConfiguration().busyPoll

switch arguments[1] {
case "serve":
    let server = try CSIServer(
        // The benchmark's handlers return at once, so starting them on the queue thread saves a wake-up per call.
        configuration: .init(address: socket, startsHandlersOnQueueThread: true, busyPoll: busyPoll),
        identity: BenchIdentity(), logger: logger)
    print("ready")
    fflush(nil)
    // Serve until the harness kills the process.
    while true { try await Task.sleep(for: .seconds(3600)); _ = server.address }
case "client":
    let sequential = arguments.count > 3 ? Int(arguments[3]) ?? 2000 : 2000
    let callers = arguments.count > 4 ? Int(arguments[4]) ?? 16 : 16
    let perCaller = arguments.count > 5 ? Int(arguments[5]) ?? 500 : 500
    // Off the main actor: top-level code is main-actor isolated, and hopping back to it after every call
    // would measure the main queue, not the transport.
    let line = try await Task.detached {
        try await runClient(socket: socket, sequential: sequential, callers: callers, perCaller: perCaller)
    }.value
    print(line)
default:
    FileHandle.standardError.write(Data("unknown mode \(arguments[1])\n".utf8))
    exit(2)
}
