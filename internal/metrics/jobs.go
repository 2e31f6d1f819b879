package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"
)

// WatchJobs exports the background jobs of a River client: every job it
// finishes counts in conecrm_jobs_total by kind and outcome (River's
// completion events, until the client stops), and each scrape reads the
// jobs available and running in queueNames from the database, so the depth
// is the queue's, shared by every instance on the database. Several clients
// may be watched (a queue each); a queue watched again is read through the
// latest client.
func WatchJobs[TTx any](c *river.Client[TTx], queueNames ...string) {
	events, _ := c.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled,
		river.EventKindJobSnoozed, river.EventKindJobInterrupted)
	go func() {
		// River closes the channel when the client stops.
		for ev := range events {
			if ev.Job != nil {
				Jobs.WithLabelValues(ev.Job.Kind, outcome(ev)).Inc()
			}
		}
	}()
	exec := c.Driver().GetExecutor()
	queues.mu.Lock()
	for _, q := range queueNames {
		queues.exec[q] = exec
	}
	queues.mu.Unlock()
}

func outcome(ev *river.Event) string {
	switch ev.Kind {
	case river.EventKindJobCompleted:
		return "completed"
	case river.EventKindJobFailed:
		if ev.Job.State == rivertype.JobStateDiscarded {
			return "discarded"
		}
		return "failed"
	case river.EventKindJobCancelled:
		return "cancelled"
	case river.EventKindJobSnoozed:
		return "snoozed"
	default:
		return "interrupted"
	}
}

// queueScrapeTimeout bounds the count query of a scrape: a frozen
// database must not hang the metrics endpoint (the depth is then absent).
const queueScrapeTimeout = time.Second

var (
	depthDesc = prometheus.NewDesc("conecrm_job_queue_depth",
		"Background jobs available to run now (not yet picked up), by queue; read from the database at each scrape.", []string{"queue"}, nil)
	runningDesc = prometheus.NewDesc("conecrm_jobs_running",
		"Background jobs being worked (by any instance), by queue; read from the database at each scrape.", []string{"queue"}, nil)
)

// queues is the collector of the queue depth (WatchJobs sets its source).
var queues = &queueCollector{exec: map[string]riverdriver.Executor{}}

type queueCollector struct {
	mu   sync.Mutex
	exec map[string]riverdriver.Executor // by queue
}

func (q *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- depthDesc
	ch <- runningDesc
}

func (q *queueCollector) Collect(ch chan<- prometheus.Metric) {
	byExec := map[riverdriver.Executor][]string{}
	q.mu.Lock()
	for name, exec := range q.exec {
		byExec[exec] = append(byExec[exec], name)
	}
	q.mu.Unlock()
	for exec, names := range byExec {
		ctx, cancel := context.WithTimeout(context.Background(), queueScrapeTimeout)
		rows, err := exec.JobCountByQueueAndState(ctx, &riverdriver.JobCountByQueueAndStateParams{QueueNames: names})
		cancel()
		if err != nil {
			continue
		}
		counts := map[string]*riverdriver.JobCountByQueueAndStateResult{}
		for _, r := range rows {
			counts[r.Queue] = r
		}
		for _, name := range names {
			var available, running float64
			if r := counts[name]; r != nil {
				available, running = float64(r.CountAvailable), float64(r.CountRunning)
			}
			ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, available, name)
			ch <- prometheus.MustNewConstMetric(runningDesc, prometheus.GaugeValue, running, name)
		}
	}
}
