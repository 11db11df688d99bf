import FerryControllers
import Kube
import Testing

/// external-provisioner's ReferenceGrant cases (`controller_test.go`, "…xns … refgrant …", kubernetes.md §1.3).
struct GrantCase: Sendable, CustomTestStringConvertible {
    var name: String
    var source: SourceReference
    var grants: [GrantRule]
    var gate = true
    var allowedBy: String?  // grant name, "" for same namespace, nil = denied
    var message: String?
    var testDescription: String { name }

    static let snap = SourceReference(group: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", namespace: "prod", name: "snap")
    static let pvc = SourceReference(group: "", kind: "PersistentVolumeClaim", namespace: "prod", name: "data")

    static func grant(_ name: String = "g", ns: String = "prod", version: String = "v1beta1",
                      from: [GrantRule.From] = [.init(group: "", kind: "PersistentVolumeClaim", namespace: "staging")],
                      to: [GrantRule.To] = [.init(group: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: "snap")]) -> GrantRule {
        GrantRule(namespace: ns, name: name, version: version, from: from, to: to)
    }
    static let deniedSnap = "accessing prod/snap of VolumeSnapshot dataSource from staging/claim isn't allowed"

    static let all: [GrantCase] = [
        GrantCase(name: "a grant naming the snapshot allows it", source: snap, grants: [grant()], allowedBy: "g"),
        GrantCase(name: "a v1 grant counts like a v1beta1 grant", source: snap, grants: [grant(version: "v1")], allowedBy: "g"),
        GrantCase(name: "a grant without a to-name allows every snapshot", source: snap,
                  grants: [grant(to: [.init(group: "snapshot.storage.k8s.io", kind: "VolumeSnapshot")])], allowedBy: "g"),
        GrantCase(name: "an empty to-name is a wildcard too", source: snap,
                  grants: [grant(to: [.init(group: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: "")])], allowedBy: "g"),
        GrantCase(name: "a grant for a PVC allows a clone", source: pvc,
                  grants: [grant(to: [.init(group: "", kind: "PersistentVolumeClaim", name: "data")])], allowedBy: "g"),
        GrantCase(name: "no grant denies with upstream's text", source: snap, grants: [], message: deniedSnap),
        GrantCase(name: "a wrong from-group denies", source: snap,
                  grants: [grant(from: [.init(group: "core", kind: "PersistentVolumeClaim", namespace: "staging")])], message: deniedSnap),
        GrantCase(name: "a wrong from-kind denies", source: snap,
                  grants: [grant(from: [.init(group: "", kind: "Pod", namespace: "staging")])], message: deniedSnap),
        GrantCase(name: "a wrong from-namespace denies", source: snap,
                  grants: [grant(from: [.init(group: "", kind: "PersistentVolumeClaim", namespace: "dev")])], message: deniedSnap),
        GrantCase(name: "a wrong to-group denies", source: snap,
                  grants: [grant(to: [.init(group: "ferry.io", kind: "VolumeSnapshot", name: "snap")])], message: deniedSnap),
        GrantCase(name: "a wrong to-kind denies", source: snap,
                  grants: [grant(to: [.init(group: "snapshot.storage.k8s.io", kind: "VolumeSnapshotContent", name: "snap")])],
                  message: deniedSnap),
        GrantCase(name: "a wrong to-name denies", source: snap,
                  grants: [grant(to: [.init(group: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: "other")])],
                  message: deniedSnap),
        GrantCase(name: "empty from and to deny", source: snap, grants: [grant(from: [], to: [])], message: deniedSnap),
        GrantCase(name: "a grant in another namespace does not count", source: snap, grants: [grant(ns: "staging")],
                  message: deniedSnap),
        GrantCase(name: "a core-group PVC reference needs an empty to-group", source: pvc,
                  grants: [grant(to: [.init(group: "v1", kind: "PersistentVolumeClaim", name: "data")])],
                  message: "accessing prod/data of PersistentVolumeClaim dataSource from staging/claim isn't allowed"),
        GrantCase(name: "any matching from and to entry among several allows", source: snap,
                  grants: [grant(from: [.init(group: "", kind: "Pod", namespace: "x"),
                                        .init(group: "", kind: "PersistentVolumeClaim", namespace: "staging")],
                                 to: [.init(group: "", kind: "Secret"), .init(group: "snapshot.storage.k8s.io", kind: "VolumeSnapshot")])],
                  allowedBy: "g"),
        GrantCase(name: "the first matching grant by name is reported", source: snap,
                  grants: [grant("zz"), grant("aa")], allowedBy: "aa"),
        GrantCase(name: "the same namespace needs no grant", source: SourceReference(
                    group: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", namespace: "staging", name: "snap"),
                  grants: [], allowedBy: ""),
        GrantCase(name: "the gate off denies a namespaced reference with upstream's text", source: snap, grants: [grant()],
                  gate: false, message: "dataSourceRef namespace specified but the CrossNamespaceVolumeDataSource feature is disabled"),
    ]
}

struct GrantDecisionTests {
    @Test(arguments: GrantCase.all)
    func grantDecisionMatchesExternalProvisioner(_ c: GrantCase) {
        let request = GrantRequest(claimNamespace: "staging", claimName: "claim", source: c.source)
        let decision = GrantDecision.decideNative(request, gateEnabled: c.gate, grants: c.grants)
        switch decision {
        case .allowed(let authority):
            #expect(c.allowedBy != nil, "expected denial, got \(authority)")
            #expect((authority.grantName ?? "") == c.allowedBy)
        case .denied(let denial):
            #expect(c.allowedBy == nil, "expected allowed, got \(denial.message)")
            #expect(denial.message == c.message)
        }
    }

    @Test func grantsAreReadFromBothReferenceGrantVersions() {
        var beta = ReferenceGrant(name: "g", namespace: "prod")
        var from = ReferenceGrantFrom()
        from.group = ""; from.kind = "PersistentVolumeClaim"; from.namespace = "staging"
        var to = ReferenceGrantTo()
        to.group = "snapshot.storage.k8s.io"; to.kind = "VolumeSnapshot"
        beta.spec.from = [from]; beta.spec.to = [to]
        var v1 = ReferenceGrantV1(name: "g1", namespace: "prod")
        v1.spec = beta.spec
        let request = GrantRequest(claimNamespace: "staging", claimName: "c", source: GrantCase.snap)
        #expect(GrantDecision.decide(request, grants: [GrantRule(beta)]).isAllowed)
        #expect(GrantDecision.decide(request, grants: [GrantRule(v1)]).isAllowed)
        #expect(GrantRule(v1).version == "v1")
    }

    @Test func aMissingGrantsSuggestionIsTheNarrowestGrantThatAllowsIt() {
        let request = GrantRequest(claimNamespace: "staging", claimName: "c", source: GrantCase.snap)
        let yaml = GrantSuggestion.yaml(for: request)
        #expect(yaml.contains("namespace: prod"))
        #expect(yaml.contains("namespace: staging"))
        #expect(yaml.contains("kind: VolumeSnapshot\n    name: snap"))
        // The suggested grant, parsed back as the rule, allows exactly this request.
        let rule = GrantRule(namespace: "prod", name: "staging-may-use-snap",
                             from: [.init(group: "", kind: "PersistentVolumeClaim", namespace: "staging")],
                             to: [.init(group: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: "snap")])
        #expect(yaml.contains("name: staging-may-use-snap"))
        #expect(GrantDecision.decide(request, grants: [rule]).isAllowed)
        let message = GrantSuggestion.eventMessage(for: .noGrant(request))
        #expect(message.hasPrefix("accessing prod/snap of VolumeSnapshot dataSource from staging/c isn't allowed"))
        #expect(message.contains("kind: ReferenceGrant"))
    }

    @Test func featureGatesParseAndMergeLikeUpstream() throws {
        #expect(try FeatureGates(parsing: []).crossNamespaceVolumeDataSource == false)
        #expect(try FeatureGates(parsing: ["CrossNamespaceVolumeDataSource=true"]).crossNamespaceVolumeDataSource)
        #expect(try !FeatureGates(parsing: ["CrossNamespaceVolumeDataSource=true", "CrossNamespaceVolumeDataSource=false"])
            .crossNamespaceVolumeDataSource)
        #expect(throws: FeatureGateError.self) { try FeatureGates(parsing: ["Nope=true"]) }
        #expect(throws: FeatureGateError.self) { try FeatureGates(parsing: ["CrossNamespaceVolumeDataSource=maybe"]) }
    }
}
