import DeployCLI
import Foundation

let code = await DeployCLI.main(arguments: Array(CommandLine.arguments.dropFirst()),
                                environment: ProcessInfo.processInfo.environment)
exit(code)
