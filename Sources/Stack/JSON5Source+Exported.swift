// Every module that reads a stack meets JSON5 nodes and source locations through `Stack`.
@_exported import JSON5Source
