import Stack
import Testing
@testable import DeployCLI
import DeployTestSupport

/// Each command's options are a struct filled through its bindings: the table of bindings is the one source of
/// what a command accepts and what its help lists, typed values are converted as they are parsed, and destroy's
/// flags reach only destroy's handlers.
@Suite("typed options")
struct TypedOptionsTests {
    static let names = DeployCLI.commands.map { $0.name }

    /// Every option `name` takes, as its help should list them, and its help.
    static func specsAndHelp(_ name: String) -> (specs: [OptionSpec], help: String) {
        for command in DeployCLI.commands where command.name == name {
            return (command.optionSpecs + GlobalOptions.specs(for: command), Help.command(command))
        }
        return ([], "")
    }

    @Test("no two options of a command share a name or a short flag", arguments: names)
    func distinct(_ name: String) {
        let specs = Self.specsAndHelp(name).specs
        #expect(!specs.isEmpty)
        #expect(Set(specs.map(\.name)).count == specs.count, "\(specs.map(\.name))")
        let shorts = specs.compactMap(\.short)
        #expect(Set(shorts).count == shorts.count, "\(shorts)")
    }

    @Test("help lists exactly the command's bindings, then its shared options", arguments: names)
    func helpListsBindings(_ name: String) throws {
        let (specs, text) = Self.specsAndHelp(name)
        let help = text.split(separator: "\n", omittingEmptySubsequences: false)
        let listed = try #require(help.firstIndex(of: "OPTIONS:")) + 1
        let lines = help[listed...].map { $0.trimmingPrefix("  ") }
        #expect(lines.count == specs.count)
        for (line, spec) in zip(lines, specs) {
            #expect(line.hasPrefix(spec.usage + " ") && line.hasSuffix(spec.help), "\(line)")
        }
    }

    @Test("a value that does not convert is a usage error with today's message, exit 2", arguments: [
        (["apply", "--stack", "s.json5", "--parallelism", "0"], "--parallelism must be a whole number from 1 to 64, not '0'"),
        (["destroy", "--stack", "s.json5", "--parallelism=many"], "--parallelism must be a whole number from 1 to 64, not 'many'"),
        (["apply", "--stack", "s.json5", "--phase", "netwrk"], "unknown phase 'netwrk'; did you mean 'network'?"),
        (["check", "--stack", "s.json5", "--format", "xml"], "--format must be text, json, sarif or junit, not 'xml'"),
        (["check", "--stack", "s.json5", "--severity", "urgent"], "--severity must be low, medium, high or critical, not 'urgent'"),
        (["permissions", "--stack", "s.json5", "--resources", "some"], "--resources must be named or any, not 'some'"),
        (["bundle", "export", "--stack", "s.json5", "--out", "b", "--split", "1K"],
         "--split must be a size such as 4G, 700M or 1048576, of at least 1M, not '1K'"),
    ])
    func badValue(_ arguments: [String], _ message: String) async {
        let (code, output) = await CommandLineTests().run(arguments)
        #expect(code == 2)
        #expect(output.stderr == "error: \(message)\nSee 'deploy \(arguments[0]) --help'.", "\(output.stderr)")
        #expect(output.stdout.isEmpty)
    }

    @Test("a value option given twice is refused, in either spelling")
    func givenTwice() async {
        for arguments in [["plan", "--stack", "a.json5", "--stack", "b.json5"], ["plan", "--out=a", "--stack", "s.json5", "--out", "b"]] {
            let (code, output) = await CommandLineTests().run(arguments)
            #expect(code == 2)
            let option = arguments[1].hasPrefix("--out") ? "out" : "stack"
            #expect(output.stderr.hasPrefix("error: option '--\(option)' given more than once"), "\(output.stderr)")
        }
    }

    @Test("--help outranks a value that does not convert")
    func helpFirst() async {
        let (code, output) = await CommandLineTests().run(["apply", "--parallelism", "0", "--help"])
        #expect(code == 0)
        #expect(output.stdout.contains("USAGE: deploy apply <[PLANFILE]> [options]"))
    }

    @Test("typed values arrive typed, with their defaults")
    func typed() throws {
        let apply = try ApplyCommand.parse(["--stack", "s.json5", "--phase", "keys", "--parallelism", "3", "plan.json"])
        #expect(apply.options.phase == .keys && apply.options.parallelism == 3)
        #expect(apply.options.stack.stackPath == "s.json5" && apply.options.positionals == ["plan.json"])
        #expect(try ApplyCommand.parse([]).options.parallelism == 8)
        let check = try CheckCommand.parse(["--severity", "high", "--format=sarif"])
        #expect(check.options.severity == .high && check.options.format == .sarif)
        let bundle = try BundleCommand.parse(["export", "--model", "a", "--model", "b", "--split", "2M"])
        #expect(bundle.options.models == ["a", "b"] && bundle.options.split == 2 << 20)
        let global = try WhoamiCommand.parse(["--output", "json", "--region", "eu-west-1", "--debug"]).global
        #expect(global.output == .json && global.region == "eu-west-1" && global.debug)
    }

    @Test("destroy's --force, --keep-protected and --empty-buckets become its request; apply does not accept them")
    func destroyFlagsBelongToDestroy() throws {
        let forced = try DestroyCommand.parse(["--stack", "s.json5", "--force", "--empty-buckets"]).options.request
        #expect(forced.force && forced.emptyBuckets && !forced.keepProtected)
        let plain = try DestroyCommand.parse(["--stack", "s.json5"]).options.request
        #expect(!plain.force && !plain.emptyBuckets && !plain.keepProtected)
        let kept = try DestroyCommand.parse(["--stack", "s.json5", "--keep-protected"]).options.request
        #expect(kept.keepProtected && !kept.force)
        for flag in ["--force", "--empty-buckets", "--keep-protected"] {
            #expect(throws: UsageError.self) { try ApplyCommand.parse(["--stack", "s.json5", flag]) }
        }
    }
}
