// SPDX-License-Identifier: MIT

package agent

// The wire format of docs/protocol.md: one printable-ASCII line of at most
// 4096 bytes per message, "type key=value ...", values percent-encoded.

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	protoVersion = 1
	lineMax      = 4096 // bytes per line, the newline included
	fieldsMax    = 32
	typeMax      = 32
	keyMax       = 64
)

// errMalformed wraps every reason a line is rejected for.
var errMalformed = errors.New("malformed line")

func malformed(why string) error { return fmt.Errorf("%w: %s", errMalformed, why) }

type message struct {
	typ    string
	keys   []string
	values map[string]string
}

func (m *message) get(key string) (string, bool) {
	v, ok := m.values[key]
	return v, ok
}

func isLower(c byte) bool    { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool    { return c >= '0' && c <= '9' }
func isNameChar(c byte) bool { return isLower(c) || isDigit(c) || c == '_' || c == '-' }

func isSafe(c byte) bool {
	return isNameChar(c) || (c >= 'A' && c <= 'Z') || c == '.' || c == '~' || c == ',' || c == ':' ||
		c == '/' || c == '+'
}

func unhex(c byte) int {
	switch {
	case isDigit(c):
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func checkType(t string) error {
	if t == "" {
		return malformed("missing message type")
	}
	if len(t) > typeMax {
		return malformed("message type too long")
	}
	if !isLower(t[0]) {
		return malformed("message type must start with a lowercase letter")
	}
	for i := 1; i < len(t); i++ {
		if !isNameChar(t[i]) && !(t[i] == '?' && i == len(t)-1) {
			return malformed("bad character in message type")
		}
	}
	return nil
}

func checkKey(k string) error {
	if k == "" {
		return malformed("empty key")
	}
	if len(k) > keyMax {
		return malformed("key too long")
	}
	if !isLower(k[0]) {
		return malformed("key must start with a lowercase letter")
	}
	for i := 1; i < len(k); i++ {
		if !isNameChar(k[i]) {
			return malformed("bad character in key")
		}
	}
	return nil
}

func decodeValue(raw string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if isSafe(c) {
			b.WriteByte(c)
			continue
		}
		if c != '%' {
			return "", malformed("character not allowed in a value (percent-encode it)")
		}
		if len(raw)-i < 3 || unhex(raw[i+1]) < 0 || unhex(raw[i+2]) < 0 {
			return "", malformed("bad percent-encoding")
		}
		v := byte(unhex(raw[i+1])<<4 | unhex(raw[i+2]))
		if v == 0 {
			return "", malformed("%00 in a value")
		}
		b.WriteByte(v)
		i += 2
	}
	s := b.String()
	if !utf8.ValidString(s) {
		return "", malformed("value is not UTF-8 text")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", malformed("value is not UTF-8 text")
		}
	}
	return s, nil
}

// parseLine parses one line without its newline.
func parseLine(line []byte) (*message, error) {
	if len(line) == 0 {
		return nil, malformed("empty line")
	}
	if len(line) >= lineMax {
		return nil, malformed("line too long")
	}
	for _, c := range line {
		switch {
		case c == 0:
			return nil, malformed("NUL byte")
		case c >= 0x80:
			return nil, malformed("byte outside ASCII (text must be percent-encoded)")
		case c < 0x20 || c == 0x7f:
			return nil, malformed("control byte")
		}
	}
	tokens := strings.Split(string(line), " ")
	if err := checkType(tokens[0]); err != nil {
		return nil, err
	}
	m := &message{typ: tokens[0], values: map[string]string{}}
	for i, tok := range tokens[1:] {
		if tok == "" {
			if i == len(tokens)-2 {
				return nil, malformed("trailing space")
			}
			return nil, malformed("two spaces in a row")
		}
		k, raw, ok := strings.Cut(tok, "=")
		if !ok {
			return nil, malformed("key without '='")
		}
		if err := checkKey(k); err != nil {
			return nil, err
		}
		if _, dup := m.values[k]; dup {
			return nil, malformed("duplicate key")
		}
		if len(m.keys) >= fieldsMax {
			return nil, malformed("too many key=value pairs")
		}
		v, err := decodeValue(raw)
		if err != nil {
			return nil, err
		}
		m.keys = append(m.keys, k)
		m.values[k] = v
	}
	return m, nil
}

// parseU64 accepts decimal digits only, as the protocol's u64.
func parseU64(s string) (uint64, error) {
	if s == "" {
		return 0, malformed("empty number")
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, malformed("not a number")
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, malformed("number out of range")
	}
	return v, nil
}

// limitNone is "max": no limit.
const limitNone = ^uint64(0)

func parseLimit(s string) (uint64, error) {
	if s == "max" {
		return limitNone, nil
	}
	return parseU64(s)
}

func (m *message) u64(key string) (uint64, error) {
	v, ok := m.get(key)
	if !ok {
		return 0, malformed(m.typ + " without " + key + "=")
	}
	return parseU64(v)
}

func (m *message) limit(key string) (uint64, error) {
	v, ok := m.get(key)
	if !ok {
		return 0, malformed(m.typ + " without " + key + "=")
	}
	return parseLimit(v)
}

func (m *message) level(key string) (Level, error) {
	v, ok := m.get(key)
	if !ok {
		return 0, malformed(m.typ + " without " + key + "=")
	}
	l, ok := parseLevel(v)
	if !ok {
		return 0, malformed("bad level")
	}
	return l, nil
}

// encodeValue percent-encodes every byte outside the safe set.
func encodeValue(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isSafe(c) {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

func formatLimit(v uint64) string {
	if v == limitNone {
		return "max"
	}
	return strconv.FormatUint(v, 10)
}

// formatFraction writes f with six decimals, never in exponent form.
func formatFraction(f float64) string {
	if !(f >= 0) {
		f = 0
	}
	if f > 1e6 {
		f = 1e6
	}
	return strconv.FormatFloat(f, 'f', 6, 64)
}
