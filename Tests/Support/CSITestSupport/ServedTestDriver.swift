public import CSI
import Foundation
public import GRPCTransport
public import Logging

/// A ``TestCSIDriver`` served by ``CSIServer`` on a real Unix socket in a fresh temporary directory, with a
/// channel and typed clients connected to it.
public final class ServedTestDriver: Sendable {
    public let driver: TestCSIDriver
    public let server: CSIServer
    public let channel: GRPCChannel
    /// The socket path (without `unix://`).
    public let socketPath: String

    public var identity: IdentityClient { IdentityClient(channel: channel) }
    public var controller: ControllerClient { ControllerClient(channel: channel) }
    public var node: NodeClient { NodeClient(channel: channel) }

    init(driver: TestCSIDriver, server: CSIServer, channel: GRPCChannel, socketPath: String) {
        self.driver = driver
        self.server = server
        self.channel = channel
        self.socketPath = socketPath
    }

    /// Closes the channel, shuts the server down and removes the temporary directory.
    public func stop() async {
        channel.close()
        await server.shutdown(gracePeriod: .seconds(1))
        try? FileManager.default.removeItem(atPath: (socketPath as NSString).deletingLastPathComponent)
    }
}

/// A fresh socket path in its own temporary directory (short: Unix socket paths are limited to 107 bytes).
public func temporaryCSISocketPath() throws -> String {
    let dir = "/tmp/ferry-csi-\(UInt64.random(in: 0...UInt64.max))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir + "/csi.sock"
}

extension TestCSIDriver {
    /// Serves this driver (all three services, or only Identity and Controller when `node` is false).
    public func serve(node: Bool = true, logger: Logger = Logger(label: "ferry.test.csi")) throws -> ServedTestDriver {
        let path = try temporaryCSISocketPath()
        let server = try CSIServer(
            configuration: .init(address: path), identity: self, controller: self, node: node ? self : nil,
            logger: logger)
        let channel = try GRPCChannel(target: path, logger: logger)
        return ServedTestDriver(driver: self, server: server, channel: channel, socketPath: path)
    }

    /// Runs `body` with this driver served, and stops it afterwards.
    public func withServed<R>(node: Bool = true, _ body: (ServedTestDriver) async throws -> R) async throws -> R {
        let served = try serve(node: node)
        do {
            let result = try await body(served)
            await served.stop()
            return result
        } catch {
            await served.stop()
            throw error
        }
    }
}
