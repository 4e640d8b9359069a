// Package level is how clbcert judges certificates for monitoring: the
// levels (OK, WARNING, CRITICAL, UNKNOWN, as monitoring plugins exit) and
// the one rule that turns a certificate's dates, and the places still
// serving an older one, into a level. status, listeners, doctor, the
// watcher's metrics and notifications all judge through it.
package level

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Level is a monitoring state; its value is the exit status monitoring
// plugins use for it.
type Level int

// The levels, by exit status.
const (
	OK       Level = 0
	Warning  Level = 1
	Critical Level = 2
	Unknown  Level = 3
)

func (l Level) String() string {
	switch l {
	case OK:
		return "OK"
	case Warning:
		return "WARNING"
	case Critical:
		return "CRITICAL"
	}
	return "UNKNOWN"
}

// Parse reads a level's name as String writes it.
func Parse(s string) (Level, error) {
	for _, l := range []Level{OK, Warning, Critical, Unknown} {
		if strings.EqualFold(s, l.String()) {
			return l, nil
		}
	}
	return Unknown, fmt.Errorf("%q is not a level: give OK, WARNING, CRITICAL or UNKNOWN", s)
}

// MarshalJSON writes the level's name.
func (l Level) MarshalJSON() ([]byte, error) { return json.Marshal(l.String()) }

// UnmarshalJSON reads the level's name.
func (l *Level) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := Parse(s)
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// rank orders levels by how urgently someone must act: a known critical
// problem outranks not knowing everything, which outranks a warning.
func (l Level) rank() int {
	switch l {
	case OK:
		return 0
	case Warning:
		return 1
	case Unknown:
		return 2
	}
	return 3
}

// Worse is the more urgent of a and b.
func Worse(a, b Level) Level {
	if b.rank() > a.rank() {
		return b
	}
	return a
}

// WorseThan reports whether l needs someone more urgently than other.
func (l Level) WorseThan(other Level) bool { return l.rank() > other.rank() }
