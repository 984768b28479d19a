module github.com/mackerel-plan9/mackerel-plugin-plan9

go 1.26.0

require (
	9fans.net/go v0.0.7
	github.com/BurntSushi/toml v1.6.0
	github.com/cloudflare/circl v1.6.5
	github.com/jessevdk/go-flags v1.6.1
	github.com/mackerelio/checkers v0.2.1
	github.com/mackerelio/go-mackerel-plugin v0.1.6
	github.com/mackerelio/mackerel-client-go v0.46.0
	golang.org/x/crypto v0.59.0
)

require (
	github.com/mackerelio/golib v1.2.1 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.44.0 // indirect
)
