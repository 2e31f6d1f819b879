package automation

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/customfieldvalue"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/ent/predicate"
	"github.com/conecrm/gateway/internal/fault"
)

// condition evaluates a condition node against the run's lead and says
// what it compared.
func (w *walker) condition(typ string, data map[string]any) (bool, string, error) {
	if typ == "businessHours" {
		ok := inBusinessHours(time.Now(), data)
		return ok, "now " + map[bool]string{true: "within", false: "outside"}[ok] + " business hours", nil
	}
	if w.lead == nil {
		return false, "the event has no lead", nil
	}
	l := w.lead
	in := func(key string, v *uuid.UUID) (bool, string, error) {
		if v == nil {
			return false, key + " not set on the lead", nil
		}
		list, _ := data[key].([]any)
		for _, x := range list {
			if s, _ := x.(string); strings.EqualFold(s, v.String()) {
				return true, v.String() + " in " + key, nil
			}
		}
		return false, v.String() + " not in " + key, nil
	}
	switch typ {
	case "leadSource":
		return in("sourceIds", l.SourceID)
	case "leadStatus":
		return in("statusIds", l.StatusID)
	case "leadStage":
		return in("stageIds", l.StageID)
	case "franchise":
		return in("franchiseIds", l.FranchiseID)
	case "department":
		return in("departmentIds", l.DepartmentID)
	case "customFieldValue":
		field := idPtr(data, "fieldId")
		if field == nil {
			return false, "no field", nil
		}
		vals, err := w.tx.CustomFieldValue.Query().
			Where(customfieldvalue.RecordID(l.ID), customfieldvalue.FieldIDEQ(*field)).All(w.ctx)
		if err != nil {
			return false, "", err
		}
		got := ""
		if len(vals) > 0 {
			got = vals[0].Value
		}
		want := str(data, "value")
		var ok bool
		switch str(data, "operator") {
		case "equals":
			ok = strings.EqualFold(got, want)
		case "notEquals":
			ok = !strings.EqualFold(got, want)
		case "contains":
			ok = strings.Contains(strings.ToLower(got), strings.ToLower(want))
		case "isEmpty":
			ok = got == ""
		case "isNotEmpty":
			ok = got != ""
		}
		return ok, fmt.Sprintf("value %q %s %q", got, str(data, "operator"), want), nil
	case "filter":
		raw, err := json.Marshal(data["query"])
		if err != nil {
			return false, "", err
		}
		p, err := w.svc.FilterPredicate(w.ctx, "lead", raw)
		if err != nil {
			return false, "", err
		}
		ok, err := w.tx.Lead.Query().Where(lead.ID(l.ID), predicate.Lead(p)).Exist(w.ctx)
		if err != nil {
			return false, "", err
		}
		return ok, "lead " + map[bool]string{true: "matches", false: "does not match"}[ok] + " the filter", nil
	}
	return false, "", fault.Errorf(fault.Invalid, "unsupported condition %q", typ)
}

// businessHours is a weekly window: days (0 = Sunday; Monday to Friday by
// default) from start to end (09:00–17:00 by default) in a time zone (UTC
// by default).
type businessHours struct {
	loc        *time.Location
	days       []int
	start, end int // minutes since midnight
}

func parseBusinessHours(data map[string]any) businessHours {
	b := businessHours{loc: time.UTC, days: []int{1, 2, 3, 4, 5}, start: 9 * 60, end: 17 * 60}
	if tz := str(data, "timezone"); tz != "" {
		if loc, err := time.LoadLocation(tz); err == nil {
			b.loc = loc
		}
	}
	if list, ok := data["days"].([]any); ok && len(list) > 0 {
		b.days = nil
		for _, d := range list {
			if f, ok := d.(float64); ok {
				b.days = append(b.days, int(f))
			}
		}
	}
	hm := func(s string, def int) int {
		var h, m int
		if _, err := fmt.Sscanf(s, "%d:%d", &h, &m); err != nil {
			return def
		}
		return h*60 + m
	}
	b.start, b.end = hm(str(data, "start"), b.start), hm(str(data, "end"), b.end)
	return b
}

func (b businessHours) contains(t time.Time) bool {
	t = t.In(b.loc)
	m := t.Hour()*60 + t.Minute()
	return slices.Contains(b.days, int(t.Weekday())) && m >= b.start && m < b.end
}

// next returns t if it is within business hours, else the next opening.
func (b businessHours) next(t time.Time) time.Time {
	if b.contains(t) || b.end <= b.start || len(b.days) == 0 {
		return t
	}
	local := t.In(b.loc)
	for i := 0; i < 8; i++ {
		day := time.Date(local.Year(), local.Month(), local.Day()+i, 0, 0, 0, 0, b.loc)
		open := day.Add(time.Duration(b.start) * time.Minute)
		if slices.Contains(b.days, int(day.Weekday())) && open.After(t) {
			return open.UTC()
		}
	}
	return t
}

func inBusinessHours(t time.Time, data map[string]any) bool {
	return parseBusinessHours(data).contains(t)
}

// delayUntil is when a delay node ends: amount units from now, moved to
// the next business-hours opening when the node asks for business hours.
func delayUntil(now time.Time, data map[string]any) time.Time {
	amount, _ := data["amount"].(float64)
	unit := map[string]time.Duration{"seconds": time.Second, "minutes": time.Minute, "hours": time.Hour, "days": 24 * time.Hour}[str(data, "unit")]
	if unit == 0 {
		unit = time.Hour
	}
	until := now.Add(time.Duration(amount) * unit)
	if bh, ok := data["businessHours"].(map[string]any); ok {
		until = parseBusinessHours(bh).next(until)
	}
	return until
}
