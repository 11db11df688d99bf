public import CSI

/// Checks a CreateVolume answer as external-provisioner's `Provision` does (kubernetes.md §1.7). Pure.
public enum VolumeResponseCheck {
    /// The accepted volume, with its capacity (0 from the driver means "unknown": the request's size).
    /// - Throws: ``ProvisioningProblem`` `.contentSourceMissing` when a source was asked for and not echoed, and
    ///   `.capacityTooSmall` below the request. Either way the caller deletes the new volume and retries.
    public static func accept(_ response: CreateVolumeResponse, plan: VolumePlan) throws(ProvisioningProblem) -> Volume {
        guard var volume = response.volume, !volume.volumeId.isEmpty else {
            throw ProvisioningProblem(.contentSourceMissing, "CreateVolume answered without a volume")
        }
        if let asked = plan.request.volumeContentSource {
            guard let echoed = volume.contentSource, echoed.type != nil else {
                throw ProvisioningProblem(.contentSourceMissing,
                                          "volume content source missing: the driver created volume \(volume.volumeId) but did not confirm it was filled from \(describe(asked)); Ferry deleted it and will retry")
            }
            _ = echoed
        }
        if volume.capacityBytes == 0 { volume.capacityBytes = plan.requestedBytes }
        if volume.capacityBytes < plan.requestedBytes {
            throw ProvisioningProblem(.capacityTooSmall,
                                      "created volume capacity \(volume.capacityBytes) less than requested capacity \(plan.requestedBytes)")
        }
        return volume
    }

    static func describe(_ source: VolumeContentSource) -> String {
        switch source.type {
        case .snapshot(let s)?: "snapshot \(s.snapshotId)"
        case .volume(let v)?: "volume \(v.volumeId)"
        case nil: "nothing"
        }
    }
}
