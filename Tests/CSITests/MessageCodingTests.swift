import CSI
import Testing

@Suite(.timeLimit(.minutes(3)))
struct MessageCodingTests {
    static let createVolume = CreateVolumeRequest(
        name: "pvc-1234",
        capacityRange: .init(requiredBytes: 5 << 30, limitBytes: 10 << 30),
        volumeCapabilities: [
            .init(accessMode: .init(mode: .singleNodeWriter), accessType: .mount(.init(fsType: "ext4", mountFlags: ["noatime", "ro"]))),
            .init(accessMode: .init(mode: .multiNodeMultiWriter), accessType: .block(.init())),
        ],
        parameters: ["type": "fast", "replicas": "3"],
        secrets: ["password": "hunter2", "user": "admin"],
        volumeContentSource: .init(type: .snapshot(.init(snapshotId: "snap-9"))),
        accessibilityRequirements: .init(
            requisite: [.init(segments: ["zone": "a"]), .init(segments: ["zone": "b"])],
            preferred: [.init(segments: ["zone": "b"])]),
        mutableParameters: ["iops": "3000"])

    @Test func createVolumeRequestRoundTripsWithSecretsOneofAndTopology() throws {
        let decoded = try CreateVolumeRequest(serializedBytes: Self.createVolume.serializedBytes())
        #expect(decoded == Self.createVolume)
    }

    @Test(arguments: [
        VolumeContentSource(type: .snapshot(.init(snapshotId: "s"))),
        VolumeContentSource(type: .volume(.init(volumeId: "v"))),
        VolumeContentSource(type: nil),
    ])
    func volumeContentSourceOneofRoundTrips(source: VolumeContentSource) throws {
        let request = CreateVolumeRequest(name: "n", volumeContentSource: source)
        #expect(try CreateVolumeRequest(serializedBytes: request.serializedBytes()).volumeContentSource == source)
    }

    @Test(arguments: [
        (ProbeResponse(ready: nil), [UInt8]()),
        (ProbeResponse(ready: false), [0x0A, 0x00]),
        (ProbeResponse(ready: true), [0x0A, 0x02, 0x08, 0x01]),
    ])
    func probeReadinessWrapperKeepsPresence(response: ProbeResponse, wire: [UInt8]) throws {
        #expect(response.serializedBytes() == wire)
        #expect(try ProbeResponse(serializedBytes: wire) == response)
    }

    @Test func encodingMatchesTheProtobufWireFormat() {
        // field 1 (volume_id), length 3, "v-1"; field 2 (secrets) map entry {1: "k", 2: "v"}
        let request = DeleteVolumeRequest(volumeId: "v-1", secrets: ["k": "v"])
        #expect(request.serializedBytes() == [0x0A, 0x03, 0x76, 0x2D, 0x31, 0x12, 0x06, 0x0A, 0x01, 0x6B, 0x12, 0x01, 0x76])
    }

    @Test func snapshotTimestampAndCapacityWrappersRoundTrip() throws {
        let snapshot = CreateSnapshotResponse(snapshot: .init(
            sizeBytes: 42, snapshotId: "snap-1", sourceVolumeId: "vol-1",
            creationTime: Timestamp(seconds: 1_700_000_000, nanos: 123), readyToUse: true))
        #expect(try CreateSnapshotResponse(serializedBytes: snapshot.serializedBytes()) == snapshot)
        let capacity = GetCapacityResponse(availableCapacity: 10, maximumVolumeSize: 0, minimumVolumeSize: nil)
        let decoded = try GetCapacityResponse(serializedBytes: capacity.serializedBytes())
        #expect(decoded.maximumVolumeSize == 0)
        #expect(decoded.minimumVolumeSize == nil)
    }

    @Test func unknownEnumValuesArePreserved() throws {
        let response = ControllerGetCapabilitiesResponse(capabilities: [.init(type: .rpc(.init(type: .init(rawValue: 99))))])
        let decoded = try ControllerGetCapabilitiesResponse(serializedBytes: response.serializedBytes())
        #expect(decoded == response)
        #expect("\(ControllerServiceCapability.RPC.TypeEnum(rawValue: 99))" == "TYPE_99")
        #expect("\(ControllerServiceCapability.RPC.TypeEnum.createDeleteSnapshot)" == "CREATE_DELETE_SNAPSHOT")
    }

    @Test(arguments: [
        [0x0A, 0x05, 0x41],  // length runs past the end
        [0x0A],  // truncated tag payload
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],  // overlong varint
        [0x12, 0x03, 0x0A, 0x09, 0x41],  // map entry with a truncated key
    ] as [[UInt8]])
    func malformedBytesThrowInsteadOfTrapping(bytes: [UInt8]) {
        #expect(throws: CSIDecodingError.self) { try CreateVolumeRequest(serializedBytes: bytes) }
    }

    @Test func unknownFieldsAreSkipped() throws {
        // field 15 (unknown), varint 1, then volume_id "x"
        let decoded = try DeleteVolumeRequest(serializedBytes: [0x78, 0x01, 0x0A, 0x01, 0x78])
        #expect(decoded.volumeId == "x")
    }
}
