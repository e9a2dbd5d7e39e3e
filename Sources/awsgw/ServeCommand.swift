import AWSModels
import ArgumentParser
import Foundation
import GatewayCore
import GatewayServer
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Runs the gateway.")

    @Option(help: "The configuration file (default: AWSGW_CONFIG; none: a private Unix socket only).") var config: String?
    @Option(help: "A listener: unix:PATH, tcp:HOST:PORT or tls:HOST:PORT (repeatable).") var listen: [String] = []
    @Option(help: "The botocore data folder (default: the config's, AWSGW_MODELS or ./models).") var models: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error (default: the config's, else info).") var logLevel: String?
    @Option(help: "Log format on standard error: text or json (default: the config's, else text).") var logFormat: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment

        var settings = GatewayConfig()
        settings.upstream.retry = RetrySettings.fromEnvironment(environment)
        let configFile = config ?? environment["AWSGW_CONFIG"].flatMap({ $0.isEmpty ? nil : $0 })
        if let file = configFile {
            do {
                settings = try GatewayConfig.load(file: file, environment: environment)
            } catch {
                printError("awsgw: \(error)")
                throw ExitCode(1)
            }
        }
        let format = logFormat ?? settings.logFormat
        let level = Logger.Level(rawValue: logLevel ?? settings.logLevel ?? "info") ?? .info
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = format == "json" ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "awsgw")
        logger.logLevel = level
        for address in listen {
            guard ListenAddress(address) != nil else {
                printError("awsgw: --listen \(address): expected unix:PATH, tcp:HOST:PORT or tls:HOST:PORT")
                throw ExitCode(2)
            }
            settings.listen.append(address)
        }
        if settings.listen.isEmpty {
            // The secure default: one Unix socket that only this user can use.
            let path = DefaultListener.path(environment: environment)
            do {
                try DefaultListener.prepareDirectory(for: path)
            } catch {
                printError("awsgw: \(error)")
                throw ExitCode(1)
            }
            settings.listen = ["unix:" + path]
        }
        if settings.listen.contains(where: { $0.hasPrefix("tls:") }) {
            try ensureDevelopmentCertificate(&settings, logger: logger)
        }

        let store: ModelStore
        do {
            store = try ModelsLocation.open(models ?? settings.models)
        } catch {
            printError("awsgw: \(error)")
            throw ExitCode(1)
        }
        let runner: GatewayRunner
        do {
            runner = try GatewayRunner(config: settings, configFile: configFile, models: store, environment: environment, logger: logger)
            try await runner.start()
        } catch {
            printError("awsgw: \(error)")
            throw ExitCode(1)
        }
        for listener in runner.server.listeners {
            printNow("awsgw: listening on \(listener.address)")
        }
        for line in await runner.startupSummary() {
            if line.warning { printError("awsgw: warning: " + line.text) } else { printNow("awsgw: " + line.text) }
        }
        try await runner.runUntilSignalled()
    }

    /// The first time TLS is used without a certificate, make a development one in certs/.
    private func ensureDevelopmentCertificate(_ settings: inout GatewayConfig, logger: Logger) throws {
        let defaults = GatewayConfig().tls
        guard settings.tls.cert == defaults.cert, settings.tls.key == defaults.key,
              !FileManager.default.fileExists(atPath: settings.tls.cert) || !FileManager.default.fileExists(atPath: settings.tls.key)
        else { return }
        let missing = [settings.tls.cert, settings.tls.key].filter { !FileManager.default.fileExists(atPath: $0) }
        let dir = (settings.tls.cert as NSString).deletingLastPathComponent
        let files = try DevCertificate.generate(dir: dir.isEmpty ? "." : dir, hosts: ["localhost", "127.0.0.1"])
        logger.warning("TLS file \(missing.joined(separator: " and ")) not found: made a self-signed development certificate",
                       metadata: ["certificate": "\(files.certificate)", "key": "\(files.key)"])
    }
}

struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "certs", abstract: "Development TLS certificates.",
                                                    subcommands: [Generate.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Writes a self-signed certificate (server.pem) and key (server.key, mode 0600).")

        @Option(help: "The folder to write into.") var dir: String = "certs"
        @Option(help: "A host name or IPv4 address the certificate is for (repeatable).") var host: [String] = []
        @Option(help: "Make a client certificate with this CN (for mTLS and cn: members), signed by a development CA in the folder.")
        var client: String?
        @Flag(help: "Replace files that exist.") var force = false

        func run() throws {
            do {
                if let client {
                    let (ca, files) = try DevCertificate.generateClient(dir: dir, name: client, force: force)
                    print("awsgw: wrote \(files.certificate) and \(files.key), signed by \(ca.certificate)")
                    print("awsgw: to require client certificates: tls: { cert: ..., key: ..., client_ca: \(ca.certificate) }; admit it with members: [\"cn:\(client)\"]")
                } else {
                    let hosts = host.isEmpty ? ["localhost", "127.0.0.1"] : host
                    let files = try DevCertificate.generate(dir: dir, hosts: hosts, force: force)
                    print("awsgw: wrote \(files.certificate) and \(files.key)")
                }
            } catch {
                printError("awsgw: \(error)")
                throw ExitCode(1)
            }
        }
    }
}
