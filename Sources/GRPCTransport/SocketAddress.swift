/// Turns a CSI endpoint into the `unix://` target gRPC core understands.
///
/// CSI drivers are usually configured with a bare path (`--csi-address=/csi/csi.sock`), which gRPC core would hand
/// to its DNS resolver (grpc-c.md §3.8). Accepted forms: `unix:///abs/path`, `unix:/abs/path`, `/abs/path`.
/// Returns `unix:///abs/path`.
/// - Throws: ``GRPCTransportError`` `.invalidAddress` for anything else (TCP targets, relative paths, empty).
public func normalizedUnixAddress(_ endpoint: String) throws(GRPCTransportError) -> String {
    var path = Substring(endpoint)
    if path.hasPrefix("unix://") {
        path = path.dropFirst("unix://".count)
    } else if path.hasPrefix("unix:") {
        path = path.dropFirst("unix:".count)
    }
    guard path.hasPrefix("/"), path.count > 1 else {
        throw GRPCTransportError(
            .invalidAddress, "expected unix:///absolute/path or an absolute socket path", address: endpoint)
    }
    return "unix://" + path
}
