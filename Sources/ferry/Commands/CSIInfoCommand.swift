import ArgumentParser
import CSI
import Foundation
import GRPCTransport
import Logging

/// `ferry csi info`: probe a CSI driver and print what it reports.
struct CSIInfoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show a CSI driver's plugin info, capabilities, probe result and node info.",
        discussion: """
            Calls GetPluginInfo, GetPluginCapabilities, Probe and ControllerGetCapabilities, and — when the \
            driver serves the Node service — NodeGetCapabilities and NodeGetInfo.
            """ + "\n\n" + ExitCodes.help
    )

    @Option(help: "The driver's socket: unix:///path/csi.sock or an absolute path.")
    var endpoint: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Option(help: "Deadline for each call: 500ms, 5s, 1m.")
    var timeout = CSITimeout(.seconds(5))

    func run() async throws {
        let logger = Logger(label: "ferry.csi")
        let target: String
        do {
            target = try normalizedUnixAddress(endpoint)
        } catch {
            FileHandle.standardError.write(Data("ferry csi info: --endpoint: \(error.message) (got \(endpoint))\n".utf8))
            Foundation.exit(ExitCodes.usage)
        }
        let path = String(target.dropFirst("unix://".count))
        if let problem = Self.socketProblem(at: path) {
            Self.fail(problem)
        }
        let channel = try GRPCChannel(target: target, logger: logger)
        defer { channel.close() }
        let report: PluginReport
        do {
            report = try await PluginReport.collect(from: channel, options: CallOptions(timeout: timeout.duration))
        } catch let error as RPCError {
            Self.fail(Self.explain(error, path: path, timeout: timeout.duration))
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(Self.text(report), terminator: "")
        }
    }

    /// Why `path` cannot be a driver socket, or nil if it looks like one.
    static func socketProblem(at path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            return "no socket at \(path): \(String(cString: strerror(errno))) (is the driver running, and is the path right?)"
        }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else {
            return "\(path) exists but is not a Unix socket (wrong path?)"
        }
        return nil
    }

    static func explain(_ error: RPCError, path: String, timeout: Duration) -> String {
        let method = error.method.map { " (\($0))" } ?? ""
        switch error.code {
        case .unimplemented:
            return "the server at \(path) does not implement the CSI Identity service\(method): not a CSI driver?"
        case .deadlineExceeded:
            return "no answer from \(path) within \(timeout)\(method)"
        case .unavailable:
            return "cannot talk gRPC to \(path)\(method): \(error.message) (nothing listening, or not a gRPC server?)"
        default:
            return "the driver at \(path) failed\(method): \(error.code) \(error.message)"
        }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("ferry csi info: \(message)\n".utf8))
        Foundation.exit(ExitCodes.unavailable)
    }

    static func text(_ report: PluginReport) -> String {
        var out = "Plugin:       \(report.name) \(report.vendorVersion)\n"
        if !report.manifest.isEmpty {
            out += "Manifest:     " + report.manifest.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                .joined(separator: ", ") + "\n"
        }
        out += "Ready:        \(report.ready.map { $0 ? "yes" : "no" } ?? "yes (unset)")\n"
        out += "Plugin capabilities:\n" + list(report.pluginCapabilities)
        if let controller = report.controllerCapabilities {
            out += "Controller capabilities:\n" + list(controller)
        } else {
            out += "Controller:   not served\n"
        }
        if let node = report.node {
            out += "Node:\n"
            out += "  ID:         \(node.nodeID)\n"
            out += "  Max volumes: \(node.maxVolumesPerNode == 0 ? "unlimited" : String(node.maxVolumesPerNode))\n"
            if !node.accessibleTopology.isEmpty {
                out += "  Topology:   " + node.accessibleTopology.sorted { $0.key < $1.key }
                    .map { "\($0.key)=\($0.value)" }.joined(separator: ", ") + "\n"
            }
            out += "  Capabilities:\n" + list(node.capabilities, indent: "    ")
        } else {
            out += "Node:         not served\n"
        }
        return out
    }

    private static func list(_ items: [String], indent: String = "  ") -> String {
        items.isEmpty ? "\(indent)(none)\n" : items.map { "\(indent)\($0)\n" }.joined()
    }
}
