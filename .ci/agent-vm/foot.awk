# Summarizes foot.rc's samples, one line a sample (the first, "base", is
# taken before the agent starts):
#   procs     the agent's procs (its note group; a Go program has several)
#   mem       the memory column of its /proc/N/status, which ps -a shows:
#             pages in use on 9front, the segments' sizes on 9legacy
#   heap      Data+Bss from /proc/N/segment, virtual (Go's heap is Bss)
#   user      /dev/swap's user pages in use, in KB, less those at "base":
#             the whole machine's, the agent's and anything running then
#   own, kids processor time per minute since the last sample (user+sys
#             in ms) of the agent's procs, and of their children, the
#             plugins and checks they waited for (a Go plugin's own extra
#             procs are not waited for, so kids is a lower bound)
#   plugins   processes named as a plugin or check at the sample
#   Broken    Broken processes at the sample
function hex(s, i, n) {
	n = 0
	s = tolower(s)
	sub(/^0x/, "", s)
	for (i = 1; i <= length(s); i++)
		n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
	return n
}
function flush(  i, f, nagent, own, kids, mem, plugins, broken, line, dt, user) {
	if (label == "")
		return
	for (i = 1; i <= nprocs; i++) {
		# pid noteid name user state utime stime real cutime cstime creal memory ...
		split(procs[i], f, " ")
		if (f[3] == "mackerel-agent-plan9" && f[2] == noteid) {
			nagent++
			own += f[6] + f[7]
			kids += f[9] + f[10]
			if (f[1] == agent) mem = f[12]
		}
		if (f[3] == "mackerel-plugin-plan9" || f[3] == "check-plan9") plugins++
		if (f[5] == "Broken") broken++
	}
	user = userpages * pagesize / 1024
	if (label == "base") {
		baseuser = user
		printf "%-6s %6s %5s %8s %8s %8s %8s %8s %7d %6d\n", label, "-", 0, "-", "-", 0, "-", "-", plugins, broken
		label = ""
		return
	}
	if (t0 == 0) t0 = t
	line = sprintf("%-6s %6d %5d %8d %8d %8d", label, t - t0, nagent, mem, (seg["Data"] + seg["Bss"]) / 1024, user - baseuser)
	if (nagent == 0) {
		# the agent has exited
		printf "%-6s %6d %5d %8s %8s %8d %8s %8s %7d %6d\n", label, t - t0, 0, "-", "-", user - baseuser, "-", "-", plugins, broken
		label = ""
		return
	}
	if (have) {
		dt = t - tprev
		line = line sprintf(" %8.0f %8.0f", (own - ownprev) * 60 / dt, (kids - kidsprev) * 60 / dt)
		if (label != "stop") {
			sumown += own - ownprev; sumkids += kids - kidsprev; sumdt += dt
			if (label + 0 >= 2) { steadyown += own - ownprev; steadykids += kids - kidsprev; steadydt += dt }
		}
	} else
		line = line sprintf(" %8s %8s", "-", "-")
	print line sprintf(" %7d %6d", plugins, broken)
	tprev = t; ownprev = own; kidsprev = kids; have = 1
	if (label != "stop") {
		if (mem > maxmem) maxmem = mem
		if (mem < minmem || minmem == 0) minmem = mem
		if (label + 0 >= 2) {
			if (mem > maxsteady) maxsteady = mem
			if (mem < minsteady || minsteady == 0) minsteady = mem
		}
		heap = (seg["Data"] + seg["Bss"]) / 1024
		text = seg["Text"] / 1024
	}
	label = ""
}
BEGIN {
	printf "%-6s %6s %5s %8s %8s %8s %8s %8s %7s %6s\n", "sample", "s", "procs", "mem KB", "heap KB", "user KB", "own ms", "kids ms", "plugins", "Broken"
}
/^== agent / { flush(); agent = $3; noteid = $4; next }
/^== sample / {
	flush()
	label = $3; t = $4
	delete seg
	nprocs = 0
	sect = ""
	next
}
/^-- / { sect = $2; next }
sect == "swap" && $2 == "pagesize" { pagesize = $1 }
sect == "swap" && $2 == "user" { split($1, f, "/"); userpages = f[1] }
sect == "segment" && NF >= 4 { seg[$1] += hex($(NF - 1)) - hex($(NF - 2)) }
sect == "procs" && NF >= 12 { procs[++nprocs] = $0 }
END {
	flush()
	printf "text %d KB, heap (Data+Bss, virtual) %d KB at the last minute\n", text, heap
	printf "memory column: %d to %d KB; from sample 2 on %d to %d KB\n", minmem, maxmem, minsteady, maxsteady
	if (sumdt > 0)
		printf "whole run: agent %.0f ms/min own, %.0f ms/min children, over %.0f s\n", sumown * 60 / sumdt, sumkids * 60 / sumdt, sumdt
	if (steadydt > 0)
		printf "from sample 2 on: agent %.0f ms/min own, %.0f ms/min children, over %.0f s\n", steadyown * 60 / steadydt, steadykids * 60 / steadydt, steadydt
}
