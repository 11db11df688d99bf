import Foundation

/// One entry of an indirect object's chunk list: the bytes `[start, start + length)` of the object are the whole
/// of object `object`.
public struct IndirectEntry: Sendable, Hashable {
    public let start: Int64
    public let length: Int64
    public let object: ObjectID

    public init(start: Int64, length: Int64, object: ObjectID) {
        self.start = start
        self.length = length
        self.object = object
    }
}

/// The JSON chunk list an indirect (`I…`) object's list object holds (kopia-format.md §9.2; kopia
/// `repo/object/indirect.go`):
///
/// ```json
/// {"stream":"kopia:indirect","entries":[{"s":0,"l":3231820,"o":"235f…"},{"s":3231820,"l":8388608,"o":"7bd2…"}]}
/// ```
///
/// `s` and `l` are omitted when 0. Entries are in order and contiguous from 0; the object's length is the last
/// `s + l`. Unknown fields are ignored.
public enum IndirectObjectList {
    /// Parses and validates a chunk list.
    /// - Parameter objectID: the indirect object, for error messages.
    /// - Throws: `KopiaError` `.corruptContent` naming the object when the JSON does not parse, the stream tag is
    ///   wrong, an entry's object ID is invalid, or the entries are not contiguous from 0.
    public static func parse(_ bytes: [UInt8], objectID: ObjectID) throws(KopiaError) -> [IndirectEntry] {
        let raw: RawList
        do {
            raw = try JSONDecoder().decode(RawList.self, from: Data(bytes))
        } catch let error as KopiaError {
            throw error.adding(objectID: objectID.description)
        } catch {
            throw KopiaError(.corruptContent, "the chunk list of an indirect object does not parse as JSON",
                             objectID: objectID.description, cause: error)
        }
        guard raw.stream == "kopia:indirect" else {
            throw KopiaError(.corruptContent,
                             "the chunk list of an indirect object has stream \"\(raw.stream ?? "")\", "
                                 + "expected \"kopia:indirect\"",
                             objectID: objectID.description)
        }
        var entries: [IndirectEntry] = []
        entries.reserveCapacity(raw.entries?.count ?? 0)
        var expected: Int64 = 0
        for (index, e) in (raw.entries ?? []).enumerated() {
            let start = e.s ?? 0
            let length = e.l ?? 0
            guard start == expected, length >= 0 else {
                throw KopiaError(.corruptContent,
                                 "chunk \(index) of an indirect object starts at \(start) with length \(length); "
                                     + "expected a contiguous chunk at \(expected)",
                                 objectID: objectID.description)
            }
            let (sum, overflow) = start.addingReportingOverflow(length)
            guard !overflow else {
                throw KopiaError(.corruptContent, "chunk \(index) of an indirect object overflows 64 bits",
                                 objectID: objectID.description)
            }
            let object: ObjectID
            do {
                object = try ObjectID(parsing: e.o)
            } catch {
                throw KopiaError(.corruptContent,
                                 "chunk \(index) of an indirect object names an invalid object ID \"\(e.o)\"",
                                 objectID: objectID.description, cause: error)
            }
            entries.append(IndirectEntry(start: start, length: length, object: object))
            expected = sum
        }
        return entries
    }

    private struct RawList: Decodable {
        var stream: String?
        var entries: [RawEntry]?
    }

    private struct RawEntry: Decodable {
        var s: Int64?
        var l: Int64?
        var o: String
    }
}
