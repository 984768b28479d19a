// Package api is the agent's one caller of Mackerel's API. It wraps
// mackerel-client-go so that every answer is classified for the queues
// (retry, refused for good, key refused, rate limited with Retry-After),
// every response body is bounded, and the log says method, path, status
// and size of each request and never its headers: the client's own
// verbose dump would write the X-Api-Key header into the log.
package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/mackerelio/mackerel-client-go"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-agent-plan9/logger"
)

// DefaultTimeout bounds each request, as upstream's client does.
const DefaultTimeout = 30 * time.Second

// retryNetworkUnder: a post that failed without an answer this quickly is
// sent again at once, as upstream does.
const retryNetworkUnder = 25 * time.Second

// Options configure a Client.
type Options struct {
	APIKey, APIBase   string
	UserAgent         string
	Version, Revision string // sent as X-Agent-Version and X-Revision
	// Timeout bounds each request (DefaultTimeout when 0).
	Timeout           time.Duration
	DisableKeepAlives bool
	Log               *logger.Logger
	// Transport carries the requests (a clone of http.DefaultTransport
	// when nil).
	Transport http.RoundTripper
}

// Client calls Mackerel's API. It is safe for concurrent use.
type Client struct {
	c   *mackerel.Client
	log *logger.Logger
}

// New returns a client for o. An apibase that is not an absolute http or
// https URL is an error naming it.
func New(o Options) (*Client, error) {
	if err := CheckBase(o.APIBase); err != nil {
		return nil, err
	}
	// Never verbose: the client's dump holds the API key.
	c, err := mackerel.NewClientWithOptions(o.APIKey, o.APIBase, false)
	if err != nil {
		return nil, fmt.Errorf("apibase %q: %v", o.APIBase, err)
	}
	c.UserAgent = o.UserAgent
	if o.Version != "" {
		c.AdditionalHeaders.Set("X-Agent-Version", o.Version)
	}
	if o.Revision != "" {
		c.AdditionalHeaders.Set("X-Revision", o.Revision)
	}
	c.PrioritizedLogger = quiet{}
	t := o.Transport
	if t == nil {
		dt := http.DefaultTransport.(*http.Transport).Clone()
		dt.DisableKeepAlives = o.DisableKeepAlives
		t = dt
	}
	c.HTTPClient.Transport = &transport{next: t, log: o.Log}
	c.HTTPClient.Timeout = o.Timeout
	if o.Timeout <= 0 {
		c.HTTPClient.Timeout = DefaultTimeout
	}
	return &Client{c: c, log: o.Log}, nil
}

// CheckBase says why base cannot be the API's address, if it cannot.
func CheckBase(base string) error {
	u, err := url.Parse(base)
	switch {
	case err != nil:
		return fmt.Errorf("apibase %q is not a URL: %v", base, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("apibase %q is not an http or https URL", base)
	case u.Host == "":
		return fmt.Errorf("apibase %q names no host", base)
	}
	return nil
}

// quiet takes the client's own log lines, which are only written when it
// is verbose, which it never is here.
type quiet struct{}

func (quiet) Tracef(string, ...any)   {}
func (quiet) Debugf(string, ...any)   {}
func (quiet) Infof(string, ...any)    {}
func (quiet) Warningf(string, ...any) {}
func (quiet) Errorf(string, ...any)   {}

// call runs f with a record of its exchange, and wraps f's error in an
// *Error that says what the API answered.
func (c *Client) call(ctx context.Context, op string, f func(ctx context.Context) error) error {
	x := &exchange{}
	err := f(context.WithValue(ctx, exchangeKey{}, x))
	if err == nil {
		return nil
	}
	e := &Error{Op: op, Err: err, RetryAfter: x.retryAfter}
	var ae *mackerel.APIError
	if errors.As(err, &ae) {
		e.Status = ae.StatusCode
	}
	return e
}

// callAgain is call, sent once more at once when no answer came quickly,
// as upstream's agent does for posts.
func (c *Client) callAgain(ctx context.Context, op string, f func(ctx context.Context) error) error {
	start := time.Now()
	err := c.call(ctx, op, f)
	if err != nil && Status(err) == 0 && ctx.Err() == nil && time.Since(start) < retryNetworkUnder {
		c.log.Warningf("%v (retrying at once)", err)
		err = c.call(ctx, op, f)
	}
	return err
}

// CreateHost registers a host and returns its id.
func (c *Client) CreateHost(ctx context.Context, p *mackerel.CreateHostParam) (id string, err error) {
	err = c.call(ctx, "registering the host", func(ctx context.Context) (e error) {
		id, e = c.c.CreateHostContext(ctx, p)
		return e
	})
	return id, err
}

// FindHost looks a host up by its id.
func (c *Client) FindHost(ctx context.Context, id string) (h *mackerel.Host, err error) {
	err = c.call(ctx, "finding the host "+id, func(ctx context.Context) (e error) {
		h, e = c.c.FindHostContext(ctx, id)
		return e
	})
	return h, err
}

// FindCustomHost looks up the live host with a custom identifier; nil
// when there is none.
func (c *Client) FindCustomHost(ctx context.Context, ci string) (h *mackerel.Host, err error) {
	err = c.call(ctx, fmt.Sprintf("finding the host of custom_identifier %q", ci), func(ctx context.Context) error {
		hs, e := c.c.FindHostsContext(ctx, &mackerel.FindHostsParam{
			CustomIdentifier: ci,
			Statuses:         []string{mackerel.HostStatusWorking, mackerel.HostStatusStandby, mackerel.HostStatusMaintenance, mackerel.HostStatusPoweroff},
		})
		if len(hs) > 0 {
			h = hs[0]
		}
		return e
	})
	return h, err
}

// UpdateHost sends a host's specs.
func (c *Client) UpdateHost(ctx context.Context, id string, p *mackerel.CreateHostParam) error {
	return c.call(ctx, "updating the host's specs", func(ctx context.Context) error {
		_, e := c.c.UpdateHostContext(ctx, id, (*mackerel.UpdateHostParam)(p))
		return e
	})
}

// UpdateHostStatus sets a host's status.
func (c *Client) UpdateHostStatus(ctx context.Context, id, status string) error {
	return c.call(ctx, "setting the host status to "+status, func(ctx context.Context) error {
		return c.c.UpdateHostStatusContext(ctx, id, status)
	})
}

// RetireHost retires a host.
func (c *Client) RetireHost(ctx context.Context, id string) error {
	return c.call(ctx, "retiring the host "+id, func(ctx context.Context) error {
		return c.c.RetireHostContext(ctx, id)
	})
}

// PostValues posts metric values.
func (c *Client) PostValues(ctx context.Context, v []*mackerel.HostMetricValue) error {
	return c.callAgain(ctx, "posting metrics", func(ctx context.Context) error {
		return c.c.PostHostMetricValuesContext(ctx, v)
	})
}

// CreateGraphDefs sends graph definitions.
func (c *Client) CreateGraphDefs(ctx context.Context, d []*mackerel.GraphDefsParam) error {
	return c.call(ctx, "creating graph definitions", func(ctx context.Context) error {
		return c.c.CreateGraphDefsContext(ctx, d)
	})
}

// PostCheckReports sends check reports.
func (c *Client) PostCheckReports(ctx context.Context, r *mackerel.CheckReports) error {
	return c.callAgain(ctx, "reporting checks", func(ctx context.Context) error {
		return c.c.PostCheckReportsContext(ctx, r)
	})
}
