public import CSI
public import GRPCTransport
public import Kube

/// The Kubernetes verbs the controllers use (issue 17 item 8): ``LiveKube`` over ``KubeClient`` in production, an
/// in-memory store in tests. Errors are ``KubeError`` so callers decide on codes (`.notFound`, `.conflict` …).
public protocol KubeVerbs: Sendable {
    func get<T: KubeResource>(_ type: T.Type, name: String, namespace: String?) async throws(KubeError) -> T
    func create<T: KubeResource>(_ object: T) async throws(KubeError) -> T
    /// Optimistic concurrency: `.conflict` when the object's resourceVersion is stale.
    func update<T: KubeResource>(_ object: T) async throws(KubeError) -> T
    func updateStatus<T: KubeResource>(_ object: T) async throws(KubeError) -> T
    /// An RFC 7386 merge patch.
    func patch<T: KubeResource>(_ type: T.Type, name: String, namespace: String?, mergePatch: JSONValue) async throws(KubeError) -> T
    func delete<T: KubeResource>(_ type: T.Type, name: String, namespace: String?) async throws(KubeError)
}

/// ``KubeVerbs`` over the real client.
public struct LiveKube: KubeVerbs {
    public let client: KubeClient
    public let fieldManager: String
    public init(client: KubeClient, fieldManager: String = "ferry-controller") {
        self.client = client
        self.fieldManager = fieldManager
    }
    public func get<T: KubeResource>(_ type: T.Type, name: String, namespace: String?) async throws(KubeError) -> T {
        try await client.get(type, name: name, namespace: namespace)
    }
    public func create<T: KubeResource>(_ object: T) async throws(KubeError) -> T {
        try await client.create(object, options: WriteOptions(fieldManager: fieldManager))
    }
    public func update<T: KubeResource>(_ object: T) async throws(KubeError) -> T {
        try await client.update(object, options: WriteOptions(fieldManager: fieldManager))
    }
    public func updateStatus<T: KubeResource>(_ object: T) async throws(KubeError) -> T {
        try await client.updateStatus(object, options: WriteOptions(fieldManager: fieldManager))
    }
    public func patch<T: KubeResource>(_ type: T.Type, name: String, namespace: String?, mergePatch: JSONValue)
        async throws(KubeError) -> T {
        try await client.patch(type, name: name, namespace: namespace, mergePatch: mergePatch,
                               options: WriteOptions(fieldManager: fieldManager))
    }
    public func delete<T: KubeResource>(_ type: T.Type, name: String, namespace: String?) async throws(KubeError) {
        try await client.delete(type, name: name, namespace: namespace)
    }
}

/// Where the controllers send events (best effort, never throws).
public protocol EventSink: Sendable {
    func record(_ object: ObjectReference, type: EventType, reason: String, message: String) async
}

extension EventRecorder: EventSink {
    public func record(_ object: ObjectReference, type: EventType, reason: String, message: String) async {
        let _: CoreEvent? = await record(object, type: type, reason: reason, message: message)
    }
}

/// The CSI Identity calls Ferry makes (startup). Throws ``RPCError``.
public protocol CSIIdentityCalls: Sendable {
    func probe(timeout: Duration) async throws -> ProbeResponse
    func pluginInfo(timeout: Duration) async throws -> GetPluginInfoResponse
    func pluginCapabilities(timeout: Duration) async throws -> GetPluginCapabilitiesResponse
}

/// The CSI Controller calls Ferry makes. Throws ``RPCError``; every call carries its own deadline.
public protocol CSIControllerCalls: Sendable {
    func capabilities(timeout: Duration) async throws -> ControllerGetCapabilitiesResponse
    func createVolume(_ request: CreateVolumeRequest, timeout: Duration) async throws -> CreateVolumeResponse
    func deleteVolume(_ request: DeleteVolumeRequest, timeout: Duration) async throws -> DeleteVolumeResponse
}

extension IdentityClient: CSIIdentityCalls {
    public func probe(timeout: Duration) async throws -> ProbeResponse {
        try await probe(options: CallOptions(timeout: timeout, waitForReady: true))
    }
    public func pluginInfo(timeout: Duration) async throws -> GetPluginInfoResponse {
        try await getPluginInfo(options: CallOptions(timeout: timeout, waitForReady: true))
    }
    public func pluginCapabilities(timeout: Duration) async throws -> GetPluginCapabilitiesResponse {
        try await getPluginCapabilities(options: CallOptions(timeout: timeout, waitForReady: true))
    }
}

extension ControllerClient: CSIControllerCalls {
    public func capabilities(timeout: Duration) async throws -> ControllerGetCapabilitiesResponse {
        try await controllerGetCapabilities(options: CallOptions(timeout: timeout, waitForReady: true))
    }
    public func createVolume(_ request: CreateVolumeRequest, timeout: Duration) async throws -> CreateVolumeResponse {
        try await createVolume(request, options: CallOptions(timeout: timeout))
    }
    public func deleteVolume(_ request: DeleteVolumeRequest, timeout: Duration) async throws -> DeleteVolumeResponse {
        try await deleteVolume(request, options: CallOptions(timeout: timeout))
    }
}
