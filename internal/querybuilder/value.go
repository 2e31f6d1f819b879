package querybuilder

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// values checks a rule's value for field f and positive operator op and
// returns it typed: string, int64 or float64, bool, or time.Time (a date is
// midnight UTC). notNull takes no value, in one or more, between two. On
// failure it returns the message for the client.
func values(f Field, op Operator, v any) ([]any, string) {
	switch op {
	case OpNotNull:
		return nil, ""
	case OpIn, OpBetween:
		list, ok := split(v)
		if !ok {
			return nil, "value must be an array or a comma-separated string"
		}
		if op == OpBetween && len(list) != 2 {
			return nil, fmt.Sprintf("%s takes two values, got %d", op, len(list))
		}
		if len(list) == 0 {
			return nil, fmt.Sprintf("%s takes at least one value", op)
		}
		if len(list) > MaxInValues {
			return nil, fmt.Sprintf("%s takes at most %d values", op, MaxInValues)
		}
		out := make([]any, len(list))
		for i, x := range list {
			s, msg := scalar(f, x)
			if msg != "" {
				return nil, fmt.Sprintf("value %d: %s", i+1, msg)
			}
			out[i] = s
		}
		return out, ""
	}
	s, msg := scalar(f, v)
	if msg != "" {
		return nil, msg
	}
	return []any{s}, ""
}

// split reads the values of in and between: an array, or a string of
// comma-separated values (react-querybuilder's text editor sends those).
func split(v any) ([]any, bool) {
	switch v := v.(type) {
	case []any:
		return v, true
	case string:
		if strings.TrimSpace(v) == "" {
			return nil, true
		}
		parts := strings.Split(v, ",")
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = strings.TrimSpace(p)
		}
		return out, true
	case json.Number, bool:
		return []any{v}, true
	}
	return nil, false
}

// decimal is the number syntax accepted in strings: no hex, no Inf or NaN.
var decimal = regexp.MustCompile(`^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$`)

func scalar(f Field, v any) (any, string) {
	switch f.Type {
	case TypeString:
		switch v := v.(type) {
		case string:
			if strings.ContainsRune(v, 0) {
				// PostgreSQL text cannot hold NUL; the value could match nothing.
				return nil, "value must not contain NUL characters"
			}
			return v, ""
		case json.Number:
			return v.String(), ""
		}
		return nil, "value must be a string"
	case TypeNumber:
		var text string
		switch v := v.(type) {
		case json.Number:
			text = v.String()
		case string:
			text = strings.TrimSpace(v)
		default:
			return nil, "value must be a number"
		}
		if !decimal.MatchString(text) {
			return nil, fmt.Sprintf("%q is not a number", clip(text))
		}
		if f.src.whole {
			n, err := strconv.ParseInt(text, 10, 64)
			if err != nil {
				return nil, fmt.Sprintf("%s takes whole numbers, not %q", f.Name, clip(text))
			}
			return n, ""
		}
		x, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsInf(x, 0) {
			return nil, fmt.Sprintf("%q is out of range", clip(text))
		}
		return x, ""
	case TypeBoolean:
		switch v := v.(type) {
		case bool:
			return v, ""
		case string:
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "true":
				return true, ""
			case "false":
				return false, ""
			}
		}
		return nil, "value must be true or false"
	case TypeDate:
		if s, ok := v.(string); ok {
			if d, err := time.Parse(time.DateOnly, strings.TrimSpace(s)); err == nil {
				return d, ""
			}
		}
		return nil, "value must be a date (YYYY-MM-DD)"
	case TypeDateTime:
		if s, ok := v.(string); ok {
			if t, ok := parseDateTime(strings.TrimSpace(s)); ok {
				return t, ""
			}
		}
		return nil, "value must be a date-time (RFC 3339, e.g. 2026-11-02T09:00:00Z)"
	case TypeEnum:
		if s, ok := v.(string); ok && slices.Contains(f.Values, s) {
			return s, ""
		}
		if s, ok := v.(string); ok {
			return nil, fmt.Sprintf("%q is not one of %s", clip(s), strings.Join(f.Values, ", "))
		}
		return nil, "value must be one of " + strings.Join(f.Values, ", ")
	}
	return nil, "unsupported field type"
}

// dateTimeLayouts are accepted in order; one without a zone is UTC, and a
// bare date is its midnight UTC.
var dateTimeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", time.DateOnly}

func parseDateTime(s string) (time.Time, bool) {
	for _, l := range dateTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// clip shortens a value quoted back in an error message.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	return string(r[:max]) + "…"
}
