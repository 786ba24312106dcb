import DeployCLI
import Foundation

let environment = ProcessInfo.processInfo.environment
SignalTrap.installEarly(environment: environment)
let code = await DeployCLI.main(arguments: Array(CommandLine.arguments.dropFirst()), environment: environment)
exit(code)
