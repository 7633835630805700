package secretagent

// LegacySocketFD exposes the descriptor number reported for a refused
// connection.
var LegacySocketFD = legacySocketFD()
