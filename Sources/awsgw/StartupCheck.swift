import AWSModels
import Foundation
import GatewayCore
import GatewayServer

/// What `awsgw serve` will open, checked before it writes anything (a development
/// certificate, a socket's folder, the audit log's folder). `config check` runs the same
/// checks, so a file it calls valid is one `serve` can start with.
struct StartupCheck {
    /// Each stops the start.
    var problems: [String] = []
    /// What `serve` will make where nothing is yet.
    var notes: [String] = []
    /// The models, opened (nil when that is one of the problems).
    var models: ModelStore?

    /// The listeners `serve` opens: the file's, or the private default socket when the file
    /// names none (or there is no file), and then those given with `--listen`.
    static func listeners(config: GatewayConfig, flags: [String], environment: [String: String]) -> [String] {
        var all: [String] = []
        for address in (config.listen.isEmpty ? ["unix:" + DefaultListener.path(environment: environment)] : config.listen) + flags
        where !all.contains(address) {
            all.append(address)
        }
        return all
    }

    init(config: GatewayConfig, models: ModelsLocation.Choice, environment: [String: String]) {
        do {
            self.models = try ModelsLocation.open(models)
        } catch {
            problems.append("models: \(error)")
        }
        for address in config.listen {
            guard case .unix(let path)? = ListenAddress(address) else { continue }
            if path == DefaultListener.path(environment: environment), let problem = DefaultListener.directoryProblem(for: path) {
                problems.append("\(address): \(problem)")
            } else {
                checkFolder((path as NSString).deletingLastPathComponent, for: address)
            }
        }
        if config.listen.contains(where: { $0.hasPrefix("tls:") }) { checkTLS(config.tls) }
        if let logs = config.logs {
            let dir = logs.dir.isEmpty ? AuditLogSettings.defaultDirectory(environment: environment) : logs.dir
            checkFolder(dir, for: "logs.dir")
        }
        if let caFile = config.shared?.caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            problems.append("shared.ca_file: \(caFile) cannot be read")
        }
    }

    /// The TLS pair and client CA: readable and usable, or (for the default pair only)
    /// both missing, to be made as a development certificate.
    private mutating func checkTLS(_ tls: TLSConfig) {
        let missing = [tls.cert, tls.key].filter { !FileManager.default.fileExists(atPath: $0) }
        if tls.isDefaultPair && missing.count == 2 {
            notes.append("tls: no certificate at \(tls.cert): serve makes a self-signed development one (`awsgw certs generate` makes it now)")
            // The default pair shares one folder.
            checkFolder((tls.cert as NSString).deletingLastPathComponent, for: "tls")
            if let clientCA = tls.clientCA, !FileManager.default.isReadableFile(atPath: clientCA) {
                problems.append("tls.client_ca: \(clientCA) cannot be read")
            }
            return
        }
        if let problem = TLSSetup.problem(tls) { problems.append("tls: \(problem)") }
    }

    /// A folder that takes files, or that can be made: its nearest existing parent is a
    /// folder this user may write in.
    private mutating func checkFolder(_ dir: String, for key: String) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory) {
            if !isDirectory.boolValue {
                problems.append("\(key): \(dir) is not a folder")
            } else if !FileManager.default.isWritableFile(atPath: dir) {
                problems.append("\(key): this user (uid \(getuid())) cannot write in \(dir)")
            }
            return
        }
        var parent = (dir as NSString).deletingLastPathComponent
        while !parent.isEmpty && parent != "/" && !FileManager.default.fileExists(atPath: parent) {
            parent = (parent as NSString).deletingLastPathComponent
        }
        if parent.isEmpty { parent = "/" }
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue,
              FileManager.default.isWritableFile(atPath: parent)
        else {
            problems.append("\(key): \(dir) does not exist, and this user (uid \(getuid())) cannot make it in \(parent)")
            return
        }
        notes.append("\(key): serve makes the folder \(dir)")
    }
}
