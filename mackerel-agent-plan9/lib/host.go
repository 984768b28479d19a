package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mackerelio/mackerel-client-go"
)

// Retries of the start-up calls, as upstream: 20 times 3 s apart, except
// that a 4xx answer (a wrong API key, say) stops at once.
const (
	startRetries  = 20
	startInterval = 3 * time.Second
)

// idFile is where the host's id is kept, as upstream: <root>/id.
func (c *Config) idFile() string { return filepath.Join(c.Root, "id") }

// loadHostID reads the id file. A missing file is fs.ErrNotExist; any
// other problem is an error that says what to do.
func loadHostID(c *Config) (string, error) {
	b, err := os.ReadFile(c.idFile())
	if errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("cannot read the host id file: %v (check its permissions, or delete it to register this host anew)", err)
	}
	id := strings.TrimRight(string(b), "\r\n")
	if id == "" || strings.ContainsAny(id, " \t\n/") {
		return "", fmt.Errorf("the host id file %s holds %q, not a host id: delete it to register this host anew", c.idFile(), string(b))
	}
	return id, nil
}

// saveHostID writes the id file atomically.
func saveHostID(c *Config, id string) error {
	return writeFileAtomic(c.idFile(), []byte(id), 0o644)
}

// writeFileAtomic writes a temporary file beside name and renames it over
// name, so that a reader sees the old content or the new, never a part.
func writeFileAtomic(name string, b []byte, perm fs.FileMode) error {
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, filepath.Base(name)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, perm)
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

func isClientError(err error) bool {
	var ae *mackerel.APIError
	return errors.As(err, &ae) && ae.StatusCode >= 400 && ae.StatusCode < 500
}

func isNotFound(err error) bool {
	var ae *mackerel.APIError
	return errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound
}

// retry calls f until it succeeds, it fails with a 4xx, or the tries are
// used up, waiting between tries on the agent's clock.
func (a *Agent) retry(what string, tries int, interval time.Duration, f func() error) error {
	var err error
	for i := 0; i < tries; i++ {
		if err = f(); err == nil || isClientError(err) {
			return err
		}
		a.log.Warningf("%s: %v", what, err)
		if i < tries-1 {
			a.sleep(interval)
		}
	}
	return err
}

// sleep waits d on the agent's clock.
func (a *Agent) sleep(d time.Duration) {
	ch, stop := a.clock.Until(a.clock.Now().Add(d), false)
	defer stop()
	<-ch
}

// hostParam is the host's entry: its name, specs and checks.
func (a *Agent) hostParam(ctx context.Context) (*mackerel.CreateHostParam, error) {
	specs, err := a.sys.Specs(ctx)
	if err != nil {
		return nil, fmt.Errorf("collecting host specs: %v", err)
	}
	name := specs.Name
	if name == "" {
		if name, err = os.Hostname(); err != nil || name == "" {
			return nil, fmt.Errorf("the host has no name: /dev/sysname is empty and os.Hostname says %v", err)
		}
	}
	meta := specs.Meta
	meta.AgentVersion = a.version
	meta.AgentRevision = a.revision
	meta.AgentName = a.userAgent()
	var ifs []mackerel.Interface
	for _, i := range specs.Interfaces {
		if re := a.conf.Interfaces.Ignore; re != nil && re.MatchString(i.Name) {
			continue
		}
		ifs = append(ifs, i)
	}
	checks := []mackerel.CheckConfig{}
	for _, n := range sortedKeys(a.conf.CheckPlugins) {
		if c := a.conf.CheckPlugins[n]; c.CustomIdentifier == "" {
			checks = append(checks, mackerel.CheckConfig{Name: n, Memo: c.Memo})
		}
	}
	roles := a.conf.Roles
	if roles == nil {
		roles = []string{}
	}
	return &mackerel.CreateHostParam{
		Name: name, DisplayName: a.conf.DisplayName, Meta: meta, Interfaces: ifs,
		RoleFullnames: roles, Checks: checks,
	}, nil
}

func (a *Agent) userAgent() string {
	return fmt.Sprintf("mackerel-agent-plan9/%s (Revision %s)", a.version, a.revision)
}

// prepareHost finds the host the id file names, or registers a new one,
// sets its status, and saves its id.
func (a *Agent) prepareHost(ctx context.Context) error {
	param, err := a.hostParam(ctx)
	if err != nil {
		return err
	}
	id, err := loadHostID(a.conf)
	var host *mackerel.Host
	switch {
	case errors.Is(err, fs.ErrNotExist):
		a.log.Infof("registering the host %q on Mackerel", param.Name)
		err = a.retry("registering the host", startRetries, startInterval, func() (e error) {
			id, e = a.api.CreateHostContext(ctx, param)
			return e
		})
		if err != nil {
			return fmt.Errorf("registering this host failed: %v", apiErrorHint(err))
		}
		err = a.retry("finding the new host", startRetries, startInterval, func() (e error) {
			host, e = a.api.FindHostContext(ctx, id)
			return e
		})
		if err != nil {
			return fmt.Errorf("finding the newly registered host %s failed: %v", id, apiErrorHint(err))
		}
	case err != nil:
		return err
	default:
		err = a.retry("finding the host", startRetries, startInterval, func() (e error) {
			host, e = a.api.FindHostContext(ctx, id)
			return e
		})
		if isNotFound(err) {
			return fmt.Errorf("Mackerel knows no host %s, which %s names: it was retired, or belongs to another organization than the API key's; delete %s to register this host anew", id, a.conf.idFile(), a.conf.idFile())
		}
		if err != nil {
			return fmt.Errorf("finding this host (%s, from %s) failed: %v", id, a.conf.idFile(), apiErrorHint(err))
		}
	}
	if st := a.conf.HostStatus.OnStart; st != "" && st != host.Status {
		err := a.retry("setting the host status", startRetries, startInterval, func() error {
			return a.api.UpdateHostStatusContext(ctx, host.ID, st)
		})
		if err != nil {
			return fmt.Errorf("setting the host status to %s (host_status.on_start) failed: %v", st, apiErrorHint(err))
		}
	}
	if err := saveHostID(a.conf, host.ID); err != nil {
		return fmt.Errorf("saving the host id: %v", err)
	}
	a.host = host
	return nil
}

// apiErrorHint adds what to do to the API errors an operator can fix.
func apiErrorHint(err error) error {
	var ae *mackerel.APIError
	if errors.As(err, &ae) {
		switch ae.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("%v (HTTP %d: check apikey; it needs write permission)", err, ae.StatusCode)
		}
		return fmt.Errorf("%v (HTTP %d)", err, ae.StatusCode)
	}
	return err
}

// findCustomHosts looks up, once, the hosts that plugins with a
// custom_identifier post to. One that is not found costs its plugins'
// values and reports until the agent restarts, as upstream.
func (a *Agent) findCustomHosts(ctx context.Context) {
	a.customHosts = map[string]string{}
	for _, ci := range a.conf.CustomIdentifiers() {
		hosts, err := a.api.FindHostsContext(ctx, &mackerel.FindHostsParam{
			CustomIdentifier: ci,
			Statuses:         []string{mackerel.HostStatusWorking, mackerel.HostStatusStandby, mackerel.HostStatusMaintenance, mackerel.HostStatusPoweroff},
		})
		switch {
		case err != nil:
			a.log.Warningf("Failed to retrieve the host of custom_identifier %q: %v; its values and reports are dropped until the agent restarts", ci, err)
		case len(hosts) == 0:
			a.log.Warningf("No host has custom_identifier %q (create it with mkr create --customIdentifier %s NAME); its values and reports are dropped until the agent restarts", ci, ci)
		default:
			a.customHosts[ci] = hosts[0].ID
		}
	}
}

// hostFor is the host id that values and reports with custom identifier
// ci go to; ok is false when that host was not found.
func (a *Agent) hostFor(ci string) (string, bool) {
	if ci == "" {
		return a.host.ID, true
	}
	id, ok := a.customHosts[ci]
	return id, ok
}
