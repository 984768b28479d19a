// Command mackerel-plugin-plan9 is a Mackerel metrics plugin for Plan 9
// and 9front hosts. See mackerel-plugin-plan9/lib and the README.
package main

import mpplan9 "github.com/mackerel-plan9/mackerel-plugin-plan9/mackerel-plugin-plan9/lib"

func main() {
	mpplan9.Do()
}
