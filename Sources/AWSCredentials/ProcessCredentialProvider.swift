import AWSJSON
import AWSSigning
import Foundation

/// `credential_process`: a command that prints `{"Version": 1, "AccessKeyId": ...,
/// "SecretAccessKey": ..., "SessionToken": ..., "Expiration": ...}`. The command line is
/// split as a POSIX shell would split words (botocore's `shlex.split`) and run without a
/// shell. Its output is a secret: errors name the source, never what it printed, and its
/// standard error is not passed on.
public struct ProcessCredentialProvider: CredentialProvider {
    public let command: String
    public let sourceName: String
    let timeoutSeconds: Double

    public init(command: String, sourceName: String, timeoutSeconds: Double = 60) {
        self.command = command
        self.sourceName = sourceName
        self.timeoutSeconds = timeoutSeconds
    }

    public func credentials() async throws(CredentialsError) -> Credentials {
        guard let words = ShellWords.split(command), let program = words.first else {
            throw CredentialsError(source: sourceName, reason: "the credential_process command is empty or has an unclosed quote")
        }
        let output = try await run(program, Array(words.dropFirst()))
        guard case .object(let object)? = try? JSON.parse(output) else {
            throw CredentialsError(source: sourceName, reason: "the process did not print a JSON object")
        }
        guard object["Version"]?.intValue == 1, case .int? = object["Version"] else {
            let version = object["Version"].map { $0.serializedString() } ?? "<Version key not provided>"
            throw CredentialsError(source: sourceName, reason: "unsupported version \(version) (supported: 1)")
        }
        return try TemporaryCredentialsJSON.credentials(object, tokenKey: "SessionToken", source: sourceName, what: "the process output")
    }

    private func run(_ program: String, _ arguments: [String]) async throws(CredentialsError) -> [UInt8] {
        let process = Process()
        // A bare name is looked up on PATH, as Popen does.
        if program.contains("/") {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [program] + arguments
        }
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw CredentialsError(source: sourceName, reason: "the process could not be started: \(program)")
        }
        let timeout = timeoutSeconds
        let killer = Task {
            try await Task.sleep(nanoseconds: UInt64(timeout * 1e9))
            if process.isRunning { process.terminate() }
        }
        let output: [UInt8] = await Task.detached {
            Array(stdout.fileHandleForReading.readDataToEndOfFile())
        }.value
        process.waitUntilExit()
        killer.cancel()
        guard process.terminationReason == .exit else {
            throw CredentialsError(source: sourceName, reason: "the process was stopped (signal \(process.terminationStatus); time limit \(Int(timeout)) s)")
        }
        guard process.terminationStatus == 0 else {
            throw CredentialsError(source: sourceName, reason: "the process exited with status \(process.terminationStatus)")
        }
        return output
    }
}

/// Words of a command line as a POSIX shell splits them (Python's `shlex.split`): blanks
/// separate, single quotes keep everything, double quotes keep all but `\` before `"`,
/// `\`, `$`, `` ` ``; elsewhere `\` keeps the next character. nil on an unclosed quote.
public enum ShellWords {
    public static func split(_ line: String) -> [String]? {
        var words: [String] = []
        var word = ""
        var inWord = false
        var iterator = Array(line).makeIterator()
        while let c = iterator.next() {
            switch c {
            case " ", "\t", "\n", "\r":
                if inWord { words.append(word); word = ""; inWord = false }
            case "'":
                inWord = true
                var closed = false
                while let q = iterator.next() {
                    if q == "'" { closed = true; break }
                    word.append(q)
                }
                if !closed { return nil }
            case "\"":
                inWord = true
                var closed = false
                while let q = iterator.next() {
                    if q == "\"" { closed = true; break }
                    if q == "\\" {
                        guard let next = iterator.next() else { return nil }
                        if !["\"", "\\", "$", "`", "\n"].contains(next) { word.append("\\") }
                        if next != "\n" { word.append(next) }
                        continue
                    }
                    word.append(q)
                }
                if !closed { return nil }
            case "\\":
                inWord = true
                guard let next = iterator.next() else { return nil }
                if next != "\n" { word.append(next) }
            default:
                inWord = true
                word.append(c)
            }
        }
        if inWord { words.append(word) }
        return words
    }
}
