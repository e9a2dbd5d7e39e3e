import AWSJSON
import ArgumentParser
import Foundation

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Writes a line to standard output at once (no buffering), for lines others wait for.
func printNow(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

/// Params given on the command line: JSON, `@file`, or `-` for standard input.
func readParamsArgument(_ params: String?) throws -> JSONObject {
    guard let params else { return JSONObject() }
    let bytes: [UInt8]
    if params == "-" {
        bytes = Array(FileHandle.standardInput.readDataToEndOfFile())
    } else if params.hasPrefix("@") {
        guard let data = FileManager.default.contents(atPath: String(params.dropFirst())) else {
            throw ValidationError("cannot read params file \(params.dropFirst())")
        }
        bytes = Array(data)
    } else {
        bytes = Array(params.utf8)
    }
    let json: JSON
    do {
        json = try JSON.parse(bytes)
    } catch {
        throw ValidationError("params are not JSON: \(error)")
    }
    switch json {
    case .null: return JSONObject()
    case .object(let object): return object
    default: throw ValidationError("params must be a JSON object")
    }
}
