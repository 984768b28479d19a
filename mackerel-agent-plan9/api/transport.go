package api

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/logger"
)

// MaxResponse bounds what the agent reads of an answer: a broken proxy or
// a hostile server cannot make it allocate more.
const MaxResponse = 4 << 20

// maxRetryAfter caps the wait an answer may ask for.
const maxRetryAfter = time.Hour

type exchangeKey struct{}

// exchange is what the transport saw of one call's answer.
type exchange struct {
	retryAfter time.Duration
}

// transport logs each request by method, path, status and size, keeps
// Retry-After for the call, and bounds the response body.
type transport struct {
	next http.RoundTripper
	log  *logger.Logger
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	size := req.ContentLength
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		t.log.Debugf("%s %s: %v after %.2f s", req.Method, req.URL.Path, err, time.Since(start).Seconds())
		return nil, err
	}
	t.log.Debugf("%s %s: %d, %d bytes sent in %.2f s", req.Method, req.URL.Path, resp.StatusCode, size, time.Since(start).Seconds())
	if x, ok := req.Context().Value(exchangeKey{}).(*exchange); ok {
		x.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	resp.Body = &limitedBody{rc: resp.Body, left: MaxResponse}
	return resp, nil
}

// parseRetryAfter reads seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		d = time.Duration(min(max(n, 0), int64(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

var errTooLong = errors.New("the API's answer is longer than the agent reads")

type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errTooLong
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
