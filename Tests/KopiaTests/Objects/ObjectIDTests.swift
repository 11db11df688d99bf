import Kopia
import Testing

struct ObjectIDTests {
    struct ValidCase: Sendable, CustomStringConvertible {
        let text: String
        let indirection: Int
        let compressed: Bool
        let prefix: Character?
        var description: String { text }
    }

    static let valid: [ValidCase] = [
        ValidCase(text: "d9295958410ae3b73f68033274cd7a8f", indirection: 0, compressed: false, prefix: nil),
        ValidCase(text: "k775264b8fc7e19ceeed7b791c9750a69", indirection: 0, compressed: false, prefix: "k"),
        ValidCase(text: "Ix339ea08198e8c59d1502c1e7fa3d4f74", indirection: 1, compressed: false, prefix: "x"),
        ValidCase(text: "IIx339ea08198e8c59d1502c1e7fa3d4f74", indirection: 2, compressed: false, prefix: "x"),
        ValidCase(text: "Zd9295958410ae3b73f68033274cd7a8f", indirection: 0, compressed: true, prefix: nil),
        ValidCase(text: "kd7ea6f990df767a870cc0296590adf3ff8a18afecb680e14235bd2d434db3cf9", indirection: 0,
                  compressed: false, prefix: "k"),
    ]

    @Test(arguments: valid)
    func validIDsParseAndPrintBack(_ c: ValidCase) throws {
        let id = try ObjectID(parsing: c.text)
        #expect(id.indirection == c.indirection)
        #expect(id.isCompressed == c.compressed)
        #expect(id.contentID.prefix == (c.prefix?.asciiValue ?? 0))
        #expect(id.description == c.text)
    }

    @Test func legacyDMarkerIsAcceptedAndDropped() throws {
        let id = try ObjectID(parsing: "ZDd9295958410ae3b73f68033274cd7a8f")
        #expect(id.isCompressed)
        #expect(id.description == "Zd9295958410ae3b73f68033274cd7a8f")
    }

    @Test(arguments: ["", "I", "Z", "xyz", "k12345", "IZd9295958410ae3b73f68033274cd7a8f", "DDd9295958410ae3b73f68033274cd7a8f",
                      "a9295958410ae3b73f68033274cd7a8f0", "../etc/passwd", "K775264b8fc7e19ceeed7b791c9750a69",
                      "d9295958410AE3B73F68033274CD7A8F", "IIIIIIIIIx339ea08198e8c59d1502c1e7fa3d4f74"])
    func unparseableIDsAreRejectedWithTheIDNamed(_ text: String) {
        #expect {
            _ = try ObjectID(parsing: text)
        } throws: { error in
            guard let e = error as? KopiaError else { return false }
            return e.code == .invalidObjectID && e.objectID == text && !e.message.isEmpty
        }
    }
}
