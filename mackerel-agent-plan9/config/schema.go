package config

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// schema is the file as written: what TOML decodes into. The keys are
// upstream's, in upstream's order (the first near key is the one an
// unknown key is told of, so the order is part of matching upstream's
// configtest); this agent's own keys come after theirs.
type schema struct {
	Apibase              string                             `toml:"apibase"`
	Apikey               string                             `toml:"apikey"`
	Root                 string                             `toml:"root"`
	Pidfile              string                             `toml:"pidfile"`
	Conffile             string                             `toml:"conffile"`
	Roles                []string                           `toml:"roles"`
	Verbose              bool                               `toml:"verbose"`
	Silent               bool                               `toml:"silent"`
	Diagnostic           bool                               `toml:"diagnostic"`
	DisableHTTPKeepAlive bool                               `toml:"disable_http_keep_alive"`
	DisplayName          string                             `toml:"display_name"`
	HostStatus           HostStatus                         `toml:"host_status"`
	Disks                disksTable                         `toml:"disks"`
	Filesystems          fsTable                            `toml:"filesystems"`
	Interfaces           ifTable                            `toml:"interfaces"`
	HTTPProxy            string                             `toml:"http_proxy"`
	HTTPSProxy           string                             `toml:"https_proxy"`
	CloudPlatform        string                             `toml:"cloud_platform"`
	Plugin               map[string]map[string]*pluginTable `toml:"plugin"`
	Include              string                             `toml:"include"`
	Host                 map[string]*hostTable              `toml:"host"`
}

type disksTable struct {
	Ignore *pattern `toml:"ignore"`
}

type fsTable struct {
	Ignore        *pattern `toml:"ignore"`
	UseMountpoint bool     `toml:"use_mountpoint"`
	Consoles      []string `toml:"consoles"`
}

type ifTable struct {
	Ignore           *pattern `toml:"ignore"`
	UseAdapterMetric bool     `toml:"use_adapter"`
}

// pluginTable is one [plugin.KIND.NAME].
type pluginTable struct {
	commandTable
	NotificationInterval  *minutes     `toml:"notification_interval"`
	CheckInterval         *minutes     `toml:"check_interval"`
	ExecutionInterval     *minutes     `toml:"execution_interval"`
	MaxCheckAttempts      *int64       `toml:"max_check_attempts"`
	CustomIdentifier      *string      `toml:"custom_identifier"`
	PreventAlertAutoClose bool         `toml:"prevent_alert_auto_close"`
	IncludePattern        *pattern     `toml:"include_pattern"`
	ExcludePattern        *pattern     `toml:"exclude_pattern"`
	Action                commandTable `toml:"action"`
	Memo                  string       `toml:"memo"`
	UsePluginTimestamp    bool         `toml:"use_plugin_timestamp"`
}

// commandTable is the command part of a plugin or an action.
type commandTable struct {
	Raw            any               `toml:"command"`
	User           string            `toml:"user"`
	Env            map[string]string `toml:"env"`
	TimeoutSeconds int64             `toml:"timeout_seconds"`
}

// hostTable is one [host.NAME]: a Plan 9 host watched over the network.
// auth_key and auth_server are the rcpu transport's --auth-key and
// --auth-server.
type hostTable struct {
	Address     string   `toml:"address"`
	DisplayName string   `toml:"display_name"`
	Roles       []string `toml:"roles"`
	Checks      []string `toml:"checks"`
	Timeout     *seconds `toml:"timeout"`
	Consoles    []string `toml:"consoles"`
	AuthKey     string   `toml:"auth_key"`
	AuthServer  string   `toml:"auth_server"`
}

// pattern is a regular expression compiled as the file is decoded, so
// that a bad one is an error at its line and column.
type pattern struct{ *regexp.Regexp }

func (p *pattern) UnmarshalText(b []byte) error {
	re, err := regexp.Compile(string(b))
	if err != nil {
		return err
	}
	p.Regexp = re
	return nil
}

func (p *pattern) re() *regexp.Regexp {
	if p == nil {
		return nil
	}
	return p.Regexp
}

// minutes is a number of minutes written as an integer or as a Go
// duration that is a whole number of minutes ("5m", "1h"), as upstream
// accepts.
type minutes int32

func (m *minutes) UnmarshalText(b []byte) error {
	s := string(b)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || n > math.MaxInt32 {
			return fmt.Errorf("%d minutes is out of range (0 to %d)", n, math.MaxInt32)
		}
		*m = minutes(n)
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is neither minutes nor a duration such as 5m", s)
	}
	if d < 0 || d.Minutes() > math.MaxInt32 {
		return fmt.Errorf("%v is out of range (0 to %d minutes)", d, math.MaxInt32)
	}
	if d != d.Round(time.Minute) {
		return fmt.Errorf("%v is not a whole number of minutes", d)
	}
	*m = minutes(d / time.Minute)
	return nil
}

func (m *minutes) ptr() *int32 {
	if m == nil {
		return nil
	}
	v := int32(*m)
	return &v
}

// seconds is a duration written as whole seconds (10) or as a Go
// duration ("10s", "1.5s").
type seconds time.Duration

func (s *seconds) UnmarshalText(b []byte) error {
	t := string(b)
	if n, err := strconv.ParseInt(t, 10, 64); err == nil {
		if n < 0 || n > math.MaxInt64/int64(time.Second) {
			return fmt.Errorf("%d seconds is out of range", n)
		}
		*s = seconds(time.Duration(n) * time.Second)
		return nil
	}
	if strings.ContainsAny(t, ".") && !strings.ContainsAny(t, "hmsuµn") {
		return fmt.Errorf("%s: give whole seconds or a duration such as \"1.5s\"", t)
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return fmt.Errorf("%q is neither seconds nor a duration such as \"10s\"", t)
	}
	*s = seconds(d)
	return nil
}
