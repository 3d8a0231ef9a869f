package sample_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/hookrelay/hookrelay/internal/sample"
	"github.com/hookrelay/hookrelay/internal/sign"
)

func ExampleFamily() {
	for _, typ := range []string{"batch.completed", "fine_tuning.job.failed", "vector_store.x"} {
		fmt.Println(typ, sample.Family(typ))
	}
	// Output:
	// batch.completed batch
	// fine_tuning.job.failed fine_tuning
	// vector_store.x other
}

func ExampleRequest() {
	s, err := sign.NewSigner(sign.ModeResign, "whsec_RdvaYFYUXuIFuEbvZHwMfYFhUf7aMYjYcmM24+Aj40c=")
	if err != nil {
		fmt.Println(err)
		return
	}
	req, err := sample.Request(context.Background(), "http://localhost:5000/webhooks/openai",
		s, "response.completed", time.Now())
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
}
