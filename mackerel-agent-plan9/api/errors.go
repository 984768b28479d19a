package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Error is a call that failed: what the API answered, or that it did not.
type Error struct {
	Op         string
	Status     int           // the HTTP status; 0 when no answer came
	RetryAfter time.Duration // the answer's Retry-After, if it had one
	Err        error
}

func (e *Error) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("%s: %v", e.Op, e.Err)
	}
	s := fmt.Sprintf("%s: %v (HTTP %d)", e.Op, e.Err, e.Status)
	if e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden {
		s += ": check apikey; it needs write permission"
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Status is the HTTP status of a failed call, 0 when no answer came.
func Status(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// Verdict is what a failed call means for what it carried.
type Verdict int

const (
	// Retry: no answer, or an answer that may change by waiting.
	Retry Verdict = iota
	// Refused: the API will never take this request (400, 413, 422).
	Refused
	// KeyRefused: the API key was refused (401, 403); nothing will be
	// taken until the key is fixed.
	KeyRefused
	// RateLimited: 429; wait RetryAfter before the next request.
	RateLimited
)

func (v Verdict) String() string {
	return [...]string{"retry", "refused", "key refused", "rate limited"}[v]
}

// Classify says what err means for the values or reports a call carried.
func Classify(err error) Verdict {
	switch Status(err) {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		return Refused
	case http.StatusUnauthorized, http.StatusForbidden:
		return KeyRefused
	case http.StatusTooManyRequests:
		return RateLimited
	}
	return Retry
}

// RetryAfter is the wait a 429 (or a 503) asked for; 0 when none.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}
