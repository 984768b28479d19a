package p9stats

import (
	"strings"
	"sync"
)

// StateClass groups the many strings a process's state field can hold.
type StateClass int

const (
	// StateSleeping: blocked in the kernel, which is where most processes
	// are: in a system call (the field then names it: Pread, Await, Sleep,
	// Rendez, …), in Wakeme, Queueing*, Rendez, Fault, Pageout, Idle, or a
	// resource wait such as "no memory for allocb".
	StateSleeping StateClass = iota
	StateRunning             // Running
	StateReady               // Ready, Scheding: runnable, waiting for a CPU
	StateStopped             // Stopped, Stopwait: stopped by a debugger
	StateBroken              // Broken: faulted and held for the debugger
	StateMoribund            // Moribund, Dead: exiting
	StateNew                 // New: being created
)

var stateClassNames = [...]string{"sleeping", "running", "ready", "stopped", "broken", "moribund", "new"}

func (c StateClass) String() string {
	if c >= 0 && int(c) < len(stateClassNames) {
		return stateClassNames[c]
	}
	return "unknown"
}

// StateClasses lists every class in a stable order.
var StateClasses = []StateClass{StateRunning, StateReady, StateSleeping, StateStopped, StateBroken, StateMoribund, StateNew}

// ParseStateClass returns the class named s (as String prints it).
func ParseStateClass(s string) (StateClass, bool) {
	for i, n := range stateClassNames {
		if strings.EqualFold(n, s) {
			return StateClass(i), true
		}
	}
	return 0, false
}

// ClassifyState maps the state field of /proc/N/status to its class.
func ClassifyState(state string) StateClass {
	switch state {
	case "Running":
		return StateRunning
	case "Ready", "Scheding":
		return StateReady
	case "Stopped", "Stopwait":
		return StateStopped
	case "Broken":
		return StateBroken
	case "Moribund", "Dead":
		return StateMoribund
	case "New":
		return StateNew
	}
	return StateSleeping
}

// knownStates are the state fields Plan 9 kernels print: the names of
// port/proc.c's statename[]; the system call a process is in
// (up->psstate = sysctab[n], generated from libc/9syscall/sys.h, with the
// obsolete lower-case calls); and the other strings the kernel sets in
// psstate. resrcwait() reasons, "no memory for allocb" and the like, all
// begin with "no ".
var knownStates = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, s := range strings.Fields(`Dead Moribund New Ready Scheding Running Queueing QueueingR QueueingW
		Wakeme Broken Stopped Rendez Waitrelease
		Bind Chdir Close Dup Alarm Exec Exits Fauth Segbrk Open Oseek Sleep Rfork Pipe Create Fd2path Brk
		Remove Notify Noted Segattach Segdetach Segfree Segflush Unmount Semacquire Semrelease Seek
		Fversion Errstr Stat Fstat Wstat Fwstat Mount Await Pread Pwrite Tsemacquire Nsec _nsec
		_errstr _fsession _fstat _mount _read _stat _write _wstat _fwstat _wait
		Fault Stopwait Pageout I/O Reclaim Idle`) {
		m[s] = true
	}
	return m
})

// KnownState reports whether s is a state a Plan 9 kernel shows in
// /proc/N/status (as ps prints it: Pread, Await, Rendez, Broken, …).
func KnownState(s string) bool {
	return knownStates()[s] || strings.HasPrefix(s, "no ") && len(s) > 3
}

// ProcStatus is /proc/N/status (#p/N/status). Classic kernels serve 176
// fixed bytes, names cut at 27 bytes, no newline; 9front pads but does not
// cut, so long names and long states shift the columns, and ends with a
// newline.
//
// The times are milliseconds in 32-bit ulongs, so they wrap every 49.7
// days; do not derive uptime from them.
type ProcStatus struct {
	PID   int // from the directory name; 0 when parsed directly
	Name  string
	User  string
	State string // as printed: a state name, a system call, or a resource wait
	Class StateClass

	UserMillis, SysMillis, RealMillis                uint32
	ChildUserMillis, ChildSysMillis, ChildRealMillis uint32

	// MemoryKiB is resident memory on 9front and virtual size on classic
	// kernels, in KiB.
	MemoryKiB uint32

	BasePriority, Priority uint32
}

// ParseProcStatus parses /proc/N/status in either layout.
func ParseProcStatus(b []byte) (ProcStatus, error) {
	s := strings.TrimRight(string(b), "\n")
	if isLinuxProcStatus(s) {
		return ProcStatus{}, lineError(1, s, "Linux's format, not Plan 9's")
	}
	var name, user, state string
	var nums []string
	if fixedLayout(s) {
		// The classic fixed columns also hold on 9front when no field
		// overflows; they keep names with blanks intact.
		name = strings.TrimSpace(s[0:27])
		user = strings.TrimSpace(s[28:55])
		state = strings.TrimSpace(s[56:67])
		nums = strings.Fields(s[68:])
	} else {
		f := strings.Fields(s)
		if len(f) < 12 {
			return ProcStatus{}, lineError(1, s, "%d fields, want at least 12", len(f))
		}
		name, user = f[0], f[1]
		state = strings.Join(f[2:len(f)-9], " ")
		nums = f[len(f)-9:]
	}
	if len(nums) != 9 {
		return ProcStatus{}, lineError(1, s, "%d numbers, want 9", len(nums))
	}
	var v [9]uint32
	for i, n := range nums {
		x, err := parseUint(n, 32)
		if err != nil {
			return ProcStatus{}, lineError(1, s, "%v", err)
		}
		v[i] = uint32(x)
	}
	if name == "" || state == "" {
		return ProcStatus{}, lineError(1, s, "empty name or state")
	}
	return ProcStatus{
		Name: name, User: user, State: state, Class: ClassifyState(state),
		UserMillis: v[0], SysMillis: v[1], RealMillis: v[2],
		ChildUserMillis: v[3], ChildSysMillis: v[4], ChildRealMillis: v[5],
		MemoryKiB: v[6], BasePriority: v[7], Priority: v[8],
	}, nil
}

// fixedLayout reports whether s has the 176-byte column layout: text in
// [0:27], user in [28:55], state in [56:67] and nine 12-byte numbers.
func fixedLayout(s string) bool {
	s = strings.TrimRight(s, " ")
	if len(s) != 175 || s[27] != ' ' || s[55] != ' ' || s[67] != ' ' {
		return false
	}
	for i := 0; i < 9; i++ {
		field := s[68+12*i : min(68+12*i+12, len(s))]
		if strings.TrimSpace(field) == "" || field[0] != ' ' {
			return false
		}
	}
	return true
}

// isLinuxProcStatus reports whether s is a Linux /proc/N/status: "Key:\tvalue"
// lines, beginning with the name and holding the pid.
func isLinuxProcStatus(s string) bool {
	return strings.HasPrefix(s, "Name:") && strings.Contains(s, "\nPid:")
}
