public import Kube
public import Logging
import GRPCTransport
import CSI

/// What Ferry learns at startup: the driver (Probe until ready, name, capabilities) and which kinds the cluster
/// serves. Every problem is one line a person can act on.
public struct StartupReport: Sendable {
    public var driver: DriverCapabilities?
    public var served: InformerCache.Served
    public var problems: [String]
    public init(driver: DriverCapabilities?, served: InformerCache.Served, problems: [String]) {
        self.driver = driver
        self.served = served
        self.problems = problems
    }
}

public enum StartupChecks {
    /// Probes until the driver says ready (or leaves `ready` unset), as external-provisioner's `ProbeForever`;
    /// then reads name and capabilities. Returns nil only when the task is cancelled.
    /// - Parameter problems: lines for what the driver lacks (no CONTROLLER_SERVICE, no CREATE_DELETE_VOLUME …).
    public static func driver(identity: any CSIIdentityCalls, controller: any CSIControllerCalls, timeout: Duration,
                              logger: Logger, problems: inout [String]) async -> DriverCapabilities? {
        var attempt = 0
        while !Task.isCancelled {
            attempt += 1
            do {
                let probe = try await identity.probe(timeout: timeout)
                if probe.ready == false {
                    logger.info("CSI driver not ready yet", metadata: ["attempt": "\(attempt)"])
                } else {
                    let info = try await identity.pluginInfo(timeout: timeout)
                    let plugin = try await identity.pluginCapabilities(timeout: timeout)
                    let controllerCaps = try await controller.capabilities(timeout: timeout)
                    let caps = DriverCapabilities(name: info.name, plugin: plugin.capabilities, controller: controllerCaps.capabilities)
                    if !caps.controllerService { problems.append("CSI driver \(info.name) does not report CONTROLLER_SERVICE: Ferry cannot create volumes through it") }
                    if !caps.createDeleteVolume { problems.append("CSI driver \(info.name) does not report CREATE_DELETE_VOLUME: Ferry cannot create volumes through it") }
                    if !caps.snapshots { problems.append("CSI driver \(info.name) does not report CREATE_DELETE_SNAPSHOT: VolumeSnapshot sources will be refused") }
                    if !caps.clone { problems.append("CSI driver \(info.name) does not report CLONE_VOLUME: PersistentVolumeClaim sources will be refused") }
                    return caps
                }
            } catch {
                logger.info("CSI driver probe failed, retrying", metadata: ["attempt": "\(attempt)", "error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
        return nil
    }

    /// Which CRDs exist and which versions they serve; one line per missing one.
    public static func kinds(kube: any KubeVerbs) async -> (InformerCache.Served, [String]) {
        var problems: [String] = []
        var served = InformerCache.Served(links: false, grantVersion: nil, snapshots: false, kopiaSnapshots: false)
        func versions(_ name: String) async -> [String]? {
            do {
                let crd = try await kube.get(CustomResourceDefinition.self, name: name, namespace: nil)
                return crd.spec.versions.compactMap { v -> String? in
                    guard let n: String = v["name"], (v["served"] as Bool?) != false else { return nil }
                    return n
                }
            } catch {
                if error.code != .notFound { problems.append("cannot read CRD \(name): \(error.message)") }
                return nil
            }
        }
        for (name, without) in RequiredAccess.crds {
            let v = await versions(name)
            if v == nil { problems.append("CRD \(name) is missing: \(without)") }
            switch name {
            case "referencegrants.gateway.networking.k8s.io":
                served.grantVersion = v.flatMap { $0.contains("v1") ? "v1" : ($0.contains("v1beta1") ? "v1beta1" : nil) }
                if let v, served.grantVersion == nil { problems.append("CRD \(name) serves neither v1 nor v1beta1 (serves \(v.joined(separator: ", ")))") }
            case "volumesnapshots.snapshot.storage.k8s.io": served.snapshots = v?.contains("v1") ?? false
            case "datasourcelinks.ferry.io": served.links = v?.contains("v1alpha1") ?? false
            case "kopiasnapshots.ferry.io": served.kopiaSnapshots = v?.contains("v1alpha1") ?? false
            default: break
            }
        }
        return (served, problems)
    }
}
