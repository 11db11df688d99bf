public import CSI
public import Kube

/// Builds the CSI `CreateVolumeRequest` for a claim as external-provisioner's `prepareProvision` does
/// (kubernetes.md §1.6). Pure: the secret's data is read by the caller and put into ``VolumePlan/request``.
public struct VolumeRequestBuilder: Sendable {
    public var driver: DriverCapabilities
    /// `--default-fstype` (empty = let the driver choose).
    public var defaultFSType: String
    /// `--extra-create-metadata`: add `csi.storage.k8s.io/pvc/name`, `…/pvc/namespace`, `…/pv/name`.
    public var extraCreateMetadata: Bool

    public init(driver: DriverCapabilities, defaultFSType: String = "", extraCreateMetadata: Bool = false) {
        self.driver = driver
        self.defaultFSType = defaultFSType
        self.extraCreateMetadata = extraCreateMetadata
    }

    /// The idempotency key and PV name: `pvc-<claim UID>`.
    public static func volumeName(claimUID: String) -> String { "pvc-\(claimUID)" }

    /// The request without `accessibility_requirements`: those need the nodes (``AccessibilityRequirements``) and
    /// are added by the caller when the driver reports VOLUME_ACCESSIBILITY_CONSTRAINTS, as `prepareProvision` does
    /// after building the rest.
    public func plan(claim: PersistentVolumeClaim, storageClass: StorageClass, source: ResolvedSource?)
        throws(ProvisioningProblem) -> VolumePlan {
        guard driver.controllerService, driver.createDeleteVolume else {
            throw ProvisioningProblem(.driverUnsupported,
                                      "the CSI driver \(driver.name) does not report CONTROLLER_SERVICE and CREATE_DELETE_VOLUME")
        }
        if let selector = claim.spec.selector, !selector.object.isEmpty {
            throw ProvisioningProblem(.invalidClaim, "claim Selector is not supported")
        }
        guard let uid = claim.metadata.uid, !uid.isEmpty else {
            throw ProvisioningProblem(.invalidClaim, "claim \(claim.namespace ?? "")/\(claim.name) has no UID")
        }
        guard let requested = Quantity.storage(claim.spec.resources.requests) else {
            throw ProvisioningProblem(.invalidClaim,
                                      "claim \(claim.namespace ?? "")/\(claim.name) has no valid resources.requests.storage")
        }
        let name = Self.volumeName(claimUID: uid)
        let parameters = try StorageClassParameters(storageClass.parameters)
        let block = claim.spec.volumeMode == "Block"
        let fsType = block ? nil : (parameters.fsType ?? (defaultFSType.isEmpty ? nil : defaultFSType))
        let capabilities = try capabilities(accessModes: claim.spec.accessModes, block: block, fsType: fsType ?? "",
                                            mountFlags: storageClass.mountOptions)
        var driverParameters = parameters.driverParameters
        if extraCreateMetadata {
            driverParameters["csi.storage.k8s.io/pvc/name"] = claim.name
            driverParameters["csi.storage.k8s.io/pvc/namespace"] = claim.namespace ?? ""
            driverParameters["csi.storage.k8s.io/pv/name"] = name
        }
        let context = SecretTemplateResolver.Context(pvName: name, pvcName: claim.name, pvcNamespace: claim.namespace ?? "",
                                                     pvcAnnotations: claim.metadata.annotations)
        var secretRefs: [StorageClassParameters.SecretKind: ObjectKey] = [:]
        for (kind, template) in parameters.secrets {
            let (ns, secretName) = try SecretTemplateResolver.resolve(template, kind: kind, context: context)
            secretRefs[kind] = ObjectKey(namespace: ns, name: secretName)
        }
        let request = CreateVolumeRequest(
            name: name, capacityRange: CapacityRange(requiredBytes: requested), volumeCapabilities: capabilities,
            parameters: driverParameters, secrets: [:], volumeContentSource: source?.contentSource)
        return VolumePlan(request: request, secretRefs: secretRefs, fsType: fsType, requestedBytes: requested, block: block)
    }

    /// One capability per access mode (`getVolumeCapabilities`).
    func capabilities(accessModes: [String], block: Bool, fsType: String, mountFlags: [String])
        throws(ProvisioningProblem) -> [VolumeCapability] {
        guard !accessModes.isEmpty else {
            throw ProvisioningProblem(.invalidClaim, "claim has no accessModes")
        }
        var result: [VolumeCapability] = []
        for mode in accessModes {
            let csiMode: VolumeCapability.AccessMode.Mode
            switch mode {
            case "ReadWriteOnce":
                csiMode = driver.singleNodeMultiWriter ? .singleNodeMultiWriter : .singleNodeWriter
            case "ReadWriteOncePod":
                csiMode = driver.singleNodeMultiWriter ? .singleNodeSingleWriter : .singleNodeWriter
            case "ReadOnlyMany": csiMode = .multiNodeReaderOnly
            case "ReadWriteMany": csiMode = .multiNodeMultiWriter
            default: throw ProvisioningProblem(.invalidClaim, "unknown access mode \(mode)")
            }
            let accessType: VolumeCapability.OneOf_AccessType = block
                ? .block(.init()) : .mount(.init(fsType: fsType, mountFlags: mountFlags))
            result.append(VolumeCapability(accessMode: .init(mode: csiMode), accessType: accessType))
        }
        return result
    }
}

/// What ``VolumeRequestBuilder`` decided: the request (secrets still empty), which secrets to read, and the facts
/// the PV needs.
public struct VolumePlan: Sendable, Hashable {
    public var request: CreateVolumeRequest
    /// Resolved secret references by kind (the provisioner secret fills ``request``'s secrets; the others go on the PV).
    public var secretRefs: [StorageClassParameters.SecretKind: ObjectKey]
    public var fsType: String?
    public var requestedBytes: Int64
    public var block: Bool
}
