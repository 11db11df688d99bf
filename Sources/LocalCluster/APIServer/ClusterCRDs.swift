public import Kube
import Yams

/// The CustomResourceDefinitions a cluster with the external-snapshotter (v8) and the Gateway API (standard channel,
/// v1.x) installed has, as `ferry-localcluster up` installs them: VolumeSnapshot, VolumeSnapshotContent and
/// VolumeSnapshotClass `v1`; ReferenceGrant `v1` and `v1beta1` (v1beta1 the storage version).
///
/// Written from the upstream CRD manifests (external-snapshotter `client/config/crd/`, gateway-api
/// `config/crd/standard/gateway.networking.k8s.io_referencegrants.yaml`) with the same names, scope, versions,
/// subresources, printer columns, required fields, enums and length limits; descriptions are left out, and the CEL
/// rules (`x-kubernetes-validations`) are kept as data but not evaluated (the server has no CEL; see the module note).
public enum ClusterCRDs {
    /// `metadata.name` of every CRD, in install order.
    public static let names = [
        "volumesnapshotclasses.snapshot.storage.k8s.io", "volumesnapshotcontents.snapshot.storage.k8s.io",
        "volumesnapshots.snapshot.storage.k8s.io", "referencegrants.gateway.networking.k8s.io",
    ]

    /// The CRD objects (JSON), keyed by name.
    public static func all() throws -> [(name: String, object: JSONObject)] {
        try [volumeSnapshotClass, volumeSnapshotContent, volumeSnapshot, referenceGrant].map { yaml in
            let value = try YAMLDecoder().decode(JSONValue.self, from: yaml)
            guard let o = value.object, let name = o["metadata"]?.object?["name"]?.string else {
                throw LocalClusterError("built-in CRD text is not an object with a name")
            }
            return (name, o)
        }
    }

    static let snapshotAnnotations = """
          annotations:
            api-approved.kubernetes.io: https://github.com/kubernetes-csi/external-snapshotter/pull/1150
            controller-gen.kubebuilder.io/version: v0.15.0
        """

    static let volumeSnapshotClass = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: volumesnapshotclasses.snapshot.storage.k8s.io
        \(snapshotAnnotations)
        spec:
          group: snapshot.storage.k8s.io
          names:
            kind: VolumeSnapshotClass
            listKind: VolumeSnapshotClassList
            plural: volumesnapshotclasses
            shortNames: [vsclass, vsclasses]
            singular: volumesnapshotclass
          scope: Cluster
          versions:
          - name: v1
            served: true
            storage: true
            subresources: {}
            additionalPrinterColumns:
            - {jsonPath: .driver, name: Driver, type: string}
            - {description: 'Determines whether a VolumeSnapshotContent created through the VolumeSnapshotClass should be deleted when its bound VolumeSnapshot is deleted.', jsonPath: .deletionPolicy, name: DeletionPolicy, type: string}
            - {jsonPath: .metadata.creationTimestamp, name: Age, type: date}
            schema:
              openAPIV3Schema:
                type: object
                required: [deletionPolicy, driver]
                properties:
                  apiVersion: {type: string}
                  kind: {type: string}
                  metadata: {type: object}
                  deletionPolicy: {type: string, enum: [Delete, Retain]}
                  driver: {type: string}
                  parameters:
                    type: object
                    additionalProperties: {type: string}
        """

    static let volumeSnapshotContent = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: volumesnapshotcontents.snapshot.storage.k8s.io
        \(snapshotAnnotations)
        spec:
          group: snapshot.storage.k8s.io
          names:
            kind: VolumeSnapshotContent
            listKind: VolumeSnapshotContentList
            plural: volumesnapshotcontents
            shortNames: [vsc, vscs]
            singular: volumesnapshotcontent
          scope: Cluster
          versions:
          - name: v1
            served: true
            storage: true
            subresources: {status: {}}
            additionalPrinterColumns:
            - {description: 'Indicates if the snapshot is ready to be used to restore a volume.', jsonPath: .status.readyToUse, name: ReadyToUse, type: boolean}
            - {description: 'Represents the complete size of the snapshot in bytes', jsonPath: .status.restoreSize, name: RestoreSize, type: integer}
            - {description: 'Determines whether this VolumeSnapshotContent and its physical snapshot on the underlying storage system should be deleted when its bound VolumeSnapshot is deleted.', jsonPath: .spec.deletionPolicy, name: DeletionPolicy, type: string}
            - {description: 'Name of the CSI driver used to create the physical snapshot on the underlying storage system.', jsonPath: .spec.driver, name: Driver, type: string}
            - {description: 'Name of the VolumeSnapshotClass to which this snapshot belongs.', jsonPath: .spec.volumeSnapshotClassName, name: VolumeSnapshotClass, type: string}
            - {description: 'Name of the VolumeSnapshot object to which this VolumeSnapshotContent object is bound.', jsonPath: .spec.volumeSnapshotRef.name, name: VolumeSnapshot, type: string}
            - {description: 'Namespace of the VolumeSnapshot object to which this VolumeSnapshotContent object is bound.', jsonPath: .spec.volumeSnapshotRef.namespace, name: VolumeSnapshotNamespace, type: string}
            - {jsonPath: .metadata.creationTimestamp, name: Age, type: date}
            schema:
              openAPIV3Schema:
                type: object
                required: [spec]
                properties:
                  apiVersion: {type: string}
                  kind: {type: string}
                  metadata: {type: object}
                  spec:
                    type: object
                    required: [deletionPolicy, driver, source, volumeSnapshotRef]
                    x-kubernetes-validations:
                    - {message: sourceVolumeMode is required once set, rule: '!has(oldSelf.sourceVolumeMode) || has(self.sourceVolumeMode)'}
                    properties:
                      deletionPolicy: {type: string, enum: [Delete, Retain]}
                      driver: {type: string}
                      source:
                        type: object
                        properties:
                          snapshotHandle:
                            type: string
                            x-kubernetes-validations: [{message: snapshotHandle is immutable, rule: self == oldSelf}]
                          volumeHandle:
                            type: string
                            x-kubernetes-validations: [{message: volumeHandle is immutable, rule: self == oldSelf}]
                        x-kubernetes-validations:
                        - {message: volumeHandle is required once set, rule: '!has(oldSelf.volumeHandle) || has(self.volumeHandle)'}
                        - {message: snapshotHandle is required once set, rule: '!has(oldSelf.snapshotHandle) || has(self.snapshotHandle)'}
                        - {message: exactly one of volumeHandle and snapshotHandle must be set, rule: (has(self.volumeHandle) && !has(self.snapshotHandle)) || (!has(self.volumeHandle) && has(self.snapshotHandle))}
                      sourceVolumeMode:
                        type: string
                        x-kubernetes-validations: [{message: sourceVolumeMode is immutable, rule: self == oldSelf}]
                      volumeSnapshotClassName: {type: string}
                      volumeSnapshotRef:
                        type: object
                        x-kubernetes-map-type: atomic
                        x-kubernetes-validations:
                        - {message: both spec.volumeSnapshotRef.name and spec.volumeSnapshotRef.namespace must be set, rule: has(self.name) && has(self.__namespace__) && self.name != '' && self.__namespace__ != ''}
                        properties:
                          apiVersion: {type: string}
                          fieldPath: {type: string}
                          kind: {type: string}
                          name: {type: string}
                          namespace: {type: string}
                          resourceVersion: {type: string}
                          uid: {type: string}
                  status:
                    type: object
                    properties:
                      creationTime: {type: integer, format: int64}
                      error:
                        type: object
                        properties:
                          message: {type: string}
                          time: {type: string, format: date-time}
                      readyToUse: {type: boolean}
                      restoreSize: {type: integer, format: int64, minimum: 0}
                      snapshotHandle: {type: string}
                      volumeGroupSnapshotHandle: {type: string}
        """

    static let volumeSnapshot = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: volumesnapshots.snapshot.storage.k8s.io
        \(snapshotAnnotations)
        spec:
          group: snapshot.storage.k8s.io
          names:
            kind: VolumeSnapshot
            listKind: VolumeSnapshotList
            plural: volumesnapshots
            shortNames: [vs]
            singular: volumesnapshot
          scope: Namespaced
          versions:
          - name: v1
            served: true
            storage: true
            subresources: {status: {}}
            additionalPrinterColumns:
            - {description: 'Indicates if the snapshot is ready to be used to restore a volume.', jsonPath: .status.readyToUse, name: ReadyToUse, type: boolean}
            - {description: 'If a new snapshot needs to be created, this contains the name of the source PVC from which this snapshot was (or will be) created.', jsonPath: .spec.source.persistentVolumeClaimName, name: SourcePVC, type: string}
            - {description: 'If a snapshot already exists, this contains the name of the existing VolumeSnapshotContent object representing the existing snapshot.', jsonPath: .spec.source.volumeSnapshotContentName, name: SourceSnapshotContent, type: string}
            - {description: 'Represents the minimum size of volume required to rehydrate from this snapshot.', jsonPath: .status.restoreSize, name: RestoreSize, type: string}
            - {description: 'The name of the VolumeSnapshotClass requested by the VolumeSnapshot.', jsonPath: .spec.volumeSnapshotClassName, name: SnapshotClass, type: string}
            - {description: 'Name of the VolumeSnapshotContent object to which the VolumeSnapshot object intends to bind to. Please note that verification of binding actually requires checking both VolumeSnapshot and VolumeSnapshotContent to ensure both are pointing at each other. Binding MUST be verified prior to usage of this object.', jsonPath: .status.boundVolumeSnapshotContentName, name: SnapshotContent, type: string}
            - {description: 'Timestamp when the point-in-time snapshot was taken by the underlying storage system.', jsonPath: .status.creationTime, name: CreationTime, type: date}
            - {jsonPath: .metadata.creationTimestamp, name: Age, type: date}
            schema:
              openAPIV3Schema:
                type: object
                required: [spec]
                properties:
                  apiVersion: {type: string}
                  kind: {type: string}
                  metadata: {type: object}
                  spec:
                    type: object
                    required: [source]
                    properties:
                      source:
                        type: object
                        properties:
                          persistentVolumeClaimName:
                            type: string
                            x-kubernetes-validations: [{message: persistentVolumeClaimName is immutable, rule: self == oldSelf}]
                          volumeSnapshotContentName:
                            type: string
                            x-kubernetes-validations: [{message: volumeSnapshotContentName is immutable, rule: self == oldSelf}]
                        x-kubernetes-validations:
                        - {message: persistentVolumeClaimName is required once set, rule: '!has(oldSelf.persistentVolumeClaimName) || has(self.persistentVolumeClaimName)'}
                        - {message: volumeSnapshotContentName is required once set, rule: '!has(oldSelf.volumeSnapshotContentName) || has(self.volumeSnapshotContentName)'}
                        - {message: exactly one of volumeSnapshotContentName and persistentVolumeClaimName must be set, rule: (has(self.volumeSnapshotContentName) && !has(self.persistentVolumeClaimName)) || (!has(self.volumeSnapshotContentName) && has(self.persistentVolumeClaimName))}
                      volumeSnapshotClassName:
                        type: string
                        x-kubernetes-validations: [{message: volumeSnapshotClassName must not be the empty string when set, rule: size(self) > 0}]
                  status:
                    type: object
                    properties:
                      boundVolumeSnapshotContentName: {type: string}
                      creationTime: {type: string, format: date-time}
                      error:
                        type: object
                        properties:
                          message: {type: string}
                          time: {type: string, format: date-time}
                      readyToUse: {type: boolean}
                      restoreSize:
                        anyOf: [{type: integer}, {type: string}]
                        pattern: ^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$
                        x-kubernetes-int-or-string: true
                      volumeGroupSnapshotName: {type: string}
        """

    static let referenceGrantSchema = """
                  openAPIV3Schema:
                    type: object
                    properties:
                      apiVersion: {type: string}
                      kind: {type: string}
                      metadata: {type: object}
                      spec:
                        type: object
                        required: [from, to]
                        properties:
                          from:
                            type: array
                            maxItems: 16
                            minItems: 1
                            items:
                              type: object
                              required: [group, kind, namespace]
                              properties:
                                group: {type: string, maxLength: 253, pattern: '^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'}
                                kind: {type: string, maxLength: 63, minLength: 1, pattern: '^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$'}
                                namespace: {type: string, maxLength: 63, minLength: 1, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'}
                          to:
                            type: array
                            maxItems: 16
                            minItems: 1
                            items:
                              type: object
                              required: [group, kind]
                              properties:
                                group: {type: string, maxLength: 253, pattern: '^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'}
                                kind: {type: string, maxLength: 63, minLength: 1, pattern: '^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$'}
                                name: {type: string, maxLength: 253, minLength: 1}
        """

    static let referenceGrant = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: referencegrants.gateway.networking.k8s.io
          annotations:
            api-approved.kubernetes.io: https://github.com/kubernetes-sigs/gateway-api/pull/2997
            gateway.networking.k8s.io/bundle-version: v1.4.0
            gateway.networking.k8s.io/channel: standard
        spec:
          group: gateway.networking.k8s.io
          names:
            categories: [gateway-api]
            kind: ReferenceGrant
            listKind: ReferenceGrantList
            plural: referencegrants
            shortNames: [refgrant]
            singular: referencegrant
          scope: Namespaced
          versions:
          - name: v1
            served: true
            storage: false
            subresources: {}
            additionalPrinterColumns:
            - {jsonPath: .metadata.creationTimestamp, name: Age, type: date}
            schema:
        \(referenceGrantSchema)
          - name: v1beta1
            served: true
            storage: true
            subresources: {}
            additionalPrinterColumns:
            - {jsonPath: .metadata.creationTimestamp, name: Age, type: date}
            schema:
        \(referenceGrantSchema)
        """
}
