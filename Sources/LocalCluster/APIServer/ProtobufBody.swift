import Foundation
import Kube

/// Decodes the Kubernetes protobuf request bodies kubectl's typed clients send (`Content-Type:
/// application/vnd.kubernetes.protobuf`, e.g. `kubectl create namespace|secret|configmap|serviceaccount`, a typed DELETE's DeleteOptions) into the
/// JSON object the server stores. Layout: the 4-byte magic `k8s\0`, then a `runtime.Unknown` message
/// (1: TypeMeta{1: apiVersion, 2: kind}, 2: raw object bytes, 3: contentEncoding, 4: contentType); the raw bytes follow
/// `k8s.io/api/core/v1/generated.proto` and `k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto`.
///
/// Only the kinds listed in `schemas` are decoded (others answer 415, and client-go has no JSON fallback for
/// protobuf: those kinds cannot be created by typed kubectl commands here); unknown field numbers are skipped.
enum ProtobufBody {
    struct Failure: Error { let message: String }

    indirect enum FieldType: Sendable {
        case string, bytes, int64, bool, time
        case message([Int: (String, FieldType)])
        case repeated(FieldType)
        case map(FieldType)  // string keys
    }

    static let time = FieldType.time
    static let ownerReference: FieldType = .message([1: ("kind", .string), 3: ("name", .string), 4: ("uid", .string),
                                                     5: ("apiVersion", .string), 6: ("controller", .bool),
                                                     7: ("blockOwnerDeletion", .bool)])
    static let objectMeta: FieldType = .message([
        1: ("name", .string), 2: ("generateName", .string), 3: ("namespace", .string), 5: ("uid", .string),
        6: ("resourceVersion", .string), 7: ("generation", .int64), 8: ("creationTimestamp", .time),
        9: ("deletionTimestamp", .time), 10: ("deletionGracePeriodSeconds", .int64), 11: ("labels", .map(.string)),
        12: ("annotations", .map(.string)), 13: ("ownerReferences", .repeated(ownerReference)),
        14: ("finalizers", .repeated(.string)),
    ])
    static let objectReference: FieldType = .message([1: ("kind", .string), 2: ("namespace", .string), 3: ("name", .string),
                                                      4: ("uid", .string), 5: ("apiVersion", .string),
                                                      6: ("resourceVersion", .string), 7: ("fieldPath", .string)])

    /// Top-level message layouts by kind.
    static let schemas: [String: [Int: (String, FieldType)]] = [
        "Namespace": [1: ("metadata", objectMeta), 2: ("spec", .message([1: ("finalizers", .repeated(.string))])),
                      3: ("status", .message([1: ("phase", .string)]))],
        "Secret": [1: ("metadata", objectMeta), 2: ("data", .map(.bytes)), 3: ("type", .string),
                   4: ("stringData", .map(.string)), 5: ("immutable", .bool)],
        "ConfigMap": [1: ("metadata", objectMeta), 2: ("data", .map(.string)), 3: ("binaryData", .map(.bytes)),
                      4: ("immutable", .bool)],
        "ServiceAccount": [1: ("metadata", objectMeta), 2: ("secrets", .repeated(objectReference)),
                           3: ("imagePullSecrets", .repeated(.message([1: ("name", .string)]))),
                           4: ("automountServiceAccountToken", .bool)],
        // `kubectl create token`: TokenRequest (authentication/v1) with its spec.
        "TokenRequest": [1: ("metadata", objectMeta),
                         2: ("spec", .message([1: ("audiences", .repeated(.string)), 4: ("expirationSeconds", .int64),
                                               3: ("boundObjectRef", .message([1: ("kind", .string), 2: ("apiVersion", .string),
                                                                              3: ("name", .string), 4: ("uid", .string)]))]))],
        // `kubectl auth can-i`: SelfSubjectAccessReview (authorization/v1).
        "SelfSubjectAccessReview": [1: ("metadata", objectMeta), 2: ("spec", .message([
            1: ("resourceAttributes", .message([1: ("namespace", .string), 2: ("verb", .string), 3: ("group", .string),
                                                4: ("version", .string), 5: ("resource", .string),
                                                6: ("subresource", .string), 7: ("name", .string)])),
            2: ("nonResourceAttributes", .message([1: ("path", .string), 2: ("verb", .string)])),
        ]))],
        // A typed client's DELETE body (Helm's secret storage driver purging a release record).
        "DeleteOptions": [1: ("gracePeriodSeconds", .int64),
                          2: ("preconditions", .message([1: ("uid", .string), 2: ("resourceVersion", .string)])),
                          3: ("orphanDependents", .bool), 4: ("propagationPolicy", .string),
                          5: ("dryRun", .repeated(.string))],
    ]

    static let magic: [UInt8] = [0x6b, 0x38, 0x73, 0x00]

    static func decode(_ body: [UInt8]) throws(Failure) -> JSONObject {
        guard body.count >= 4, Array(body[0..<4]) == magic else { throw Failure(message: "missing the k8s protobuf magic prefix") }
        var reader = Reader(bytes: body, position: 4)
        var apiVersion = "", kind = ""
        var raw: [UInt8] = []
        while !reader.atEnd {
            let (field, wire) = try reader.tag()
            switch (field, wire) {
            case (1, 2):
                var inner = Reader(bytes: try reader.lengthDelimited(), position: 0)
                while !inner.atEnd {
                    let (f, w) = try inner.tag()
                    if f == 1, w == 2 { apiVersion = String(decoding: try inner.lengthDelimited(), as: UTF8.self) }
                    else if f == 2, w == 2 { kind = String(decoding: try inner.lengthDelimited(), as: UTF8.self) }
                    else { try inner.skip(w) }
                }
            case (2, 2): raw = try reader.lengthDelimited()
            default: try reader.skip(wire)
            }
        }
        guard let schema = schemas[kind] else { throw Failure(message: "protobuf bodies of kind \(kind) are not supported") }
        var o = try decodeMessage(raw, schema)
        o["apiVersion"] = .string(apiVersion)
        o["kind"] = .string(kind)
        return o
    }

    static func decodeMessage(_ bytes: [UInt8], _ schema: [Int: (String, FieldType)]) throws(Failure) -> JSONObject {
        var reader = Reader(bytes: bytes, position: 0)
        var out: JSONObject = [:]
        while !reader.atEnd {
            let (field, wire) = try reader.tag()
            guard let (name, type) = schema[field] else { try reader.skip(wire); continue }
            switch type {
            case .repeated(let element):
                var list = out[name]?.array ?? []
                list.append(try decodeValue(&reader, wire, element))
                out[name] = .array(list)
            case .map(let valueType):
                var inner = Reader(bytes: try reader.lengthDelimited(), position: 0)
                var key = ""
                var value: JSONValue = valueType.isBytes ? "" : ""
                while !inner.atEnd {
                    let (f, w) = try inner.tag()
                    if f == 1 { key = String(decoding: try inner.lengthDelimited(), as: UTF8.self) }
                    else if f == 2 { value = try decodeValue(&inner, w, valueType) }
                    else { try inner.skip(w) }
                }
                var map = out[name]?.object ?? [:]
                map[key] = value
                out[name] = .object(map)
            default:
                out[name] = try decodeValue(&reader, wire, type)
            }
        }
        return out
    }

    static func decodeValue(_ reader: inout Reader, _ wire: Int, _ type: FieldType) throws(Failure) -> JSONValue {
        switch type {
        case .string: return .string(String(decoding: try reader.lengthDelimited(), as: UTF8.self))
        case .bytes: return .string(Data(try reader.lengthDelimited()).base64EncodedString())
        case .int64: return .int(Int64(bitPattern: try reader.varint()))
        case .bool: return .bool(try reader.varint() != 0)
        case .time:
            var inner = Reader(bytes: try reader.lengthDelimited(), position: 0)
            var seconds: Int64 = 0
            while !inner.atEnd {
                let (f, w) = try inner.tag()
                if f == 1 { seconds = Int64(bitPattern: try inner.varint()) } else { try inner.skip(w) }
            }
            let f = ISO8601DateFormatter()
            f.formatOptions = [.withInternetDateTime]
            return .string(f.string(from: Date(timeIntervalSince1970: TimeInterval(seconds))))
        case .message(let schema): return .object(try decodeMessage(try reader.lengthDelimited(), schema))
        case .repeated, .map: throw Failure(message: "nested repeated fields are not supported")
        }
    }

    struct Reader {
        let bytes: [UInt8]
        var position: Int
        var atEnd: Bool { position >= bytes.count }

        mutating func varint() throws(Failure) -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard position < bytes.count, shift < 64 else { throw Failure(message: "truncated varint") }
                let b = bytes[position]
                position += 1
                result |= UInt64(b & 0x7f) << shift
                if b & 0x80 == 0 { return result }
                shift += 7
            }
        }

        mutating func tag() throws(Failure) -> (Int, Int) {
            let t = try varint()
            return (Int(truncatingIfNeeded: t >> 3), Int(t & 7))
        }

        mutating func lengthDelimited() throws(Failure) -> [UInt8] {
            let n = try varint()
            guard n <= UInt64(bytes.count - position) else { throw Failure(message: "length beyond the end of the body") }
            let end = position + Int(n)
            defer { position = end }
            return Array(bytes[position..<end])
        }

        mutating func skip(_ wire: Int) throws(Failure) {
            switch wire {
            case 0: _ = try varint()
            case 1: guard position + 8 <= bytes.count else { throw Failure(message: "truncated fixed64") }; position += 8
            case 2: _ = try lengthDelimited()
            case 5: guard position + 4 <= bytes.count else { throw Failure(message: "truncated fixed32") }; position += 4
            default: throw Failure(message: "unsupported wire type \(wire)")
            }
        }
    }
}

extension ProtobufBody.FieldType {
    var isBytes: Bool { if case .bytes = self { true } else { false } }
}
