import AWSClient
import AWSCredentials
import AWSJSON
import AWSModels
import Foundation
import GatewayCore

/// What `call --dry-run` and `presign` share: they build in-process, with no gateway.
enum InProcess {
    /// The engine over the models, or exit 1 naming what is wrong with them.
    static func engine(models: String?, environment: [String: String]) -> AWSEngine {
        do {
            return AWSEngine(models: try ModelsLocation.open(models), environment: environment)
        } catch {
            fail(RPCError(code: RPCError.internalError, message: "\(error)"))
        }
    }

    /// `--region` wins, then `$region` in params, then the environment and profile.
    static func region(flag: String?, params: JSONObject, environment: [String: String]) -> String {
        flag ?? params["$region"]?.stringValue ?? resolveRegion(environment: environment) ?? ""
    }

    /// An engine error as the command line reports it (the region named as a flag).
    static func fail(_ error: ClientError) -> Never {
        if case .noRegion = error {
            fail(RPCError(code: RPCError.invalidParams,
                          message: "cannot resolve the endpoint: no region: give --region, or set AWS_REGION, AWS_DEFAULT_REGION or a profile region"))
        }
        fail(error.rpcError)
    }

    /// The JSON-RPC error object on stderr, exit 1.
    static func fail(_ error: RPCError) -> Never {
        printError(error.json.serializedString(.compact))
        Foundation.exit(1)
    }
}
