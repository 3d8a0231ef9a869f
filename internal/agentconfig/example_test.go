package agentconfig_test

import (
	"fmt"

	"github.com/hookrelay/hookrelay/internal/agentconfig"
)

func ExampleFile_Target() {
	f := &agentconfig.File{Routes: []agentconfig.Route{
		{Events: []string{"batch.*"}, ForwardTo: "http://localhost:8080/batch"},
	}}
	const def = "http://localhost:5000/webhooks/openai"
	fmt.Println(f.Target("batch.completed", def))
	fmt.Println(f.Target("response.completed", def))
	// Output:
	// http://localhost:8080/batch
	// http://localhost:5000/webhooks/openai
}

func ExampleFile_Override() {
	file := &agentconfig.File{Relay: "https://relay.example", ForwardTo: "http://localhost:5000/a"}
	flags := agentconfig.File{ForwardTo: "http://localhost:9000/b"} // only the flags the user gave
	f := file.Override(flags)
	fmt.Println(f.Relay, f.ForwardTo)
	// Output: https://relay.example http://localhost:9000/b
}
