public import Kube

/// A `v1` Node, read only for the topology labels of a claim's selected node (WaitForFirstConsumer).
public struct ClusterNode: KubeResource {
    public static let resourceType = ResourceType(group: "", version: "v1", kind: "Node", plural: "nodes",
                                                  namespaced: false, hasStatusSubresource: true)
    public var object: JSONObject
    public init(object: JSONObject) { self.object = object }
}
