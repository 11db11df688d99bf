public import CSI

/// What the driver said about itself at startup (GetPluginInfo, GetPluginCapabilities, ControllerGetCapabilities).
public struct DriverCapabilities: Sendable, Hashable {
    public var name: String
    public var controllerService: Bool
    public var accessibilityConstraints: Bool
    public var createDeleteVolume: Bool
    public var snapshots: Bool
    public var clone: Bool
    public var singleNodeMultiWriter: Bool

    public init(name: String, controllerService: Bool = true, accessibilityConstraints: Bool = false,
                createDeleteVolume: Bool = true, snapshots: Bool = true, clone: Bool = true,
                singleNodeMultiWriter: Bool = false) {
        self.name = name
        self.controllerService = controllerService
        self.accessibilityConstraints = accessibilityConstraints
        self.createDeleteVolume = createDeleteVolume
        self.snapshots = snapshots
        self.clone = clone
        self.singleNodeMultiWriter = singleNodeMultiWriter
    }

    /// From the driver's answers.
    public init(name: String, plugin: [PluginCapability], controller: [ControllerServiceCapability]) {
        let services = Set(plugin.compactMap { c -> PluginCapability.Service.TypeEnum? in
            if case .service(let s)? = c.type { s.type } else { nil }
        })
        let rpcs = Set(controller.compactMap { c -> ControllerServiceCapability.RPC.TypeEnum? in
            if case .rpc(let r)? = c.type { r.type } else { nil }
        })
        self.init(name: name, controllerService: services.contains(.controllerService),
                  accessibilityConstraints: services.contains(.volumeAccessibilityConstraints),
                  createDeleteVolume: rpcs.contains(.createDeleteVolume), snapshots: rpcs.contains(.createDeleteSnapshot),
                  clone: rpcs.contains(.cloneVolume), singleNodeMultiWriter: rpcs.contains(.singleNodeMultiWriter))
    }
}
