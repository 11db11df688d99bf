import CSI
import FerryControllers
import GRPCTransport
import Kube
import Testing

struct ProvisioningTests {
    static let driver = DriverCapabilities(name: Build.driver, accessibilityConstraints: true)
    static let snapshotSource = ResolvedSource(
        reference: SourceReference(group: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", namespace: "prod", name: "snap"),
        uid: "s-1", contentSource: VolumeContentSource(type: .snapshot(.init(snapshotId: "h-1"))), handle: "h-1",
        holderName: "snapcontent-1", sizeBytes: 1 << 30)

    @Test func theRequestIsNamedAfterTheClaimUIDAndCarriesSizeModesAndSource() throws {
        let claim = Build.claim(size: "2Gi", modes: ["ReadWriteOnce", "ReadOnlyMany"])
        let sc = Build.storageClass(parameters: ["csi.storage.k8s.io/fstype": "xfs", "tier": "gold"], mountOptions: ["noatime"])
        let plan = try VolumeRequestBuilder(driver: Self.driver).plan(claim: claim, storageClass: sc, source: Self.snapshotSource)
        #expect(plan.request.name == "pvc-u-1")
        #expect(plan.request.capacityRange == CapacityRange(requiredBytes: 2 << 30))
        #expect(plan.request.parameters == ["tier": "gold"])
        #expect(plan.request.volumeContentSource == Self.snapshotSource.contentSource)
        #expect(plan.request.volumeCapabilities.map { $0.accessMode?.mode } == [.singleNodeWriter, .multiNodeReaderOnly])
        #expect(plan.request.volumeCapabilities.allSatisfy {
            $0.accessType == .mount(.init(fsType: "xfs", mountFlags: ["noatime"]))
        })
    }

    @Test func blockClaimsGetBlockCapabilitiesWithoutFSType() throws {
        let plan = try VolumeRequestBuilder(driver: Self.driver, defaultFSType: "ext4")
            .plan(claim: Build.claim(volumeMode: "Block"), storageClass: Build.storageClass(), source: nil)
        #expect(plan.request.volumeCapabilities.first?.accessType == .block(.init()))
        #expect(plan.fsType == nil)
    }

    @Test func reservedParametersAreCheckedLikeUpstream() {
        let builder = VolumeRequestBuilder(driver: Self.driver)
        #expect(throws: ProvisioningProblem(.invalidStorageClass,
                                            "found unknown parameter key \"csi.storage.k8s.io/bogus\" with reserved namespace csi.storage.k8s.io/")) {
            try builder.plan(claim: Build.claim(), storageClass: Build.storageClass(parameters: ["csi.storage.k8s.io/bogus": "1"]),
                             source: nil)
        }
        #expect(throws: ProvisioningProblem.self) {
            try builder.plan(claim: Build.claim(), storageClass: Build.storageClass(parameters: ["fstype": "ext4", "csi.storage.k8s.io/fstype": "xfs"]), source: nil)
        }
        var selecting = Build.claim()
        selecting.spec.selector = JSONMap(object: ["matchLabels": ["a": "b"]])
        #expect(throws: ProvisioningProblem(.invalidClaim, "claim Selector is not supported")) {
            try builder.plan(claim: selecting, storageClass: Build.storageClass(), source: nil)
        }
    }

    @Test func provisionerSecretTemplatesResolveWithTheTargetClaim() throws {
        var claim = Build.claim()
        claim.metadata.annotations = ["team": "blue"]
        let sc = Build.storageClass(parameters: [
            "csi.storage.k8s.io/provisioner-secret-name": "${pvc.name}-${pvc.annotations['team']}",
            "csi.storage.k8s.io/provisioner-secret-namespace": "${pvc.namespace}",
            "csi.storage.k8s.io/node-stage-secret-name": "stage-${pv.name}",
            "csi.storage.k8s.io/node-stage-secret-namespace": "infra",
        ])
        let plan = try VolumeRequestBuilder(driver: Self.driver).plan(claim: claim, storageClass: sc, source: nil)
        #expect(plan.secretRefs[.provisioner] == ObjectKey(namespace: "staging", name: "claim-blue"))
        #expect(plan.secretRefs[.nodeStage] == ObjectKey(namespace: "infra", name: "stage-pvc-u-1"))
        let bad = Build.storageClass(parameters: [
            "csi.storage.k8s.io/provisioner-secret-name": "s", "csi.storage.k8s.io/provisioner-secret-namespace": "${pvc.name}",
        ])
        #expect(throws: ProvisioningProblem.self) { try VolumeRequestBuilder(driver: Self.driver).plan(claim: claim, storageClass: bad, source: nil) }
    }

    @Test func aResponseMustEchoTheContentSource() throws {
        let plan = try VolumeRequestBuilder(driver: Self.driver).plan(claim: Build.claim(), storageClass: Build.storageClass(),
                                                                      source: Self.snapshotSource)
        let silent = CreateVolumeResponse(volume: Volume(capacityBytes: 1 << 30, volumeId: "v1"))
        #expect { try VolumeResponseCheck.accept(silent, plan: plan) } throws: { error in
            (error as? ProvisioningProblem)?.kind == .contentSourceMissing
                && (error as? ProvisioningProblem)?.message.hasPrefix("volume content source missing") == true
        }
        let echoed = CreateVolumeResponse(volume: Volume(capacityBytes: 0, volumeId: "v1", contentSource: Self.snapshotSource.contentSource))
        #expect(try VolumeResponseCheck.accept(echoed, plan: plan).capacityBytes == 1 << 30)
        let small = CreateVolumeResponse(volume: Volume(capacityBytes: 1, volumeId: "v1", contentSource: Self.snapshotSource.contentSource))
        #expect(throws: ProvisioningProblem.self) { try VolumeResponseCheck.accept(small, plan: plan) }
    }

    @Test(arguments: [(RPCStatusCode.deadlineExceeded, CSIErrorClass.inProgress), (.unavailable, .inProgress),
                      (.aborted, .inProgress), (.cancelled, .inProgress), (.invalidArgument, .infeasible),
                      (.notFound, .final), (.internal, .final), (.unknown, .final), (.resourceExhausted, .final),
                      (.alreadyExists, .final)])
    func csiCodesAreClassifiedLikeCheckError(_ code: RPCStatusCode, _ expected: CSIErrorClass) {
        #expect(CSIErrorClass.classify(code) == expected)
    }

    @Test func resourceExhaustedWithASelectedNodeReschedules() {
        #expect(CSIErrorClass.classify(.resourceExhausted, topologyInUse: true, nodeSelected: true) == .reschedule)
        #expect(CSIErrorClass.eventMessage(RPCError(.invalidArgument, "bad")).hasPrefix(
            "Volume provisioning failed with infeasible error. Retries will be delayed. rpc error: code = InvalidArgument desc = bad"))
    }

    @Test func thePersistentVolumeIsPreBoundAndRecordsItsProvenance() throws {
        let claim = Build.claim()
        let sc = Build.storageClass(reclaim: "Delete", mountOptions: ["noatime"])
        let plan = try VolumeRequestBuilder(driver: Self.driver).plan(claim: claim, storageClass: sc, source: Self.snapshotSource)
        let volume = Volume(capacityBytes: 1 << 30, volumeId: "vol-9", volumeContext: ["k": "v"],
                            contentSource: Self.snapshotSource.contentSource, accessibleTopology: [Topology(segments: ["zone": "a"])])
        let grant = GrantRule(namespace: "prod", name: "g", from: [], to: [])
        let pv = PersistentVolumeBuilder(driverName: Build.driver, provisionerIdentity: "1-2-ferry.test.csi")
            .build(claim: claim, storageClass: sc, plan: plan, volume: volume, source: Self.snapshotSource,
                   authority: .grant(grant), link: "link", now: "2026-01-01T00:00:00Z")
        #expect(pv.name == "pvc-u-1")
        #expect(pv.spec.claimRef?.uid == "u-1")
        #expect(pv.spec.claimRef?.namespace == "staging")
        #expect(pv.metadata.annotations[PersistentVolumeBuilder.provisionedBy] == Build.driver)
        #expect(pv.metadata.annotations[Provenance.sourceNamespace] == "prod")
        #expect(pv.metadata.annotations[Provenance.sourceUID] == "s-1")
        #expect(pv.metadata.annotations[Provenance.sourceHandle] == "h-1")
        #expect(pv.metadata.annotations[Provenance.grant] == "prod/g")
        #expect(pv.metadata.annotations[Provenance.link] == "link")
        #expect(pv.metadata.finalizers == [PersistentVolumeBuilder.provisionerFinalizer])
        #expect(pv.spec.capacity == ["storage": "1Gi"])
        #expect(pv.spec.csi?.volumeHandle == "vol-9")
        #expect(pv.spec.csi?.volumeAttributes["k"] == "v")
        #expect(pv.spec.persistentVolumeReclaimPolicy == "Delete")
        #expect(pv.spec.mountOptions == ["noatime"])
        #expect(pv.spec.volumeMode == "Filesystem")
        #expect(pv.spec.nodeAffinity != nil)
        let retained = PersistentVolumeBuilder(driverName: Build.driver, provisionerIdentity: "x")
            .build(claim: claim, storageClass: Build.storageClass(reclaim: "Retain"), plan: plan, volume: volume,
                   source: nil, authority: nil, link: nil, now: "")
        #expect(retained.metadata.finalizers.isEmpty)
        #expect(retained.spec.persistentVolumeReclaimPolicy == "Retain")
    }

    @Test func provisioningStepsFollowTheObservedState() {
        let claim = Build.claim()
        let request = GrantRequest(claimNamespace: "staging", claimName: "claim", source: Self.snapshotSource.reference)
        let allowed = GrantDecision.allowed(.sameNamespace)
        #expect(ProvisioningStep.decide(.init(claim: claim, existingVolume: nil, grant: .denied(.noGrant(request))))
            == .deny(.noGrant(request)))
        #expect(ProvisioningStep.decide(.init(claim: claim, existingVolume: nil, grant: allowed)) == .resolveSource)
        #expect(ProvisioningStep.decide(.init(claim: claim, existingVolume: nil, grant: allowed, source: .success(Self.snapshotSource)))
            == .protectSource(Self.snapshotSource))
        #expect(ProvisioningStep.decide(.init(claim: claim, existingVolume: nil, grant: allowed, source: .success(Self.snapshotSource),
                                              sourceProtected: true)) == .provision(Self.snapshotSource))
        var pv = PersistentVolume(name: "pvc-u-1")
        pv.spec.claimRef = ObjectReference(namespace: "staging", name: "claim", uid: "u-1")
        // A PV that exists wins over a grant that disappeared since (provisioning finished before the revocation).
        #expect(ProvisioningStep.decide(.init(claim: claim, existingVolume: pv, grant: .denied(.noGrant(request))))
            == .finished(volumeName: "pvc-u-1"))
        pv.spec.claimRef?.uid = "someone-else"
        if case .conflict = ProvisioningStep.decide(.init(claim: claim, existingVolume: pv, grant: allowed)) {} else {
            Issue.record("a PV of another claim must be a conflict")
        }
    }

    @Test func sourceProtectionHoldsExactlyWhileAClaimIsPending() {
        let pending = Build.claim()
        var bound = Build.claim()
        bound.spec.volumeName = "pvc-u-1"
        #expect(SourceProtection.decide(hasFinalizer: false, dependents: [pending]) == .add)
        #expect(SourceProtection.decide(hasFinalizer: true, dependents: [pending]) == .keep)
        #expect(SourceProtection.decide(hasFinalizer: true, dependents: [bound]) == .remove)
        #expect(SourceProtection.decide(hasFinalizer: true, dependents: []) == .remove)
        #expect(SourceProtection.decide(hasFinalizer: false, dependents: []) == .keep)
    }

    @Test func claimsAreRoutedByTheirDataSourceRef() {
        let sc = Build.storageClass()
        let link = Build.claim(ref: Build.ref(group: "ferry.io", kind: "DataSourceLink", name: "l"))
        #expect(ClaimRoute.decide(claim: link, storageClass: sc, driverName: Build.driver) == .link(ObjectKey(namespace: "staging", name: "l")))
        #expect(ClaimRoute.decide(claim: link, storageClass: Build.storageClass(provisioner: "other"), driverName: Build.driver)
            == .ignore("StorageClass provisioner is not ferry.test.csi"))
        let native = Build.claim(ref: Build.ref(group: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: "snap", ns: "prod"))
        if case .native(let r) = ClaimRoute.decide(claim: native, storageClass: sc, driverName: Build.driver) {
            #expect(r.source.namespace == "prod")
        } else { Issue.record("a namespaced snapshot reference is external-provisioner's") }
        let sameNs = Build.claim(ref: Build.ref(group: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: "snap"))
        if case .ignore = ClaimRoute.decide(claim: sameNs, storageClass: sc, driverName: Build.driver) {} else {
            Issue.record("a same-namespace snapshot is not Ferry's")
        }
        let kopia = Build.claim(ref: Build.ref(group: "ferry.io", kind: "KopiaSnapshot", name: "k", ns: "prod"))
        if case .kopia(let r, nil) = ClaimRoute.decide(claim: kopia, storageClass: nil, driverName: nil) {
            #expect(r.crossesNamespaces)
        } else { Issue.record("a Kopia reference goes to the populator") }
        var l = DataSourceLink(name: "l", namespace: "staging")
        l.spec.sourceRef = Build.ref(group: "", kind: "PersistentVolumeClaim", name: "data", ns: "prod")
        if case .success(.csi(let r, "l")) = ClaimRoute.decide(claim: link, link: l, linkKey: l.key) {
            #expect(r.source.isPersistentVolumeClaim)
        } else { Issue.record("a link to a PVC is a CSI clone") }
        #expect(ClaimRoute.decide(claim: link, link: nil, linkKey: l.key).failure?.kind == .notFound)
        let dotted = Build.claim(ref: Build.ref(group: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: "..", ns: "prod"))
        if case .unsupported = ClaimRoute.decide(claim: dotted, storageClass: sc, driverName: Build.driver) {} else {
            Issue.record("a name that is not a path segment is refused before any request")
        }
    }
}
