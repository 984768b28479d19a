package api

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mackerelio/mackerel-client-go"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/logger"
)

func TestCheckBase(t *testing.T) {
	for base, ok := range map[string]bool{
		"https://api.mackerelio.com": true, "http://127.0.0.1:8080": true,
		"not a url": false, "ftp://x": false, "https://": false, "/api": false, "": false,
	} {
		if err := CheckBase(base); (err == nil) != ok {
			t.Errorf("%q: %v", base, err)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"7":                             7 * time.Second,
		" 120 ":                         2 * time.Minute,
		"-5":                            0,
		"99999999999":                   maxRetryAfter,
		"Thu, 03 Dec 2026 10:00:30 GMT": 30 * time.Second,
		"Thu, 03 Dec 2026 09:00:00 GMT": 0,
		"soon":                          0,
	} {
		if got := parseRetryAfter(v, now); got != want {
			t.Errorf("%q: %v, want %v", v, got, want)
		}
	}
}

// Every answer is classified for the queues, with the Retry-After of a
// 429; an answer longer than the agent reads is an error, not a large
// allocation; the log has method, path and status, never the key.
func TestAnswers(t *testing.T) {
	status, retry := 0, ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if retry != "" {
			w.Header().Set("Retry-After", retry)
		}
		if status == 0 {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"hosts":[`))
			w.Write(bytes.Repeat([]byte(" "), MaxResponse))
			w.Write([]byte(`]}`))
			return
		}
		w.WriteHeader(status)
		w.Write([]byte(`{"error":{"message":"no"}}`))
	}))
	defer srv.Close()
	var log bytes.Buffer
	c, err := New(Options{APIKey: "secret-key", APIBase: srv.URL, UserAgent: "t", Log: logger.New(&log, true, false, nil)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tt := range []struct {
		status int
		want   Verdict
	}{
		{400, Refused}, {413, Refused}, {422, Refused}, {401, KeyRefused}, {403, KeyRefused},
		{429, RateLimited}, {404, Retry}, {500, Retry}, {503, Retry},
	} {
		status, retry = tt.status, "3"
		err := c.PostValues(ctx, []*mackerel.HostMetricValue{{HostID: "H", MetricValue: &mackerel.MetricValue{Name: "x", Time: 1, Value: 1.0}}})
		if Classify(err) != tt.want || Status(err) != tt.status || RetryAfter(err) != 3*time.Second {
			t.Errorf("%d: %v (%v, %v)", tt.status, Classify(err), err, RetryAfter(err))
		}
	}
	if !strings.Contains(Classify(&Error{Status: 401, Err: errors.New("x")}).String(), "key") {
		t.Error("verdict names")
	}
	status, retry = 0, ""
	if _, err := c.FindCustomHost(ctx, "x"); err == nil || !strings.Contains(err.Error(), "longer than the agent reads") {
		t.Errorf("a long answer: %v", err)
	}
	if strings.Contains(log.String(), "secret-key") || !strings.Contains(log.String(), "POST /api/v0/tsdb: 429") {
		t.Errorf("log:\n%s", log.String())
	}
}

// A post that gets no answer at once is sent once more at once, as
// upstream's agent does.
func TestNoAnswerRetriedOnce(t *testing.T) {
	c, err := New(Options{APIKey: "k", APIBase: "http://127.0.0.1:1", UserAgent: "t"})
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	c.log = logger.New(&log, false, false, nil)
	err = c.PostValues(context.Background(), nil)
	if Status(err) != 0 || Classify(err) != Retry || strings.Count(log.String(), "retrying at once") != 1 {
		t.Errorf("%v\n%s", err, log.String())
	}
}
