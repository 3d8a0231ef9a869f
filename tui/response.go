package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/hookrelay/hookrelay/internal/enrich"
)

// fetchingLines is the Response section while the response is fetched.
func fetchingLines(st *Styles) []string {
	return []string{st.Section.Render("Response"), "  " + st.Muted.Render("fetching the response…")}
}

// responseLines renders the Response section of the details: what the
// OpenAI API says of the response a response.* event names, or why it
// could not say.
func responseLines(e *enrich.Enrichment, err error, st *Styles, loc *time.Location) []string {
	if err != nil {
		return []string{st.Section.Render("Response"),
			"  " + st.Failed.Render(printable(err.Error()))}
	}
	fact := func(name, value string) string {
		return "  " + st.Muted.Render(pad(name, 10)) + value
	}
	lines := []string{responseHead(e, st), fact("Id", printable(e.ResponseID))}
	if e.Error != "" {
		return append(lines, "  "+st.Failed.Render("could not fetch: "+printable(e.Error)))
	}
	if e.Reason != "" {
		lines = append(lines, fact("Reason", st.Failed.Render(printable(e.Reason))))
	}
	if e.TotalTokens > 0 {
		lines = append(lines, fact("Usage", usage(e)))
	}
	fetched := formatStamp(e.FetchedAt, loc)
	if e.Cached {
		fetched += st.Muted.Render("  from the history")
	}
	lines = append(lines, fact("Fetched", fetched), fact("Output", st.Muted.Render(
		formatBytes(len(e.OutputText))+" of text")))
	return append(lines, outputLines(e, st)...)
}

// responseHead is the section's title line: the status and the model.
func responseHead(e *enrich.Enrichment, st *Styles) string {
	head := st.Section.Render("Response")
	if e.Status == "" {
		return head
	}
	style := st.Failed
	switch e.Status {
	case "completed":
		style = st.OK
	case "queued", "in_progress":
		style = st.Pending
	}
	head += "  " + style.Render(printable(e.Status))
	if e.Model != "" {
		head += st.Muted.Render("  " + printable(e.Model))
	}
	return head
}

// usage says how many tokens the response used.
func usage(e *enrich.Enrichment) string {
	in := fmt.Sprintf("%d input", e.InputTokens)
	if e.CachedTokens > 0 {
		in += fmt.Sprintf(" (%d cached)", e.CachedTokens)
	}
	out := fmt.Sprintf("%d output", e.OutputTokens)
	if e.ReasoningTokens > 0 {
		out += fmt.Sprintf(" (%d reasoning)", e.ReasoningTokens)
	}
	return fmt.Sprintf("%s · %s · %d total", in, out, e.TotalTokens)
}

// outputLines renders the output text, one line a line; the details wrap
// long ones.
func outputLines(e *enrich.Enrichment, st *Styles) []string {
	if e.OutputText == "" {
		return []string{"    " + st.Muted.Render("(no text)")}
	}
	var lines []string
	for l := range strings.SplitSeq(strings.TrimRight(e.OutputText, "\n"), "\n") {
		lines = append(lines, "    "+printable(l))
	}
	if e.Truncated {
		lines = append(lines, "    "+st.Muted.Render(
			fmt.Sprintf("… cut at %s", formatBytes(enrich.MaxOutputText))))
	}
	return lines
}
