import Foundation

/// Paths as saved plans and hints record them: absolute, so that they work from any directory.
public enum Paths {
    public static func absolute(_ path: String) -> String {
        let joined = path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
        return (joined as NSString).standardizingPath
    }
}
