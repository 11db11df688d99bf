public import GRPCTransport

/// What a CSI driver says about itself: the answers to the Identity calls, ControllerGetCapabilities, and —
/// when the driver serves the Node service — NodeGetCapabilities and NodeGetInfo. Encodes as JSON with
/// capability names as the spec spells them.
public struct PluginReport: Sendable, Hashable, Encodable {
    public var name: String
    public var vendorVersion: String
    public var manifest: [String: String]
    /// Probe's `ready`; `nil` when the driver left it unset (which the spec says means ready).
    public var ready: Bool?
    /// e.g. `CONTROLLER_SERVICE`, `VOLUME_EXPANSION:ONLINE`.
    public var pluginCapabilities: [String]
    /// `nil` when the driver does not serve the Controller service (UNIMPLEMENTED).
    public var controllerCapabilities: [String]?
    /// `nil` when the driver does not serve the Node service (UNIMPLEMENTED).
    public var node: NodeReport?

    public struct NodeReport: Sendable, Hashable, Encodable {
        public var capabilities: [String]
        public var nodeID: String
        public var maxVolumesPerNode: Int64
        public var accessibleTopology: [String: String]
    }

    /// Asks the driver. Each call gets `options` (its own deadline).
    ///
    /// - Throws: ``RPCError`` from the first Identity call that fails, or from a Controller/Node call that fails
    ///   with anything but UNIMPLEMENTED.
    public static func collect(from channel: GRPCChannel, options: CallOptions) async throws -> PluginReport {
        let identity = IdentityClient(channel: channel)
        let info = try await identity.getPluginInfo(options: options)
        let capabilities = try await identity.getPluginCapabilities(options: options)
        let probe = try await identity.probe(options: options)
        var report = PluginReport(
            name: info.name, vendorVersion: info.vendorVersion, manifest: info.manifest, ready: probe.ready,
            pluginCapabilities: capabilities.capabilities.map(Self.name), controllerCapabilities: nil, node: nil)

        let controller = ControllerClient(channel: channel)
        report.controllerCapabilities = try await unlessUnimplemented {
            try await controller.controllerGetCapabilities(options: options).capabilities.map { capability in
                switch capability.type {
                case .rpc(let rpc)?: return rpc.type.description
                case nil: return "UNSPECIFIED"
                }
            }
        }

        let node = NodeClient(channel: channel)
        if let nodeCapabilities = try await unlessUnimplemented({
            try await node.nodeGetCapabilities(options: options).capabilities.map { capability in
                switch capability.type {
                case .rpc(let rpc)?: return rpc.type.description
                case nil: return "UNSPECIFIED"
                }
            }
        }) {
            let info = try await node.nodeGetInfo(options: options)
            report.node = NodeReport(
                capabilities: nodeCapabilities, nodeID: info.nodeId, maxVolumesPerNode: info.maxVolumesPerNode,
                accessibleTopology: info.accessibleTopology?.segments ?? [:])
        }
        return report
    }

    static func name(_ capability: PluginCapability) -> String {
        switch capability.type {
        case .service(let service)?: return service.type.description
        case .volumeExpansion(let expansion)?: return "VOLUME_EXPANSION:\(expansion.type)"
        case nil: return "UNSPECIFIED"
        }
    }

    private static func unlessUnimplemented<T>(_ body: () async throws -> T) async throws -> T? {
        do {
            return try await body()
        } catch let error as RPCError where error.code == .unimplemented {
            return nil
        }
    }
}
