internal import CGRPC
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Integer channel arguments for `grpc_server_create` / `grpc_channel_create`; they need to live only
/// through that call (grpc-c.md §3.9).
struct ChannelArguments {
    var integers: [(key: String, value: Int32)] = []

    mutating func set(_ key: String, _ value: Int) {
        integers.append((key, Int32(clamping: value)))
    }

    /// Calls `body` with a `grpc_channel_args` pointer valid for the duration of the call.
    func withChannelArgs<R>(_ body: (UnsafePointer<grpc_channel_args>) -> R) -> R {
        let keys = integers.map { strdup($0.key) }
        defer { keys.forEach { free($0) } }
        var args: [grpc_arg] = []
        for (index, entry) in integers.enumerated() {
            args.append(cgrpc_integer_arg(keys[index], entry.value))
        }
        return args.withUnsafeMutableBufferPointer { buffer in
            var channelArgs = grpc_channel_args(num_args: buffer.count, args: buffer.baseAddress)
            return withUnsafePointer(to: &channelArgs) { body($0) }
        }
    }
}
