import CurlHTTP
import Foundation
import Kube
import Logging

/// kube-scheduler, reduced to what pods of the local cluster need (kubernetes.md §9.3): node filtering and the
/// volume-binding plugin, then `POST pods/<name>/binding`.
///
/// Reproduces: only pods without `spec.nodeName` whose `schedulerName` is empty or `default-scheduler`; PreFilter
/// (a missing claim, one being deleted, one bound to a missing PV, or an unbound Immediate claim keep the pod
/// pending: "pod has unbound immediate PersistentVolumeClaims"); Filter per node — `nodeSelector`, required node
/// affinity, the node affinity of bound PVs ("node(s) had volume node affinity conflict"), and for unbound
/// WaitForFirstConsumer claims a `selected-node` naming another node, a matching static PV, or a provisionable
/// class (provisioner set, not `kubernetes.io/no-provisioner`, `allowedTopologies` admitting the node)
/// ("node(s) didn't find available persistent volumes to bind"); `FailedScheduling` "0/N nodes are available: …";
/// Reserve/PreBind — static PVs get the claim's claimRef, claims to provision get
/// `volume.kubernetes.io/selected-node`, and the pod binds only once every claim is bound (polled; a removed
/// selected-node re-runs the filters, as "provisioning failed for PVC" does); `Scheduled` "Successfully assigned
/// ns/pod to node".
///
/// Knowingly differs: scoring is "fewest pods, then name" (no resource fit, taints, spreading or preemption);
/// no CSIStorageCapacity; the PreBind wait is not bounded by 600 s (it re-checks every 250 ms for as long as the
/// pod exists).
public struct Scheduler: ClusterComponent {
    public var name: String { "scheduler" }

    public init() {}

    public func run(context: ComponentContext) async throws {
        let client = context.client
        let logger = context.logger
        let pods = Informer<Pod>(client: client, namespace: nil, logger: logger)
        let nodes = Informer<Node>(client: client, namespace: nil, logger: logger)
        let claims = Informer<PersistentVolumeClaim>(client: client, namespace: nil, logger: logger)
        let volumes = Informer<PersistentVolume>(client: client, namespace: nil, logger: logger)
        let classes = Informer<StorageClass>(client: client, namespace: nil, logger: logger)
        let loop = ControllerLoop<ObjectKey>(name: name, logger: logger)
        let pending: @Sendable () -> [ObjectKey] = {
            pods.list().filter { SchedulerCore.wantsScheduling($0) }.map(\.key)
        }
        pods.addHandler { event in
            if case .added(let p) = event, SchedulerCore.wantsScheduling(p) { loop.enqueue(p.key) }
            if case .updated(_, let p) = event, SchedulerCore.wantsScheduling(p) { loop.enqueue(p.key) }
        }
        nodes.addHandler { _ in for k in pending() { loop.enqueue(k) } }
        claims.addHandler { event in
            guard case .updated(_, let c) = event else { return }
            for k in pending() where k.namespace == c.metadata.namespace { loop.enqueue(k) }
        }
        let core = SchedulerCore(client: client, pods: pods, nodes: nodes, claims: claims, volumes: volumes,
                                 classes: classes,
                                 events: EventRecorder(client: client, component: "default-scheduler", logger: logger))
        await loop.run(informers: [pods.loopEntry, nodes.loopEntry, claims.loopEntry, volumes.loopEntry, classes.loopEntry],
                       resync: .seconds(5), workers: 2, allKeys: pending, sync: { await core.schedule($0) })
    }
}

/// The scheduling cycle of one pod.
struct SchedulerCore: Sendable {
    let client: KubeClient
    let pods: Informer<Pod>
    let nodes: Informer<Node>
    let claims: Informer<PersistentVolumeClaim>
    let volumes: Informer<PersistentVolume>
    let classes: Informer<StorageClass>
    let events: EventRecorder

    static func wantsScheduling(_ pod: Pod) -> Bool {
        let scheduler: String = pod.spec["schedulerName"] ?? "default-scheduler"
        return (pod.spec.nodeName ?? "").isEmpty && pod.metadata.deletionTimestamp == nil && scheduler == "default-scheduler"
            && pod.status.phase != "Succeeded" && pod.status.phase != "Failed"
    }

    enum Unschedulable: Error { case reason(String) }

    func schedule(_ key: ObjectKey) async -> SyncOutcome {
        guard let pod = pods.get(key), Self.wantsScheduling(pod) else { return .done }
        let namespace = pod.metadata.namespace ?? "default"
        // PreFilter.
        var bound: [PersistentVolume] = []
        var delayed: [PersistentVolumeClaim] = []
        for volume in pod.spec.volumes {
            guard let claimName = volume.object["persistentVolumeClaim"]?.object?["claimName"]?.string else { continue }
            guard let claim = claims.get(name: claimName, namespace: namespace) else {
                return await unschedulable(pod, "persistentvolumeclaim \"\(claimName)\" not found")
            }
            if claim.metadata.deletionTimestamp != nil {
                return await unschedulable(pod, "persistentvolumeclaim \"\(claimName)\" is being deleted")
            }
            if let pvName = claim.spec.volumeName, !pvName.isEmpty, claim.metadata.annotations[Names.bindCompleted] != nil {
                guard let pv = volumes.get(name: pvName, namespace: nil) else {
                    return await unschedulable(pod, "persistentvolumeclaim \"\(claimName)\" bound to non-existent persistentvolume \"\(pvName)\"")
                }
                bound.append(pv)
                continue
            }
            let cls = classes.get(name: claim.spec.storageClassName ?? "", namespace: nil)
            guard cls?.volumeBindingMode == "WaitForFirstConsumer" else {
                return await unschedulable(pod, "pod has unbound immediate PersistentVolumeClaims")
            }
            delayed.append(claim)
        }
        // Filter.
        let all = nodes.list().sorted { $0.name < $1.name }
        var reasons: [String: Int] = [:]
        var feasible: [(Node, [PersistentVolumeClaim: PersistentVolume])] = []
        for node in all {
            if !NodeAffinity.pod(pod, allows: node) {
                reasons["node(s) didn't match Pod's node affinity/selector", default: 0] += 1
                continue
            }
            if bound.contains(where: { !NodeAffinity.volume($0, allows: node) }) {
                reasons["node(s) had volume node affinity conflict", default: 0] += 1
                continue
            }
            var matches: [PersistentVolumeClaim: PersistentVolume] = [:]
            var ok = true
            for claim in delayed {
                if let selected = claim.metadata.annotations[Names.selectedNode], !selected.isEmpty, selected != node.name {
                    ok = false
                    break
                }
                if let pv = VolumeMatching.findMatchingVolume(claim, in: volumes.list(), delayBinding: true, node: node) {
                    matches[claim] = pv
                } else if !provisionable(claim, on: node) {
                    ok = false
                    break
                }
            }
            if !ok {
                reasons["node(s) didn't find available persistent volumes to bind", default: 0] += 1
                continue
            }
            feasible.append((node, matches))
        }
        guard !feasible.isEmpty else {
            let text = reasons.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            return await unschedulable(pod, "0/\(all.count) nodes are available: \(text.isEmpty ? "no nodes registered" : text).")
        }
        let load = Dictionary(grouping: pods.list().filter { ($0.spec.nodeName ?? "") != "" && $0.status.phase != "Succeeded"
            && $0.status.phase != "Failed" }, by: { $0.spec.nodeName ?? "" }).mapValues(\.count)
        guard let (node, matches) = feasible.min(by: { (load[$0.0.name] ?? 0, $0.0.name) < (load[$1.0.name] ?? 0, $1.0.name) }) else {
            return .done
        }
        // Reserve + PreBind.
        do {
            var waiting = false
            for claim in delayed {
                if let pv = matches[claim] {
                    if !VolumeMatching.isPreBound(pv, to: claim) {
                        var updated = pv
                        updated.spec.claimRef = ObjectReference(apiVersion: "v1", kind: "PersistentVolumeClaim",
                                                                namespace: claim.metadata.namespace, name: claim.name,
                                                                uid: claim.metadata.uid, resourceVersion: claim.metadata.resourceVersion)
                        _ = try await client.update(updated)
                    }
                } else if claim.metadata.annotations[Names.selectedNode] != node.name {
                    var updated = claim
                    updated.metadata.annotations[Names.selectedNode] = node.name
                    _ = try await client.update(updated)
                }
                waiting = true
            }
            if waiting { return .after(.milliseconds(250)) }
            let binding: JSONValue = [
                "apiVersion": "v1", "kind": "Binding",
                "metadata": ["name": .string(pod.name), "namespace": .string(namespace), "uid": .string(pod.metadata.uid ?? "")],
                "target": ["apiVersion": "v1", "kind": "Node", "name": .string(node.name)],
            ]
            _ = try await client.raw(.post, path: Pod.resourceType.path(namespace: namespace, name: pod.name, subresource: "binding"),
                                     body: binding)
        } catch {
            return .retry("\(error)")
        }
        await events.emit(pod, type: .normal, reason: "Scheduled",
                          message: "Successfully assigned \(namespace)/\(pod.name) to \(node.name)")
        return .done
    }

    /// `checkVolumeProvisions`: the class exists, has a provisioner, and its allowedTopologies admit the node.
    private func provisionable(_ claim: PersistentVolumeClaim, on node: Node) -> Bool {
        guard let cls = classes.get(name: claim.spec.storageClassName ?? "", namespace: nil),
              let provisioner = cls.provisioner, !provisioner.isEmpty, provisioner != "kubernetes.io/no-provisioner" else {
            return false
        }
        let allowed: [JSONMap] = cls["allowedTopologies"] ?? []
        guard !allowed.isEmpty else { return true }
        return allowed.contains { term in
            let exprs: [JSONMap] = term["matchLabelExpressions"] ?? []
            return exprs.allSatisfy { e in
                node.metadata.labels[e["key"] ?? ""].map { (e["values"] as [String]? ?? []).contains($0) } ?? false
            }
        }
    }

    private func unschedulable(_ pod: Pod, _ message: String) async -> SyncOutcome {
        await events.emit(pod, type: .warning, reason: "FailedScheduling", message: message)
        var updated = pod
        var condition = Condition(type: "PodScheduled", status: "False", reason: "Unschedulable", message: message)
        condition.object["lastProbeTime"] = .null
        if updated.status.conditions.first(where: { $0.type == "PodScheduled" })?.message != message {
            condition.lastTransitionTime = KubeletContext.timestamp()
            updated.status.conditions = updated.status.conditions.filter { $0.type != "PodScheduled" } + [condition]
            if updated.status.phase == nil { updated.status.phase = "Pending" }
            _ = try? await client.updateStatus(updated)
        }
        return .after(.seconds(1))
    }
}
