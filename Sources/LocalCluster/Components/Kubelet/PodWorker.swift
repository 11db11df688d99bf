import Foundation
import Kube
import Logging

/// One pod on one node, as the kubelet's pod worker runs it (`pkg/kubelet/pod_workers.go`, `kuberuntime`):
/// volumes first (retried with `FailedMount` events), init containers one after another, then every container as
/// a local process (``ContainerProcess``) with its restart loop; the pod's status — phase, conditions,
/// container states with exit codes, restart counts and termination messages — is written after every change.
///
/// restartPolicy: Always restarts every exit, OnFailure non-zero exits, Never none; restarts back off 1 s doubling
/// to 30 s (upstream 10 s to 5 min) with `CrashLoopBackOff`. A failing init container fails the pod under Never.
/// Deletion: a pod with a `deletionTimestamp` gets SIGTERM, SIGKILL after its grace period, then its volumes are
/// torn down and the kubelet DELETEs it with grace 0; a pod that vanished is killed at once.
actor PodWorker {
    struct ContainerState: Sendable {
        var name: String
        var image: String
        var state: JSONObject = ["waiting": ["reason": "ContainerCreating"]]
        var lastState: JSONObject = [:]
        var restartCount = 0
        var ready = false
        var started = false
        var containerID: String?
        /// It will not run again (terminated under the restart policy).
        var done = false
        var exitCode: Int32?
    }

    let context: KubeletContext
    let uid: String
    let namespace: String
    let name: String
    private(set) var pod: Pod
    private var containers: [ContainerState]
    private var initContainers: [ContainerState]
    private var running: [String: ContainerProcess] = [:]
    private var prepared: PodVolumes.Prepared?
    private var terminating = false
    private var initFailed = false
    private var conditionTimes: [String: (String, String)] = [:]
    private let startTime = KubeletContext.timestamp()
    private var main: Task<Void, Never>?
    private var tornDown = false

    init(pod: Pod, context: KubeletContext) {
        self.pod = pod
        self.context = context
        uid = pod.metadata.uid ?? pod.name
        namespace = pod.metadata.namespace ?? "default"
        name = pod.name
        func states(_ key: String) -> [ContainerState] {
            let list: [JSONMap] = pod.spec[key] ?? []
            return list.map { ContainerState(name: $0["name"] ?? "", image: $0["image"] ?? "") }
        }
        containers = states("containers")
        initContainers = states("initContainers")
    }

    var restartPolicy: String { pod.spec.restartPolicy ?? "Always" }

    func start() { main = Task { await self.lifecycle() } }

    func update(_ newer: Pod) async {
        pod = newer
        if newer.metadata.deletionTimestamp != nil, !terminating {
            let grace = newer.metadata.object["deletionGracePeriodSeconds"]?.int
                ?? (newer.spec["terminationGracePeriodSeconds"] as Int64?) ?? 30
            await terminate(grace: .seconds(grace), deleteAfter: true)
        }
    }

    /// The pod object is gone: kill everything now.
    func vanished() async { await terminate(grace: .zero, deleteAfter: false) }

    // MARK: Lifecycle

    private func lifecycle() async {
        await postStatus()
        let volumes = PodVolumes(pod: pod, nodeName: context.nodeName, kubeletDirectory: context.directory,
                                 client: context.client, node: context.node)
        while !terminating {
            do {
                let p = try await volumes.setUp()
                prepared = p
                for v in p.published { context.use(v.volumeID, by: uid, true) }
                break
            } catch {
                await context.events.emit(pod, type: .warning, reason: "FailedMount", message: error.message)
                try? await Task.sleep(for: .seconds(1))
            }
        }
        for index in initContainers.indices where !terminating {
            let spec = specs("initContainers")[index]
            let code = await runContainer(spec, index: index, isInit: true)
            if code != 0 { initFailed = true; break }
        }
        if !initFailed, !terminating {
            let specs = specs("containers")
            await withTaskGroup(of: Void.self) { group in
                for (index, spec) in specs.enumerated() {
                    group.addTask { _ = await self.runContainer(spec, index: index, isInit: false) }
                }
            }
        }
        await postStatus()
        await tearDown()
    }

    private func specs(_ key: String) -> [JSONMap] { pod.spec[key] ?? [] }

    /// Runs one container until it will not run again; returns its last exit code (nil when stopped by deletion).
    private func runContainer(_ spec: JSONMap, index: Int, isInit: Bool) async -> Int32? {
        var backoff = Duration.seconds(1)
        let containerName: String = spec["name"] ?? ""
        while !terminating {
            let launch: ContainerLaunch
            do { launch = try await buildLaunch(spec) } catch {
                setState(index, isInit) { $0.state = ["waiting": ["reason": .string(error.reason), "message": .string(error.message)]] }
                await context.events.emit(pod, type: .warning, reason: "Failed", message: "Error: \(error.message)")
                await postStatus()
                try? await Task.sleep(for: .seconds(2))
                continue
            }
            var acquired: [String] = []
            var mountError: String?
            for m in launch.mounts {
                if let e = MountPoints.shared.acquire(m.target, file: m.file) { mountError = e; break }
                acquired.append(m.target)
            }
            let process: ContainerProcess
            do {
                if let mountError { throw ContainerStartError(reason: "CreateContainerError", message: mountError) }
                process = try ContainerProcess(launch)
            } catch {
                for t in acquired { MountPoints.shared.release(t) }
                let message = (error as? ContainerStartError)?.message ?? "\(error)"
                setState(index, isInit) { $0.state = ["waiting": ["reason": "RunContainerError", "message": .string(message)]] }
                await context.events.emit(pod, type: .warning, reason: "Failed", message: "Error: \(message)")
                await postStatus()
                try? await Task.sleep(for: .seconds(2))
                continue
            }
            let started = KubeletContext.timestamp()
            running[containerName] = process
            context.processes.register(process, namespace: namespace, pod: name, container: containerName)
            let pidFile = pidPath(containerName)
            try? Data("\(process.pid)\n".utf8).write(to: pidFile)
            setState(index, isInit) {
                $0.state = ["running": ["startedAt": .string(started)]]
                $0.started = true
                $0.ready = !isInit
                $0.containerID = "local://\(process.pid)"
            }
            await context.events.emit(pod, type: .normal, reason: "Started", message: "Started container \(containerName)")
            await postStatus()
            let code = await process.wait()
            running[containerName] = nil
            context.processes.unregister(process, namespace: namespace, pod: name, container: containerName)
            try? FileManager.default.removeItem(at: pidFile)
            for t in acquired { MountPoints.shared.release(t) }
            let message = terminationMessage(spec, launch: launch, code: code)
            var terminated: JSONObject = [
                "exitCode": .int(Int64(code)), "reason": .string(code == 0 ? "Completed" : "Error"),
                "startedAt": .string(started), "finishedAt": .string(KubeletContext.timestamp()),
                "containerID": .string("local://\(process.pid)"),
            ]
            if !message.isEmpty { terminated["message"] = .string(message) }
            let policy = isInit && restartPolicy == "Always" ? "OnFailure" : restartPolicy
            let restart = !terminating && (policy == "Always" || (policy == "OnFailure" && code != 0))
            setState(index, isInit) {
                $0.state = ["terminated": .object(terminated)]
                $0.ready = false
                $0.exitCode = code
                $0.done = !restart
            }
            if !restart {
                await postStatus()
                return code
            }
            setState(index, isInit) {
                $0.lastState = ["terminated": .object(terminated)]
                $0.restartCount += 1
                $0.state = ["waiting": ["reason": "CrashLoopBackOff",
                                        "message": .string("back-off \(backoff) restarting failed container=\(containerName) pod=\(name)_\(namespace)(\(uid))")]]
            }
            await context.events.emit(pod, type: .warning, reason: "BackOff",
                                       message: "Back-off restarting failed container \(containerName) in pod \(name)_\(namespace)(\(uid))")
            await postStatus()
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(30))
        }
        return nil
    }

    private func setState(_ index: Int, _ isInit: Bool, _ change: (inout ContainerState) -> Void) {
        if isInit { if initContainers.indices.contains(index) { change(&initContainers[index]) } }
        else if containers.indices.contains(index) { change(&containers[index]) }
    }

    private func pidPath(_ container: String) -> URL {
        let dir = context.directory.appendingPathComponent("pods/\(namespace)_\(name)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent("\(container).pid")
    }

    private func terminationFile(_ container: String) -> URL {
        context.directory.appendingPathComponent("pods/\(uid)/containers/\(container)/termination-log")
    }

    /// The container's command as a process: executable from the image table, env, mounts, working directory.
    private func buildLaunch(_ spec: JSONMap) async throws(ContainerStartError) -> ContainerLaunch {
        let containerName: String = spec["name"] ?? ""
        let image: String = spec["image"] ?? ""
        guard let executable = context.images.executable(for: image) else {
            throw ContainerStartError(reason: "ErrImagePull",
                                      message: "image \"\(image)\" is not in the local cluster's image table (ferry-localcluster up --image NAME=PATH)")
        }
        var env = try await PodEnvironment(client: context.client, pod: pod, nodeName: context.nodeName).environment(for: spec)
        let command: [String] = (spec["command"] as [String]? ?? []).map { PodEnvironment.expand($0, env) }
        let args: [String] = (spec["args"] as [String]? ?? []).map { PodEnvironment.expand($0, env) }
        var argv = command.isEmpty ? [executable] + args : command + args
        if let first = command.first, !first.contains("/"), first == (executable as NSString).lastPathComponent {
            argv[0] = executable
        }
        guard let prepared else { throw ContainerStartError(reason: "ContainerCreating", message: "volumes are not ready") }
        var mounts: [ContainerMount] = []
        let volumeMounts: [JSONMap] = spec["volumeMounts"] ?? []
        for m in volumeMounts {
            let volume: String = m["name"] ?? ""
            guard let base = prepared.paths[volume], let target: String = m["mountPath"], target.hasPrefix("/") else {
                throw ContainerStartError(reason: "CreateContainerConfigError",
                                          message: "cannot find volume \"\(volume)\" to mount into container \"\(containerName)\"")
            }
            var source = base
            if let sub: String = m["subPath"], !sub.isEmpty {
                guard !sub.hasPrefix("/"), !sub.split(separator: "/").contains("..") else {
                    throw ContainerStartError(reason: "CreateContainerConfigError", message: "invalid subPath \(sub)")
                }
                source = base + "/" + sub
                if !FileManager.default.fileExists(atPath: source) {
                    try? FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
                }
            }
            var isDir: ObjCBool = true
            _ = FileManager.default.fileExists(atPath: source, isDirectory: &isDir)
            mounts.append(ContainerMount(source: source, target: target,
                                         readOnly: (m["readOnly"] as Bool? ?? false) || (prepared.readOnly[volume] ?? false),
                                         file: !isDir.boolValue))
        }
        let hasOwnMount = mounts.contains { $0.target == ServiceAccountToken.mountPath }
        let serviceAccountToken = ServiceAccountToken(
            client: context.client, pod: pod, podDirectory: context.directory.appendingPathComponent("pods/\(uid)"))
        if !hasOwnMount, let account = try await serviceAccountToken.prepare() {
            mounts.append(ContainerMount(source: account.directory, target: ServiceAccountToken.mountPath, readOnly: true,
                                         file: false))
            env.merge(account.environment) { own, _ in own }
        }
        let termination = terminationFile(containerName)
        try? FileManager.default.createDirectory(at: termination.deletingLastPathComponent(), withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: termination.path, contents: nil)
        let terminationPath: String = spec["terminationMessagePath"] ?? "/dev/termination-log"
        mounts.append(ContainerMount(source: termination.path, target: terminationPath, readOnly: false, file: true))
        mounts.sort { $0.target.split(separator: "/").count < $1.target.split(separator: "/").count }
        return ContainerLaunch(argv: argv, environment: env, workingDirectory: spec["workingDir"], mounts: mounts,
                               logFile: context.layout.logFile(namespace: namespace, pod: name, container: containerName))
    }

    /// The termination message: the file the container wrote (at most 4096 bytes), else — under
    /// FallbackToLogsOnError and a failure — the log's last 2048 bytes.
    private func terminationMessage(_ spec: JSONMap, launch: ContainerLaunch, code: Int32) -> String {
        let name: String = spec["name"] ?? ""
        if let data = FileManager.default.contents(atPath: terminationFile(name).path), !data.isEmpty {
            return String(decoding: data.prefix(4096), as: UTF8.self)
        }
        guard code != 0, spec["terminationMessagePolicy"] as String? == "FallbackToLogsOnError",
              let log = FileManager.default.contents(atPath: launch.logFile.path) else { return "" }
        return String(decoding: log.suffix(2048), as: UTF8.self)
    }

    // MARK: Termination

    private func terminate(grace: Duration, deleteAfter: Bool) async {
        terminating = true
        for (container, p) in running {
            await context.events.emit(pod, type: .normal, reason: "Killing", message: "Stopping container \(container)")
            p.signal(grace == .zero ? SIGKILL : SIGTERM)
            p.signal(SIGCONT)
        }
        let deadline = ContinuousClock.now + grace
        while running.values.contains(where: { !$0.hasExited }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        for p in running.values { p.signal(SIGKILL); p.signal(SIGCONT) }
        await main?.value
        await tearDown()
        guard deleteAfter else { return }
        do {
            try await context.client.delete(Pod.self, name: name, namespace: namespace,
                                            options: DeleteOptions(preconditionUID: uid, gracePeriodSeconds: 0))
        } catch {
            context.logger.debug("pod delete failed", metadata: ["pod.name": "\(namespace)/\(name)", "error": "\(error)"])
        }
    }

    private func tearDown() async {
        guard !tornDown else { return }
        tornDown = true
        if let prepared {
            for v in prepared.published { context.use(v.volumeID, by: uid, false) }
            let volumes = PodVolumes(pod: pod, nodeName: context.nodeName, kubeletDirectory: context.directory,
                                     client: context.client, node: context.node)
            let ctx = context
            await volumes.tearDown(prepared, stillUsed: { ctx.isUsed($0) })
        }
    }

    // MARK: Status

    private var phase: String {
        if initFailed { return "Failed" }
        if !initContainers.allSatisfy({ $0.done && $0.exitCode == 0 }) { return "Pending" }
        if containers.allSatisfy(\.done) {
            return containers.allSatisfy({ $0.exitCode == 0 }) ? "Succeeded" : "Failed"
        }
        return containers.contains(where: \.started) ? "Running" : "Pending"
    }

    private func condition(_ type: String, _ on: Bool, reason: String? = nil) -> JSONValue {
        let status = on ? "True" : "False"
        let time: String
        if let previous = conditionTimes[type], previous.0 == status { time = previous.1 } else {
            time = KubeletContext.timestamp()
            conditionTimes[type] = (status, time)
        }
        var o: JSONObject = ["type": .string(type), "status": .string(status), "lastTransitionTime": .string(time),
                             "lastProbeTime": .null]
        if let reason, !on { o["reason"] = .string(reason) }
        return .object(o)
    }

    private func statusJSON(_ c: ContainerState) -> JSONValue {
        var o: JSONObject = [
            "name": .string(c.name), "image": .string(c.image), "imageID": .string(context.images.executable(for: c.image).map { "local://\($0)" } ?? ""),
            "state": .object(c.state), "lastState": .object(c.lastState), "ready": .bool(c.ready),
            "restartCount": .int(Int64(c.restartCount)), "started": .bool(running[c.name] != nil),
        ]
        if let id = c.containerID { o["containerID"] = .string(id) }
        return .object(o)
    }

    private func postStatus() async {
        let phase = self.phase
        let initialized = initContainers.allSatisfy { $0.done && $0.exitCode == 0 }
        let ready = phase == "Running" && containers.allSatisfy(\.ready)
        var status: JSONObject = [
            "phase": .string(phase),
            "conditions": [
                condition("PodReadyToStartContainers", prepared != nil),
                condition("Initialized", initialized, reason: "ContainersNotInitialized"),
                condition("Ready", ready, reason: phase == "Succeeded" || phase == "Failed" ? "PodCompleted" : "ContainersNotReady"),
                condition("ContainersReady", ready, reason: phase == "Succeeded" || phase == "Failed" ? "PodCompleted" : "ContainersNotReady"),
                condition("PodScheduled", true),
            ],
            "hostIP": "127.0.0.1", "hostIPs": [["ip": "127.0.0.1"]], "podIP": "127.0.0.1", "podIPs": [["ip": "127.0.0.1"]],
            "startTime": .string(startTime), "qosClass": "BestEffort",
            "containerStatuses": .array(containers.map(statusJSON)),
        ]
        if !initContainers.isEmpty { status["initContainerStatuses"] = .array(initContainers.map(statusJSON)) }
        for _ in 0..<5 {
            guard var latest = try? await context.client.get(Pod.self, name: name, namespace: namespace),
                  latest.metadata.uid == uid else { return }
            latest.object["status"] = .object(status)
            do {
                pod = try await context.client.updateStatus(latest)
                return
            } catch where error.code == .conflict {
                continue
            } catch {
                context.logger.debug("pod status update failed", metadata: ["pod.name": "\(namespace)/\(name)", "error": "\(error)"])
                return
            }
        }
    }
}
