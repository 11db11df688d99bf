import CSI
import Foundation
import GRPCTransport
import Logging

/// Serves ``LocalCSIDriver`` the way a CSI driver's pods would: its controller (Identity, Controller, and the
/// first node's Node service) on `DIR/csi.sock`, where external-provisioner, the snapshotter and `ferry controller`
/// connect, and one node plugin per node (Identity and Node) on `DIR/plugins/<node>/csi.sock` for that node's
/// kubelet. Stops the servers and removes the sockets when cancelled.
///
/// Differs from a real deployment: no node-driver-registrar (kubelets find their plugin socket by path and register
/// the driver in the node's CSINode themselves, ``CSINodeRegistration``) and no CSIDriver object (the components
/// know the driver's name and topology key).
public struct CSIDriverComponent: ClusterComponent {
    public var name: String { "csi-driver" }

    public init() {}

    public func run(context: ComponentContext) async throws {
        let layout = ClusterLayout(directory: context.options.directory)
        let nodes = ClusterLayout.nodeNames(context.options.nodes)
        let driver = try LocalCSIDriver(configuration: .init(directory: context.options.directory, nodes: nodes,
                                                                  faults: context.options.csiFaults))
        var servers: [CSIServer] = []
        do {
            servers.append(try CSIServer(configuration: .init(address: layout.csiSocket, busyPoll: .zero),
                                         identity: driver, controller: driver, node: driver, logger: context.logger))
            for node in nodes {
                let socket = layout.nodePluginSocket(node)
                try FileManager.default.createDirectory(atPath: (socket as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)
                let plugin = driver.forNode(node)
                servers.append(try CSIServer(configuration: .init(address: socket, busyPoll: .zero), identity: plugin,
                                             node: plugin, logger: context.logger))
            }
            context.logger.info("csi driver serving", metadata: ["csi.endpoint": "\(layout.csiSocket)"])
            await waitUntilCancelled()
        } catch {
            for server in servers { await server.shutdown(gracePeriod: .seconds(1)) }
            throw error
        }
        for server in servers { await server.shutdown(gracePeriod: .seconds(1)) }
        try? FileManager.default.removeItem(atPath: layout.csiSocket)
        for node in nodes { try? FileManager.default.removeItem(atPath: layout.nodePluginSocket(node)) }
    }
}
