package agent

import (
	"context"

	"github.com/hookrelay/hookrelay/internal/enrich"
)

// Enrich returns what the OpenAI API says of the response that the
// response.* event with history ID id names: its status, model, usage and
// output text, cached in the history after the first fetch. It returns
// enrich.ErrDisabled when Config.Enricher is nil. It runs on the caller's
// goroutine and shares nothing with delivery but the history.
func (a *Agent) Enrich(ctx context.Context, id int64) (*enrich.Enrichment, error) {
	if a.cfg.Enricher == nil {
		return nil, enrich.ErrDisabled
	}
	return a.cfg.Enricher.Enrich(ctx, id)
}
