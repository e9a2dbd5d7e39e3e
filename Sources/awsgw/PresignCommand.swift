import AWSClient
import AWSCredentials
import AWSJSON
import AWSModels
import AWSSigning
import ArgumentParser
import Foundation
import GatewayCore

/// `awsgw presign METHOD [PARAMS] [--expires SECONDS] [--region R]`: a SigV4
/// query-presigned URL for the call, made here with the environment's credentials, as
/// `$presign` answers it through a gateway.
struct PresignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "presign",
        abstract: "Prints a SigV4 presigned URL for an AWS operation (e.g. s3.GetObject), made in-process.")

    @Argument(help: "<service>.<Operation>, e.g. s3.GetObject") var method: String
    @Argument(help: "Params as JSON, @file, or - for standard input.") var params: String?
    @Option(help: "Seconds the URL stays valid, 1 to 604800.") var expires = 3600
    @Option(help: "The AWS region (wins over the environment).") var region: String?
    @Option(help: "The botocore data folder (default: AWSGW_MODELS or ./models).") var models: String?

    func run() async throws {
        let paramsObject: JSONObject
        do {
            paramsObject = try readParamsArgument(params)
        } catch let error as ValidationError {
            printError("awsgw: \(error.message)")
            throw ExitCode(2)
        }
        guard (1...AWSEngine.maxPresignSeconds).contains(expires) else {
            printError("awsgw: --expires must be 1 to \(AWSEngine.maxPresignSeconds) seconds")
            throw ExitCode(2)
        }
        let environment = ProcessInfo.processInfo.environment
        let engine = InProcess.engine(models: models, environment: environment)
        let credentials: Credentials
        do {
            credentials = try await ChainCredentialProvider.sdkDefault(environment: environment).credentials()
        } catch {
            InProcess.fail(RPCError(code: RPCError.noCredentials, message: "no credentials to sign with: \(error.reason)"))
        }
        let chosenRegion = InProcess.region(flag: region, params: paramsObject, environment: environment)
        let method = self.method, expires = self.expires
        let now = Timestamp(seconds: Int64(Date().timeIntervalSince1970))
        let presigned = Result { () throws(ClientError) -> PresignedRequest in
            let handle = try engine.operation(method)
            let prepared = try engine.prepareParams(paramsObject, for: handle, forPresigning: true)
            return try engine.presign(handle, params: prepared, region: chosenRegion, credentials: credentials, at: now, expires: expires)
        }
        switch presigned {
        case .success(let request): print(request.json.serializedString(.compact))
        case .failure(let error): InProcess.fail(error)
        }
    }
}
