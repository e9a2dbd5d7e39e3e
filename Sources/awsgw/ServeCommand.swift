import AWSClient
import AWSModels
import ArgumentParser
import Foundation
import GatewayCore
import GatewayApp
import GatewayServer
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Runs the gateway.")

    @Option(help: "The configuration file (default: AWSGW_CONFIG; none: a private Unix socket only).") var config: String?
    @Option(help: "A listener to add: unix:PATH, tcp:HOST:PORT or tls:HOST:PORT (repeatable).") var listen: [String] = []
    @Option(help: "The botocore data folder (default: the config's, AWSGW_MODELS or ./models).") var models: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical (default: the config's, else info).")
    var logLevel: LogLevelOption?
    @Option(help: "Log format on standard error: text or json (default: the config's, else text).") var logFormat: LogFormatOption?

    func validate() throws {
        for address in listen where ListenAddress(address) == nil {
            throw ValidationError("--listen \(address): expected unix:PATH, tcp:HOST:PORT or tls:HOST:PORT")
        }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment

        var settings = GatewayConfig()
        settings.upstream.retry = RetrySettings.fromEnvironment(environment)
        // Absolute, so that a reload reads the same file whatever the working directory.
        let configFile = (config ?? environment["AWSGW_CONFIG"].flatMap({ $0.isEmpty ? nil : $0 })).map(GatewayConfig.absolutePath)
        if let file = configFile {
            do {
                settings = try GatewayConfig.load(file: file, environment: environment)
            } catch {
                printError("awsgw: \(error)")
                throw ExitCode(1)
            }
        }
        settings.listen = StartupCheck.listeners(config: settings, flags: listen, environment: environment)
        // Everything checked before anything is written.
        let check = StartupCheck(config: settings, models: ModelsLocation.choose(flag: models, config: settings.models, environment: environment),
                                 environment: environment)
        guard let store = check.models, check.problems.isEmpty else {
            for problem in check.problems { printError("awsgw: \(problem)") }
            throw ExitCode(1)
        }

        let format = logFormat?.rawValue ?? settings.logFormat
        let level = Logger.Level(rawValue: logLevel?.rawValue ?? settings.logLevel ?? "info") ?? .info
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = format == "json" ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "awsgw")
        logger.logLevel = level
        do {
            let defaultSocket = DefaultListener.path(environment: environment)
            if settings.listen.contains("unix:" + defaultSocket) { try DefaultListener.prepareDirectory(for: defaultSocket) }
            if settings.listen.contains(where: { $0.hasPrefix("tls:") }) { try makeDevelopmentCertificate(settings.tls, logger: logger) }
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

    /// The first time TLS is used with the default pair and neither file exists, make a
    /// development certificate there.
    private func makeDevelopmentCertificate(_ tls: TLSConfig, logger: Logger) throws {
        guard tls.isDefaultPair, !FileManager.default.fileExists(atPath: tls.cert), !FileManager.default.fileExists(atPath: tls.key) else { return }
        let files = try DevCertificate.generate(dir: (tls.cert as NSString).deletingLastPathComponent, hosts: ["localhost", "127.0.0.1"], force: false)
        logger.warning("TLS files not found: made a self-signed development certificate",
                       metadata: ["certificate": "\(files.certificate)", "key": "\(files.key)"])
    }
}

/// `--log-level`: swift-log's levels, refused as a usage error when misspelt.
enum LogLevelOption: String, ExpressibleByArgument, CaseIterable {
    case trace, debug, info, notice, warning, error, critical
}

/// `--log-format`.
enum LogFormatOption: String, ExpressibleByArgument, CaseIterable {
    case text, json
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
