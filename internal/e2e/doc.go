// Package e2e holds hookrelay's end-to-end tests: a real relay, real agents
// and real apps over real sockets, in-process and as built binaries. It has
// no code of its own beyond shared test fixtures.
package e2e
