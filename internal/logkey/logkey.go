// Package logkey holds the attribute keys that every hookrelay log line uses,
// so that the relay and the agent write logs that one query can search.
// New keys are added here before they are used.
package logkey

// Keys for log/slog attributes, all snake_case.
const (
	Component = "component"  // the part of the program that logs
	Channel   = "channel"    // relay channel name
	AgentID   = "agent_id"   // a connected agent, as the relay names it
	WebhookID = "webhook_id" // the webhook-id header of an event
	EventID   = "event_id"   // the evt_ id inside an event body
	EventType = "event_type" // the type field of an event body
	Seq       = "seq"        // an event's sequence number within its channel
	Target    = "target"     // a delivery target URL
	Status    = "status"     // an HTTP status code
	Outcome   = "outcome"    // what became of a webhook or a delivery
	Attempt   = "attempt"    // a delivery attempt number, from 1
	Duration  = "duration"   // how long something took
	Bytes     = "bytes"      // a body size
	Addr      = "addr"       // a listen or dial address
	Path      = "path"       // a file path
	Err       = "err"        // an error
	Client    = "client"     // the software and version a peer reports
	Count     = "count"      // how many things an operation affected
	HistoryID = "history_id" // an event's number in the agent's local history
	Notice    = "notice"     // a message the agent shows its user
	Store     = "store"      // which event store the relay uses
	Retention = "retention"  // how long the relay keeps events
)
