import Foundation
import Testing
@testable import Kopia

/// `azure://` parsing, VolSync's mover keys and kopia's variables (kopia-format.md §18.3, §18.6).
struct AzureConfigurationTests {
    static let key = Data(repeating: 7, count: 64).base64EncodedString()

    @Test(arguments: [("azure://container", "container", ""), ("azure://container/backups", "container", "backups/"),
                      ("azure://my-repo//a//b", "my-repo", "a/b/")])
    func azureURLsParseIntoContainerAndNormalisedPrefix(_ text: String, _ container: String, _ prefix: String) throws {
        #expect(try RepositoryLocation(parsing: text) == .azure(container: container, prefix: prefix))
    }

    @Test(arguments: ["azure://", "azure://ab", "azure://Upper", "azure://a--b", "azure://acct:key@c/p"])
    func malformedAzureURLsAreRefused(_ text: String) {
        let e = #expect(throws: KopiaError.self) { _ = try AzureLocation.parse(text) }
        #expect(e?.code == .invalidArgument && e?.message.contains("key@") == false)
    }

    @Test func moverKeysAndKopiaVariablesResolveWithDocumentedPrecedence() throws {
        let location = AzureLocation(container: "repo")
        // VolSync's mover keys win over kopia's names.
        let mover = try AzureConfiguration.resolve(location: location, environment: [
            "KOPIA_AZURE_STORAGE_ACCOUNT": "moveracct", "AZURE_STORAGE_ACCOUNT": "kopiaacct",
            "KOPIA_AZURE_STORAGE_KEY": Self.key, "AZURE_STORAGE_KEY": "bm90LXRoaXMtb25l",
        ])
        let expectedKey = try AzureCredentials.sharedKey(base64: Self.key, source: "")
        #expect(mover.account == "moveracct")
        #expect(mover.credentials == expectedKey)
        #expect(mover.serviceURL == "https://moveracct.blob.core.windows.net")
        // A SAS wins over a key, as in kopia; a leading '?' is dropped.
        let sas = try AzureConfiguration.resolve(location: location, environment: [
            "AZURE_STORAGE_ACCOUNT": "kopiaacct", "AZURE_STORAGE_KEY": Self.key, "AZURE_STORAGE_SAS_TOKEN": "?sv=1&sig=x",
        ])
        #expect(sas.credentials == .sas(token: "sv=1&sig=x"))
        // Domains: kopia's AZURE_STORAGE_DOMAIN, else blob.+AZURE_ENDPOINT_SUFFIX.
        let china = try AzureConfiguration.resolve(location: location, environment: [
            "AZURE_STORAGE_ACCOUNT": "acct1", "AZURE_STORAGE_KEY": Self.key, "AZURE_ENDPOINT_SUFFIX": "core.chinacloudapi.cn",
        ])
        #expect(china.serviceURL == "https://acct1.blob.core.chinacloudapi.cn")
        let domain = try AzureConfiguration.resolve(location: location, environment: [
            "AZURE_STORAGE_ACCOUNT": "acct1", "AZURE_STORAGE_KEY": Self.key, "AZURE_ENDPOINT_SUFFIX": "ignored.example",
            "AZURE_STORAGE_DOMAIN": "blob.core.usgovcloudapi.net",
        ])
        #expect(domain.serviceURL == "https://acct1.blob.core.usgovcloudapi.net")
        let local = try AzureConfiguration.resolve(location: location, environment: [
            "AZURE_STORAGE_ACCOUNT": "acct1", "AZURE_STORAGE_KEY": Self.key, "AZURE_STORAGE_DOMAIN": "http://localhost:10000",
        ])
        #expect(local.serviceURL == "http://acct1.localhost:10000")
    }

    @Test func missingOrMalformedSettingsNameTheVariableNeverTheSecret() {
        let location = AzureLocation(container: "repo")
        let noAccount = #expect(throws: KopiaError.self) {
            _ = try AzureConfiguration.resolve(location: location, environment: ["AZURE_STORAGE_KEY": Self.key])
        }
        #expect(noAccount?.message.contains("KOPIA_AZURE_STORAGE_ACCOUNT") == true)
        let noKey = #expect(throws: KopiaError.self) {
            _ = try AzureConfiguration.resolve(location: location, environment: ["AZURE_STORAGE_ACCOUNT": "acct1"])
        }
        #expect(noKey?.message.contains("AZURE_STORAGE_SAS_TOKEN") == true)
        let badKey = #expect(throws: KopiaError.self) {
            _ = try AzureConfiguration.resolve(location: location, environment: [
                "AZURE_STORAGE_ACCOUNT": "acct1", "KOPIA_AZURE_STORAGE_KEY": "not base64 secret!!",
            ])
        }
        #expect(badKey?.message.contains("KOPIA_AZURE_STORAGE_KEY") == true && badKey?.message.contains("secret") == false)
        let config = try? AzureConfiguration.resolve(location: location, environment: [
            "AZURE_STORAGE_ACCOUNT": "acct1", "AZURE_STORAGE_KEY": Self.key])
        #expect(config.map { !"\($0)".contains(Self.key) } == true)
    }

    @Test func moverContainerKeyWinsOverTheURLAndWarns() throws {
        let r = try RepositoryLocation.resolve(explicit: nil, environment: [
            "KOPIA_REPOSITORY": "azure://docs-container/backups", "KOPIA_AZURE_CONTAINER": "mover-container",
            "KOPIA_GCS_BUCKET": "also-set",
        ])
        #expect(r.location == .azure(container: "mover-container", prefix: ""))
        #expect(r.warnings.count == 1 && r.warnings[0].contains("KOPIA_AZURE_CONTAINER"))
    }

    @Test func listPagesReadNamesLengthsTimesAndKopiaMtimeInAnyCase() throws {
        let xml = """
            <?xml version="1.0" encoding="utf-8"?><EnumerationResults ContainerName="c"><Blobs>
            <Blob><Name>r/p1</Name><Properties><Last-Modified>Fri, 26 Jun 2015 23:39:12 GMT</Last-Modified><Content-Length>12</Content-Length></Properties></Blob>
            <Blob><Name>r/q&amp;1</Name><Properties><Content-Length>0</Content-Length></Properties><Metadata><Kopiamtime>1577934245000000000</Kopiamtime></Metadata></Blob>
            </Blobs><NextMarker>2!abc</NextMarker></EnumerationResults>
            """
        let page = try AzureListBlobsPage.parse(Array(xml.utf8))
        #expect(page.blobs.map(\.name) == ["r/p1", "r/q&1"] && page.blobs.map(\.size) == [12, 0])
        #expect(page.blobs[0].modified == Date(timeIntervalSince1970: 1_435_361_952))
        #expect(page.blobs[1].modified == Date(timeIntervalSince1970: 1_577_934_245))
        #expect(page.nextMarker == "2!abc")
        let last = try AzureListBlobsPage.parse(Array("<EnumerationResults><Blobs/><NextMarker/></EnumerationResults>".utf8))
        #expect(last.blobs.isEmpty && last.nextMarker == nil)
        for bad in ["", "<Error/>", "<EnumerationResults><Blobs><Blob><Name>x</Name></Blob></Blobs></EnumerationResults>",
                    "<!DOCTYPE x><EnumerationResults/>"] {
            #expect(throws: KopiaError.self) { _ = try AzureListBlobsPage.parse(Array(bad.utf8)) }
        }
    }
}
