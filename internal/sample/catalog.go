package sample

// catalog maps each event type openai-go v3.102.0 knows to a function that
// returns fresh data for it. OpenAI's payloads are thin: the id of the
// resource, which the app then fetches through the API.
//
// Limitation: OpenAI publishes no example ids for the agent, safety and
// video families, so their prefixes (env_, sess_, alert_, case_, video_)
// are plausible guesses; samples captured from real deliveries would fix
// them.
var catalog = map[string]func() any{
	"response.completed":  responseData,
	"response.cancelled":  responseData,
	"response.failed":     responseData,
	"response.incomplete": responseData,

	"batch.completed": batchData,
	"batch.cancelled": batchData,
	"batch.failed":    batchData,
	"batch.expired":   batchData,

	"fine_tuning.job.succeeded": fineTuningJobData,
	"fine_tuning.job.failed":    fineTuningJobData,
	"fine_tuning.job.cancelled": fineTuningJobData,

	"eval.run.succeeded": evalRunData,
	"eval.run.failed":    evalRunData,
	"eval.run.canceled":  evalRunData, // one "l", as OpenAI spells it

	"realtime.call.incoming":   realtimeCallIncomingData,
	"live.transport.incoming":  liveTransportIncomingData,
	"live.transport.connected": liveTransportConnectedData,
	"live.call.incoming":       liveCallIncomingData, // deprecated by OpenAI, still sent

	"agent.environment.ready":       environmentData,
	"agent.environment.failed":      environmentData,
	"agent.environment.suspended":   environmentData,
	"agent.environment.expired":     environmentData,
	"agent.session.created":         sessionCreatedData,
	"agent.session.action_required": sessionActionRequiredData,
	"agent.session.in_progress":     sessionHostedData,
	"agent.session.idle":            sessionHostedData,
	"agent.session.failed":          sessionFailedData,

	"safety.alert.created":       safetyAlertData,
	"safety.org_alert.created":   safetyAlertData,
	"safety.warning_issued":      safetyCaseData,
	"safety.deactivation_issued": safetyCaseData,

	"video.completed": videoData,
	"video.failed":    videoData,
}

// idData is the data of most events: the id of the resource concerned.
type idData struct {
	ID string `json:"id"`
}

func responseData() any      { return idData{ID: "resp_" + randomHex(24)} }
func batchData() any         { return idData{ID: "batch_" + randomHex(16)} }
func fineTuningJobData() any { return idData{ID: "ftjob-" + randomAlnum(24)} }
func evalRunData() any       { return idData{ID: "evalrun_" + randomHex(16)} }
func environmentData() any   { return idData{ID: newEnvironmentID()} }
func safetyAlertData() any   { return idData{ID: "alert_" + randomHex(16)} }
func safetyCaseData() any    { return idData{ID: "case_" + randomHex(16)} }
func videoData() any         { return idData{ID: "video_" + randomHex(24)} }

func newEnvironmentID() string { return "env_" + randomHex(16) }
func newSessionID() string     { return "sess_" + randomHex(16) }

// Media protection of a SIP leg.
const (
	mediaSRTP = "srtp" // encrypted media
	mediaRTP  = "rtp"  // unencrypted media
)

// sipHeader is one header of a SIP INVITE, as OpenAI forwards it.
type sipHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// sipInvite returns the headers of a SIP INVITE from a carrier to an OpenAI
// project's SIP endpoint, with documentation-only addresses and numbers.
func sipInvite() []sipHeader {
	const carrier = "198.51.100.23"
	return []sipHeader{
		{"Via", "SIP/2.0/TLS " + carrier + ":5061;branch=z9hG4bK" + randomHex(6)},
		{"Max-Forwards", "69"},
		{"From", `"Jane Doe" <sip:+14155550123@` + carrier + ">;tag=" + randomHex(4)},
		{"To", "<sip:proj_" + randomAlnum(24) + "@sip.api.openai.com;transport=tls>"},
		{"Call-ID", randomHex(16) + "@" + carrier},
		{"CSeq", "1 INVITE"},
		{"Contact", "<sip:+14155550123@" + carrier + ":5061;transport=tls>"},
		{"Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE"},
		{"Content-Type", "application/sdp"},
	}
}

// realtimeCall is the data of realtime.call.incoming.
type realtimeCall struct {
	CallID           string      `json:"call_id"`
	SipHeaders       []sipHeader `json:"sip_headers"`
	SipMediaSecurity string      `json:"sip_media_security,omitempty"`
}

func realtimeCallIncomingData() any {
	return realtimeCall{
		CallID:           "rtc_" + randomHex(16),
		SipHeaders:       sipInvite(),
		SipMediaSecurity: mediaSRTP,
	}
}

// liveIncoming is the data of live.transport.incoming and of the deprecated
// live.call.incoming, which has no type.
type liveIncoming struct {
	SessionID        string      `json:"session_id"`
	Type             string      `json:"type,omitempty"`
	SipHeaders       []sipHeader `json:"sip_headers"`
	SipMediaSecurity string      `json:"sip_media_security,omitempty"`
}

func liveTransportIncomingData() any {
	return liveIncoming{
		SessionID:        newLiveSessionID(),
		Type:             "sip",
		SipHeaders:       sipInvite(),
		SipMediaSecurity: mediaSRTP,
	}
}

func liveCallIncomingData() any {
	return liveIncoming{
		SessionID:        newLiveSessionID(),
		SipHeaders:       sipInvite(),
		SipMediaSecurity: mediaRTP,
	}
}

// liveConnected is the data of live.transport.connected.
type liveConnected struct {
	SessionID string `json:"session_id"`
	Type      string `json:"type"`
}

func liveTransportConnectedData() any {
	return liveConnected{SessionID: newLiveSessionID(), Type: "webrtc"}
}

func newLiveSessionID() string { return "live_" + randomHex(16) }

// Environment types of an agent session.
const (
	envNone         = "none"          // the session runs without an environment
	envOpenAIHosted = "openai_hosted" // an environment OpenAI runs
	envSelfHosted   = "self_hosted"   // an environment the developer runs
)

// agentSession is the data of the agent.session lifecycle events.
type agentSession struct {
	ID              string        `json:"id"`
	EnvironmentType string        `json:"environment_type"`
	EnvironmentID   string        `json:"environment_id,omitempty"`
	Connect         *agentConnect `json:"connect,omitempty"`
}

// agentConnect tells a self-hosted environment where to connect.
type agentConnect struct {
	RemoteURL string `json:"remote_url"`
}

func sessionCreatedData() any {
	env := newEnvironmentID()
	return agentSession{
		ID:              newSessionID(),
		EnvironmentType: envSelfHosted,
		EnvironmentID:   env,
		Connect: &agentConnect{
			RemoteURL: "wss://agents.example.com/v1/environments/" + env + "/connect",
		},
	}
}

func sessionHostedData() any {
	return agentSession{
		ID:              newSessionID(),
		EnvironmentType: envOpenAIHosted,
		EnvironmentID:   newEnvironmentID(),
	}
}

func sessionFailedData() any {
	return agentSession{ID: newSessionID(), EnvironmentType: envNone}
}

// actionRequired is the data of agent.session.action_required.
type actionRequired struct {
	ID             string `json:"id"`
	RequiredAction struct {
		// One of computer_use_approval_request, mcp_approval_request,
		// function_call, environment_connection.
		Type string `json:"type"`
	} `json:"required_action"`
}

func sessionActionRequiredData() any {
	d := actionRequired{ID: newSessionID()}
	d.RequiredAction.Type = "mcp_approval_request"
	return d
}
