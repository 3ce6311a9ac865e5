enum LogCommands { static let all: [CommandSpec] = [] }
