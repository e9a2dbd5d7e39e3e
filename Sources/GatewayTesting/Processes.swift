import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

package var awsgwBinary: String { Fixtures.awsgwBinary }

/// Runs awsgw to completion on its own thread.
package func runProcess(_ arguments: [String], environment: [String: String]) async throws -> (Int32, String, String) {
    try await runCommand(awsgwBinary, arguments, environment: environment)
}

/// Runs a program to completion on its own thread: exit status, standard output and error.
package func runCommand(_ executable: String, _ arguments: [String], environment: [String: String], directory: String? = nil) async throws -> (Int32, String, String) {
    try await onThread {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }
}

/// `awsgw serve` as a child process: started, waited for, signalled; its standard error is
/// collected as it comes (so a chatty gateway never blocks on a full pipe).
package final class ServeProcess: @unchecked Sendable {
    package let process = Process()
    private let out = Pipe(), err = Pipe()
    private let lock = NSLock()
    private var errorText = Data()

    /// `executable`: an installed copy instead of the built binary; `directory`: the
    /// working directory; `command`: another of awsgw's commands, read as it runs.
    package init(_ arguments: [String], environment: [String: String], executable: String = awsgwBinary, directory: String? = nil,
                 command: String = "serve") throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [command] + arguments
        process.environment = environment
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.standardOutput = out
        process.standardError = err
        err.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let chunk = handle.availableData
            self?.lock.withLock { self?.errorText.append(chunk) }
        }
        try process.run()
    }

    /// The "awsgw: listening on ..." lines, once `count` of them have been printed.
    package func listening(_ count: Int) async throws -> [String] {
        let out = self.out
        return try await onThread {
            var text = ""
            while text.components(separatedBy: "listening on").count <= count {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                text += String(decoding: chunk, as: UTF8.self)
            }
            return text.split(separator: "\n").map(String.init)
        }
    }

    /// Standard output up to and including the first line that starts with `prefix`.
    package func output(through prefix: String) async throws -> [String] {
        let out = self.out
        return try await onThread {
            var text = ""
            while !text.split(separator: "\n").contains(where: { $0.hasPrefix(prefix) }) {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                text += String(decoding: chunk, as: UTF8.self)
            }
            return text.split(separator: "\n").map(String.init)
        }
    }

    package var errorsSoFar: String { lock.withLock { String(decoding: errorText, as: UTF8.self) } }

    package func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the exit; returns the status and everything written to standard error.
    package func exit() async throws -> (Int32, String) {
        let process = self.process
        try await onThread { process.waitUntilExit() }
        err.fileHandleForReading.readabilityHandler = nil
        let rest = err.fileHandleForReading.readDataToEndOfFile()
        return lock.withLock { (process.terminationStatus, String(decoding: errorText + rest, as: UTF8.self)) }
    }
}
