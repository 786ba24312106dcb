import Testing
@testable import Stack

/// The `${...}` language: literals, operators, references, the standard library, unknown values and errors.
@Suite("expressions")
struct ExpressionTests {
    static func evaluator(countIndex: Int? = nil) -> Evaluator {
        let resources: [String: ResourceInstances] = [
            "network.vpc": ResourceInstances(counted: false, instances: [["id": .string("vpc-1"), "cidr_block": .string("10.0.0.0/16")]]),
            "network.subnet": ResourceInstances(counted: true, instances: [
                ["id": .string("subnet-a"), "availability_zone": .string("eu-west-1a")],
                ["id": .unknown, "availability_zone": .string("eu-west-1b")],
            ]),
            "network.late": ResourceInstances(counted: false, instances: [["id": .unknown]]),
        ]
        return Evaluator(
            phase: "network",
            parameters: ["cidr": .string("10.40.0.0/16"), "zones": .list([.string("a"), .string("b"), .string("c")]),
                         "sizes": .map(["cpu": .string("c7i.2xlarge"), "gpu": .string("g5.xlarge")]), "n": .int(3),
                         "secret": .string("hunter2"), "flag": .bool(true)],
            sensitiveParameters: ["secret"],
            stack: ["name": .string("acme"), "region": .string("eu-west-1"), "account": .string("123456789012")],
            countIndex: countIndex,
            resources: { phase, name in resources["\(phase).\(name)"] },
            outputs: { phase, name in
                phase == "network" && name == "vpc_id"
                    ? PhaseOutput(value: .string("vpc-1"), dependencies: [ResourceAddress(phase: "network", name: "vpc")]) : nil
            })
    }

    static func evaluate(_ text: String, countIndex: Int? = nil) throws -> Value {
        var evaluator = evaluator(countIndex: countIndex)
        let location = SourceLocation(file: "t.json5", line: 7, column: 10)
        return try evaluator.evaluate(try ExpressionParser.template(text, at: location), at: location)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var source: String
        var expected: Value
        var countIndex: Int? = nil
        var testDescription: String { source }
    }

    @Test("evaluates", arguments: [
        Case(source: "plain text", expected: .string("plain text")),
        Case(source: "${param.n}", expected: .int(3)),
        Case(source: "${param.zones}", expected: .list([.string("a"), .string("b"), .string("c")])),
        Case(source: "n=${param.n}", expected: .string("n=3")),
        Case(source: "$${literal}", expected: .string("${literal}")),
        Case(source: "${stack.name}-${stack.region}", expected: .string("acme-eu-west-1")),
        Case(source: "${1 + 2 * 3 - 4 / 2}", expected: .int(5)),
        Case(source: "${(1 + 2) * 3 % 4}", expected: .int(1)),
        Case(source: "${7 / 2.0}", expected: .double(3.5)),
        Case(source: "${-param.n}", expected: .int(-3)),
        Case(source: "${param.n >= 3 && !false || 1 == 2}", expected: .bool(true)),
        Case(source: "${param.n < 3}", expected: .bool(false)),
        Case(source: "${param.n <= 3}", expected: .bool(true)),
        Case(source: "${param.flag ? \"yes\" : \"no\"}", expected: .string("yes")),
        Case(source: "${param.zones[1]}", expected: .string("b")),
        Case(source: "${param.sizes[\"gpu\"]}", expected: .string("g5.xlarge")),
        Case(source: "${param.sizes.cpu}", expected: .string("c7i.2xlarge")),
        Case(source: "${vpc.id}", expected: .string("vpc-1")),
        Case(source: "${network.vpc.cidr_block}", expected: .string("10.0.0.0/16")),
        Case(source: "${network.outputs.vpc_id}", expected: .string("vpc-1")),
        Case(source: "${subnet[0].id}", expected: .string("subnet-a")),
        Case(source: "${subnet[*].availability_zone}", expected: .list([.string("eu-west-1a"), .string("eu-west-1b")])),
        Case(source: "${subnet[count.index].availability_zone}", expected: .string("eu-west-1b"), countIndex: 1),
        Case(source: "${subnet[1].id}", expected: .unknown),
        Case(source: "prefix-${late.id}", expected: .unknown),
        Case(source: "${late.id == \"x\" ? 1 : 2}", expected: .unknown),
        Case(source: "${length(subnet[*].id)}", expected: .int(2)),
        Case(source: "${element(subnet[*].id, 2)}", expected: .string("subnet-a")),
        Case(source: "${join(\",\", subnet[*].id)}", expected: .unknown),
        Case(source: "${cidrsubnet(param.cidr, 4, 2)}", expected: .string("10.40.32.0/20")),
        Case(source: "${cidrsubnet(\"172.16.0.0/12\", 4, 2)}", expected: .string("172.18.0.0/16")),
        Case(source: "${cidrsubnet(\"10.1.2.0/24\", 4, 15)}", expected: .string("10.1.2.240/28")),
        Case(source: "${cidrsubnet(\"10.0.0.0/8\", 0, 0)}", expected: .string("10.0.0.0/8")),
        Case(source: "${cidrhost(\"10.12.112.0/20\", 16)}", expected: .string("10.12.112.16")),
        Case(source: "${cidrhost(\"10.12.112.0/20\", 268)}", expected: .string("10.12.113.12")),
        Case(source: "${cidrhost(\"10.12.112.0/20\", -2)}", expected: .string("10.12.127.254")),
        Case(source: "${format(\"%s-%03d-%v|%-4s|%%\", \"a\", 7, true, \"b\")}", expected: .string("a-007-true|b   |%")),
        Case(source: "${format(\"%q\", \"x\")}", expected: .string("\"x\"")),
        Case(source: "${join(\"-\", param.zones)}", expected: .string("a-b-c")),
        Case(source: "${split(\",\", \"a,b\")}", expected: .list([.string("a"), .string("b")])),
        Case(source: "${lookup(param.sizes, \"gpu\")}", expected: .string("g5.xlarge")),
        Case(source: "${lookup(param.sizes, \"tpu\", \"none\")}", expected: .string("none")),
        Case(source: "${element(param.zones, 4)}", expected: .string("b")),
        Case(source: "${length(param.zones)}", expected: .int(3)),
        Case(source: "${length(param.sizes)}", expected: .int(2)),
        Case(source: "${length(\"héllo\")}", expected: .int(5)),
        Case(source: "${concat(param.zones, [\"d\"])}", expected: .list(["a", "b", "c", "d"].map(Value.string))),
        Case(source: "${keys(param.sizes)}", expected: .list([.string("cpu"), .string("gpu")])),
        Case(source: "${contains(param.zones, \"b\")}", expected: .bool(true)),
        Case(source: "${upper(\"abc\")}${lower(\"DEF\")}", expected: .string("ABCdef")),
        Case(source: "${replace(\"a.b.c\", \".\", \"-\")}", expected: .string("a-b-c")),
        Case(source: "${substr(\"abcdef\", 2, 3)}", expected: .string("cde")),
        Case(source: "${range(3)}", expected: .list([.int(0), .int(1), .int(2)])),
        Case(source: "${max(1, 9, 4)} ${min(5, 2)}", expected: .string("9 2")),
        Case(source: "${coalesce(\"\", \"x\")}", expected: .string("x")),
        Case(source: "${tonumber(\"42\") + 1}", expected: .int(43)),
        Case(source: "${tostring(12)}", expected: .string("12")),
        Case(source: "${jsonencode(param.sizes)}", expected: .string(#"{"cpu":"c7i.2xlarge","gpu":"g5.xlarge"}"#)),
        Case(source: "${merge(param.sizes, param.sizes)}", expected: .map(["cpu": .string("c7i.2xlarge"), "gpu": .string("g5.xlarge")])),
    ])
    func evaluates(_ test: Case) throws {
        #expect(try Self.evaluate(test.source, countIndex: test.countIndex) == test.expected)
    }

    @Test("fails with a located, specific message", arguments: [
        Case(source: "${param.zone}", expected: .string("unknown parameter 'param.zone'; did you mean 'zones'?")),
        Case(source: "${cidrsubnet(param.cidr, 20, 0)}", expected: .string("cidrsubnet: 10.40.0.0/16 cannot be extended by 20 bits (at most 16)")),
        Case(source: "${cidrsubnet(param.cidr, 2, 4)}", expected: .string("cidrsubnet: 2 new bits give 4 subnets; 4 is out of range")),
        Case(source: "${cidrsubnet(\"10.0.0.1/16\", 2, 0)}", expected: .string("'10.0.0.1/16' has host bits set; the network is 10.0.0.0/16")),
        Case(source: "${cidrsubnet(\"10.0.0.0/33\", 2, 0)}", expected: .string("'10.0.0.0/33' is not a CIDR block like 10.0.0.0/16")),
        Case(source: "${formt(\"x\")}", expected: .string("unknown function 'formt'; did you mean 'format'?")),
        Case(source: "${join(\",\")}", expected: .string("join takes 2 arguments, given 1")),
        Case(source: "${subnet.id}", expected: .string("'network.subnet' has count; use subnet[count.index], subnet[0] or subnet[*]")),
        Case(source: "${vpc[0].id}", expected: .string("'network.vpc' has no count; refer to it without an index")),
        Case(source: "${subnet[5].id}", expected: .string("'network.subnet[5]' does not exist: count is 2")),
        Case(source: "${vpc.idd}", expected: .string("no attribute 'idd'; did you mean 'id'?")),
        Case(source: "${count.index}", expected: .string("count.index is only available in a resource with count")),
        Case(source: "${param.zones[7]}", expected: .string("index 7 is out of range for a list of 3")),
        Case(source: "${1 / 0}", expected: .string("division by zero")),
        Case(source: "${\"a\" + 1}", expected: .string("'+' needs numbers, not string and int")),
        Case(source: "x${param.zones}", expected: .string("cannot insert a list into a string; use join() or format()")),
        Case(source: "${format(\"%s %s\", \"a\")}", expected: .string("format: '%s %s' needs more arguments than the 1 given")),
        Case(source: "${lookup(param.sizes, \"cpux\")}", expected: .string("lookup: no key 'cpux' and no default; did you mean 'cpu'?")),
        Case(source: "${9223372036854775807 + 1}", expected: .string("integer overflow: 9223372036854775807 + 1 does not fit in 64 bits")),
    ])
    func failures(_ test: Case) {
        do {
            let value = try Self.evaluate(test.source)
            Issue.record("expected an error, got \(value)")
        } catch let error as StackError {
            #expect(error.message == test.expected.stringValue)
            #expect(error.location == SourceLocation(file: "t.json5", line: 7, column: 10))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("syntax errors point into the string", arguments: [
        ("${1 +}", "t.json5:1:9: expected a value, found the end of the expression"),
        ("ab${", "t.json5:1:6: '${' is never closed"),
        ("${}", "t.json5:1:6: empty expression '${}'"),
        ("${a b}", "t.json5:1:8: unexpected 'b' in expression"),
        ("${f(1,}", "t.json5:1:10: expected a value, found the end of the expression"),
    ])
    func syntax(_ source: String, _ expected: String) {
        do {
            _ = try ExpressionParser.template(source, at: SourceLocation(file: "t.json5", line: 1, column: 3))
            Issue.record("expected a syntax error")
        } catch {
            #expect(error.description == expected)
        }
    }

    @Test("tracks dependencies and sensitive parameters")
    func tracking() throws {
        var evaluator = Self.evaluator()
        let location = SourceLocation(file: "t", line: 1, column: 1)
        _ = try evaluator.evaluate(try ExpressionParser.template("${vpc.id}/${length(subnet[*].id)}", at: location))
        #expect(evaluator.dependencies == [ResourceAddress(phase: "network", name: "vpc"),
                                           ResourceAddress(phase: "network", name: "subnet", index: 0),
                                           ResourceAddress(phase: "network", name: "subnet", index: 1)])
        #expect(!evaluator.usedSensitive)
        _ = try evaluator.evaluate(try ExpressionParser.template("key=${param.secret}", at: location))
        #expect(evaluator.usedSensitive)
    }
}
