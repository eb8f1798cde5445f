// SPDX-License-Identifier: MIT

package agent

import (
	"errors"
	"testing"
)

func TestParseLine(t *testing.T) {
	cases := []struct {
		name, line string
		ok         bool
		typ        string
		key, value string
	}{
		{"type only", "bye", true, "bye", "", ""},
		{"stats?", "stats? seq=5", true, "stats?", "seq", "5"},
		{"target", "target seq=1 bytes=max level=ok", true, "target", "bytes", "max"},
		{"percent", "x k=a%20b%25c%3Dd", true, "x", "k", "a b%c=d"},
		{"utf-8", "x k=%c3%a9", true, "x", "k", "é"},
		{"empty value", "x k=", true, "x", "k", ""},
		{"x- key", "stats x-go-goroutines=3", true, "stats", "x-go-goroutines", "3"},
		{"empty line", "", false, "", "", ""},
		{"leading space", " bye", false, "", "", ""},
		{"trailing space", "bye ", false, "", "", ""},
		{"two spaces", "a  k=v", false, "", "", ""},
		{"uppercase type", "Bye", false, "", "", ""},
		{"? inside type", "st?ats", false, "", "", ""},
		{"no =", "target seq", false, "", "", ""},
		{"duplicate", "target seq=1 seq=2", false, "", "", ""},
		{"NUL", "bye\x00", false, "", "", ""},
		{"raw utf-8", "x k=é", false, "", "", ""},
		{"raw 0xff", "x k=\xff", false, "", "", ""},
		{"%00", "x k=%00", false, "", "", ""},
		{"short %", "x k=%4", false, "", "", ""},
		{"encoded control", "x k=%0a", false, "", "", ""},
		{"encoded invalid utf-8", "x k=%ff", false, "", "", ""},
		{"encoded surrogate", "x k=%ed%a0%80", false, "", "", ""},
		{"space in value", "x k=a b", false, "", "", ""},
	}
	for _, c := range cases {
		m, err := parseLine([]byte(c.line))
		if (err == nil) != c.ok {
			t.Errorf("%s: err=%v, want ok=%v", c.name, err, c.ok)
			continue
		}
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Errorf("%s: %v is not errMalformed", c.name, err)
			}
			continue
		}
		if m.typ != c.typ {
			t.Errorf("%s: type %q", c.name, m.typ)
		}
		if c.key != "" {
			if v, _ := m.get(c.key); v != c.value {
				t.Errorf("%s: %s=%q, want %q", c.name, c.key, v, c.value)
			}
		}
	}
}

func TestNumbers(t *testing.T) {
	for _, c := range []struct {
		s  string
		ok bool
		v  uint64
	}{
		{"0", true, 0}, {"18446744073709551615", true, ^uint64(0)}, {"18446744073709551616", false, 0},
		{"", false, 0}, {"+1", false, 0}, {"-1", false, 0}, {"1x", false, 0}, {"1.5", false, 0},
	} {
		v, err := parseU64(c.s)
		if (err == nil) != c.ok || (c.ok && v != c.v) {
			t.Errorf("parseU64(%q) = %d, %v", c.s, v, err)
		}
	}
	if v, err := parseLimit("max"); err != nil || v != limitNone {
		t.Errorf("parseLimit(max) = %d, %v", v, err)
	}
	if s := formatFraction(0.0125); s != "0.012500" {
		t.Errorf("formatFraction = %s", s)
	}
	if s := formatFraction(-1); s != "0.000000" {
		t.Errorf("formatFraction(-1) = %s", s)
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	for _, s := range []string{"go1.22.3", "devel go1.23-abc Tue Jan 1 00:00:00 2024 +0000", "a=b%c d", "é€😀"} {
		m, err := parseLine([]byte("x k=" + encodeValue(s)))
		if err != nil {
			t.Errorf("%q: %v", s, err)
			continue
		}
		if v, _ := m.get("k"); v != s {
			t.Errorf("round trip %q -> %q", s, v)
		}
	}
}

func TestLongLine(t *testing.T) {
	long := make([]byte, lineMax)
	for i := range long {
		long[i] = 'a'
	}
	if _, err := parseLine(long); err == nil {
		t.Errorf("a line of %d bytes without its newline is too long", lineMax)
	}
}
