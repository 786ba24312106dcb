import Foundation

/// Monthly cost against monthly volume for both options, as a standalone SVG: the API's straight line, self-hosting's
/// steps (one per node added), the break-even point marked, and the current volume when known.
public enum Chart {
    public static func svg(_ model: BreakEven, title: String) -> String {
        let width = 860.0, height = 520.0
        let left = 90.0, right = 30.0, top = 60.0, bottom = 70.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let point = model.point
        var xLimit = max((point?.tokens ?? 0) * 2, (model.inputs.tokensPerMonth ?? 0) * 1.25)
        if xLimit <= 0 { xLimit = model.capacityPerNode * Double(model.inputs.minimumNodes) * 2 }
        let xStep = niceStep(xLimit / 5), xMax = (xLimit / xStep).rounded(.up) * xStep
        let yLimit = max(model.apiCost(xMax), model.selfHostedCost(nodes: model.nodesFor(xMax))) * 1.05
        let yStep = niceStep(yLimit / 5), yMax = (yLimit / yStep).rounded(.up) * yStep
        func x(_ tokens: Double) -> Double { left + tokens / xMax * plotWidth }
        func y(_ dollars: Double) -> Double { top + plotHeight - dollars / yMax * plotHeight }
        func f(_ value: Double) -> String { String(format: "%.1f", value) }

        var out: [String] = []
        out.append(##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(Int(width))" height="\##(Int(height))" viewBox="0 0 \##(Int(width)) \##(Int(height))" font-family="Helvetica, Arial, sans-serif" font-size="13">"##)
        out.append(##"<rect width="100%" height="100%" fill="white"/>"##)
        out.append(##"<text x="\##(f(width / 2))" y="30" text-anchor="middle" font-size="17" font-weight="bold">\##(escape(title))</text>"##)
        // grid, ticks and axis labels
        for step in 0...Int((xMax / xStep).rounded()) {
            let tokens = Double(step) * xStep
            out.append(##"<line x1="\##(f(x(tokens)))" y1="\##(f(top))" x2="\##(f(x(tokens)))" y2="\##(f(top + plotHeight))" stroke="#e4e4e4"/>"##)
            out.append(##"<text x="\##(f(x(tokens)))" y="\##(f(top + plotHeight + 20))" text-anchor="middle">\##(tokensLabel(tokens))</text>"##)
        }
        for step in 0...Int((yMax / yStep).rounded()) {
            let dollars = Double(step) * yStep
            out.append(##"<line x1="\##(f(left))" y1="\##(f(y(dollars)))" x2="\##(f(left + plotWidth))" y2="\##(f(y(dollars)))" stroke="#e4e4e4"/>"##)
            out.append(##"<text x="\##(f(left - 8))" y="\##(f(y(dollars) + 4))" text-anchor="end">\##(dollarsLabel(dollars))</text>"##)
        }
        out.append(##"<line x1="\##(f(left))" y1="\##(f(top + plotHeight))" x2="\##(f(left + plotWidth))" y2="\##(f(top + plotHeight))" stroke="black"/>"##)
        out.append(##"<line x1="\##(f(left))" y1="\##(f(top))" x2="\##(f(left))" y2="\##(f(top + plotHeight))" stroke="black"/>"##)
        out.append(##"<text x="\##(f(left + plotWidth / 2))" y="\##(f(height - 20))" text-anchor="middle">tokens per month (input and output)</text>"##)
        out.append(##"<text transform="translate(22 \##(f(top + plotHeight / 2))) rotate(-90)" text-anchor="middle">cost per month (USD)</text>"##)
        // the API: a straight line through the origin
        out.append(##"<polyline id="api" fill="none" stroke="#d9480f" stroke-width="2.5" points="\##(f(x(0))),\##(f(y(0))) \##(f(x(xMax))),\##(f(y(model.apiCost(xMax))))"/>"##)
        // self-hosting: a step for every node added
        var points: [String] = []
        var start = 0.0
        var nodes = model.nodesFor(0)
        while start < xMax {
            let end = min(xMax, Double(nodes) * model.capacityPerNode)
            let cost = model.selfHostedCost(nodes: nodes)
            points += ["\(f(x(start))),\(f(y(cost)))", "\(f(x(end))),\(f(y(cost)))"]
            start = end
            nodes += 1
            if points.count > 2000 { break }
        }
        out.append(##"<polyline id="self-hosted" fill="none" stroke="#1c7ed6" stroke-width="2.5" points="\##(points.joined(separator: " "))"/>"##)
        if let point {
            let px = x(point.tokens), py = y(model.apiCost(point.tokens))
            out.append(##"<line x1="\##(f(px))" y1="\##(f(py))" x2="\##(f(px))" y2="\##(f(top + plotHeight))" stroke="#495057" stroke-dasharray="4 4"/>"##)
            out.append(##"<circle id="break-even" cx="\##(f(px))" cy="\##(f(py))" r="6" fill="#2b8a3e"/>"##)
            out.append(##"<text x="\##(f(px + 10))" y="\##(f(py - 10))" fill="#2b8a3e" font-weight="bold">break-even: \##(tokensLabel(point.tokens)) tokens, \##(dollarsLabel(model.apiCost(point.tokens)))/month</text>"##)
        } else {
            out.append(##"<text x="\##(f(left + 20))" y="\##(f(top + 24))" fill="#c92a2a" font-weight="bold">no break-even: a node costs more than the API charges for all it can serve</text>"##)
        }
        if let current = model.inputs.tokensPerMonth, current <= xMax {
            out.append(##"<line id="current" x1="\##(f(x(current)))" y1="\##(f(top))" x2="\##(f(x(current)))" y2="\##(f(top + plotHeight))" stroke="#862e9c" stroke-dasharray="2 3"/>"##)
            out.append(##"<text x="\##(f(x(current) + 6))" y="\##(f(top + 14))" fill="#862e9c">current volume</text>"##)
        }
        // legend, bottom right: below the API line, which rises to the right
        let legend = left + plotWidth - 266
        out.append(##"<rect x="\##(f(legend))" y="\##(f(top + plotHeight - 62))" width="256" height="50" fill="white" stroke="#adb5bd"/>"##)
        out.append(##"<line x1="\##(f(legend + 12))" y1="\##(f(top + plotHeight - 44))" x2="\##(f(legend + 42))" y2="\##(f(top + plotHeight - 44))" stroke="#d9480f" stroke-width="2.5"/>"##)
        out.append(##"<text x="\##(f(legend + 50))" y="\##(f(top + plotHeight - 40))">API (\##(dollarsLabel(model.blendedPerMillion, cents: true)) per million)</text>"##)
        out.append(##"<line x1="\##(f(legend + 12))" y1="\##(f(top + plotHeight - 24))" x2="\##(f(legend + 42))" y2="\##(f(top + plotHeight - 24))" stroke="#1c7ed6" stroke-width="2.5"/>"##)
        out.append(##"<text x="\##(f(legend + 50))" y="\##(f(top + plotHeight - 20))">self-hosted (steps: nodes added)</text>"##)
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    /// A round step (1, 2 or 5 times a power of ten) at least `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        for factor in [1.0, 2, 5, 10] where factor * magnitude >= raw { return factor * magnitude }
        return 10 * magnitude
    }

    /// 1.2M, 3.4B: token counts as people say them.
    public static func tokensLabel(_ tokens: Double) -> String {
        switch tokens {
        case 0: "0"
        case ..<1e6: String(format: "%.0fk", tokens / 1e3)
        case ..<1e9: String(format: tokens < 1e7 ? "%.1fM" : "%.0fM", tokens / 1e6)
        default: String(format: tokens < 1e10 ? "%.2fB" : "%.1fB", tokens / 1e9)
        }
    }

    /// $1,234 or $12.3k, or with cents.
    public static func dollarsLabel(_ dollars: Double, cents: Bool = false) -> String {
        if cents { return String(format: "$%.2f", dollars) }
        if dollars >= 100_000 { return String(format: "$%.0fk", dollars / 1000) }
        let whole = Int(dollars.rounded())
        let digits = String(whole)
        var grouped = ""
        for (index, character) in digits.reversed().enumerated() {
            if index > 0, index % 3 == 0 { grouped.append(",") }
            grouped.append(character)
        }
        return "$" + String(grouped.reversed())
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
