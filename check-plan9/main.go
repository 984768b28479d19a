// Command check-plan9 is a set of Mackerel check plugins for Plan 9 and
// 9front hosts. See check-plan9/lib and the README.
package main

import checkplan9 "github.com/mackerel-plan9/mackerel-plugin-plan9/check-plan9/lib"

func main() {
	checkplan9.Do()
}
