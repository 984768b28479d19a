// Package queue holds what one watched host has to send to Mackerel: its
// metric values (Metrics) and its check reports (Reports), and decides
// when the next request goes and what it carries. It is plain data: the
// caller passes the time and the API's verdict on each request, so that
// the rules (oldest first, none twice, six hours at most, bounded in
// size, what each answer means) are tested as data, with no HTTP and no
// clock.
//
// Rules shared by both queues, for the answer to a request:
//   - success: what it carried is removed;
//   - no answer, 5xx and any 4xx not named below: kept, sent again later;
//   - 400, 413 and 422 (api.Refused): a request mixing several sources is
//     split, each source sent alone; a single source's is given up;
//   - 401 and 403 (api.KeyRefused): kept; requests back off to one every
//     few minutes until the key is accepted again;
//   - 429 (api.RateLimited): kept; the next request waits Retry-After.
package queue

import "time"

// Pacing of the requests, as upstream's agent paces its posts.
const (
	backlogDelay = 30 * time.Second // between requests while a backlog waits
	retryDelay   = time.Minute      // after a failed request
	termDelay    = time.Second      // between requests while stopping
	keyBackoff   = time.Minute      // the first wait after the key was refused
	maxBackoff   = 10 * time.Minute // the longest wait the key's refusal grows to
	rateDefault  = time.Minute      // after a 429 without Retry-After
	maxWait      = time.Hour        // no request is ever scheduled further ahead
)

// Resolution is what is known of the host a batch or report goes to.
type Resolution int

const (
	// Pending: not known yet (the host is not registered, or its custom
	// identifier not looked up); what goes there waits.
	Pending Resolution = iota
	// Resolved: the host's id is known.
	Resolved
	// Unknown: no such host; what goes there is given up.
	Unknown
)

// Resolver maps a target ("" for the watched host, else a plugin's
// custom_identifier) to a host id.
type Resolver func(target string) (id string, r Resolution)

// clampAhead brings a time scheduled absurdly far ahead back to now: the
// wall clock stepped back after it was scheduled.
func clampAhead(at, now time.Time) time.Time {
	if !at.IsZero() && at.Sub(now) > maxWait {
		return now
	}
	return at
}
