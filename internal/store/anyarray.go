package store

import (
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/ids"
)

// anyArrays rewrites, for PostgreSQL, every `IN ($i, $i+1, …, $j)` of the
// query whose arguments are all UUIDs into `= ANY($i)` bound to one array
// argument, renumbering the placeholders after it.
//
// ent writes an id list (eager loads, dataloader batches, idIn filters) as
// one placeholder per id, so every list length was a query text of its own:
// prepared and planned separately, and with 100–200 ids planned as a hash
// join over a full scan. With one array parameter every length is the same
// statement, prepared once per connection and planned like a short list.
// `x = ANY('{…}')` is `x IN (…)`, NULLs included. Lists with other
// arguments, `NOT IN`, and placeholders used twice are left as they are.
func anyArrays(query string, args []any) (string, []any) {
	if !strings.Contains(query, " IN ($") {
		return query, args
	}
	toks := placeholders(query)
	uses := map[int]int{}
	for _, t := range toks {
		if t.n < 1 || t.n > len(args) {
			return query, args // not ours to renumber
		}
		uses[t.n]++
	}
	// Find the lists to collapse: runs of consecutive placeholders that
	// are exactly the contents of an IN (…).
	type run struct{ from, to, start, end int } // placeholders from..to; text [start, end)
	var runs []run
	for i := 0; i < len(toks); {
		t := toks[i]
		const in = " IN ("
		if t.pos < len(in) || query[t.pos-len(in):t.pos] != in || strings.HasSuffix(query[:t.pos-len(in)], " NOT") {
			i++
			continue
		}
		j, end := i, t.pos+t.len
		for j+1 < len(toks) && toks[j+1].n == toks[j].n+1 && query[end:toks[j+1].pos] == ", " {
			j++
			end = toks[j].pos + toks[j].len
		}
		if end >= len(query) || query[end] != ')' || !collapsible(toks[i].n, toks[j].n, args, uses) {
			i = j + 1
			continue
		}
		runs = append(runs, run{toks[i].n, toks[j].n, t.pos - len(" IN ("), end + 1})
		i = j + 1
	}
	if len(runs) == 0 {
		return query, args
	}
	// New numbering: a collapsed run takes its first placeholder's slot.
	renumber := make([]int, len(args)+1)
	outArgs := make([]any, 0, len(args))
	r := 0
	for n := 1; n <= len(args); n++ {
		if r < len(runs) && n == runs[r].from {
			outArgs = append(outArgs, uuidArray(args[n-1:runs[r].to]))
			renumber[n] = len(outArgs)
			n = runs[r].to
			r++
			continue
		}
		outArgs = append(outArgs, args[n-1])
		renumber[n] = len(outArgs)
	}
	var b strings.Builder
	b.Grow(len(query))
	last, r := 0, 0
	for _, t := range toks {
		if r < len(runs) && t.pos >= runs[r].start {
			if t.pos < runs[r].end {
				if t.n == runs[r].from {
					b.WriteString(query[last:runs[r].start])
					b.WriteString(" = ANY($")
					b.WriteString(strconv.Itoa(renumber[t.n]))
					b.WriteString(")")
					last = runs[r].end
				}
				if t.n == runs[r].to {
					r++
				}
				continue
			}
		}
		b.WriteString(query[last:t.pos])
		b.WriteString("$")
		b.WriteString(strconv.Itoa(renumber[t.n]))
		last = t.pos + t.len
	}
	b.WriteString(query[last:])
	return b.String(), outArgs
}

// collapsible reports whether placeholders from..to may become one array:
// all UUIDs, each used once.
func collapsible(from, to int, args []any, uses map[int]int) bool {
	if to > len(args) {
		return false
	}
	for n := from; n <= to; n++ {
		if _, ok := args[n-1].(uuid.UUID); !ok || uses[n] != 1 {
			return false
		}
	}
	return true
}

// uuidArray is the PostgreSQL array literal of UUID arguments.
func uuidArray(list []any) string {
	var b strings.Builder
	b.Grow(len(list)*37 + 2)
	b.WriteByte('{')
	for i, id := range list {
		if i > 0 {
			b.WriteByte(',')
		}
		var s [36]byte
		b.Write(ids.AppendText(s[:0], id.(uuid.UUID)))
	}
	b.WriteByte('}')
	return b.String()
}

// placeholder is one `$n` of a query, outside quoted strings and
// identifiers.
type placeholder struct{ pos, len, n int }

func placeholders(query string) []placeholder {
	var out []placeholder
	for i := 0; i < len(query); i++ {
		switch c := query[i]; c {
		case '\'', '"':
			if j := strings.IndexByte(query[i+1:], c); j >= 0 {
				i += j + 1 // a doubled quote is two adjacent strings: same effect
			} else {
				i = len(query)
			}
		case '$':
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			if j > i+1 {
				n, _ := strconv.Atoi(query[i+1 : j])
				out = append(out, placeholder{i, j - i, n})
				i = j - 1
			}
		}
	}
	return out
}
