package main

import (
	"context"
	"iter"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/talkdeskgo/talkdesk"
)

// metrics are what serve counts, for /metrics.
type metrics struct {
	registry   *prometheus.Registry
	deliveries *prometheus.CounterVec
	appendSecs prometheus.Histogram
	stored     prometheus.Counter
	streams    prometheus.Gauge
	lag        prometheus.Histogram
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "talkdesk_webhook_deliveries_total",
			Help: "Deliveries of Talkdesk's triggers received, by trigger and outcome (ok: answered 200; refused: a 4xx; failed: a 5xx, to be delivered again).",
		}, []string{"trigger", "outcome"}),
		appendSecs: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "talkdesk_event_append_seconds",
			Help:    "Time to append an event to the log, until it is committed.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		stored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "talkdesk_events_stored_total",
			Help: "Events stored in the log (redeliveries not counted).",
		}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "talkdesk_event_streams_open",
			Help: "Streams of the log open over HTTP (GET /events/stream).",
		}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "talkdesk_follower_lag_seconds",
			Help:    "Time from an event's receipt to its delivery to a follower of the log, for the events received once the follower began.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
	}
	m.registry.MustRegister(m.deliveries, m.appendSecs, m.stored, m.streams, m.lag,
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
			// The heap live after the last collection: what the process
			// keeps, without the garbage that heap_inuse counts too.
			collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/heap/live:bytes$`)})),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// webhooks counts the deliveries h answers, by trigger and outcome.
func (m *metrics) webhooks(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		trigger := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		if _, err := talkdesk.ParseTrigger(trigger); err != nil {
			trigger = "unknown" // a hostile path is no label
		}
		outcome := "ok"
		switch {
		case sw.status >= 500:
			outcome = "failed"
		case sw.status >= 300:
			outcome = "refused"
		}
		m.deliveries.WithLabelValues(trigger, outcome).Inc()
	})
}

// logAPI counts the streams h serves.
func (m *metrics) logAPI(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(strings.TrimSuffix(r.URL.Path, "/"), "/events/stream") {
			m.streams.Inc()
			defer m.streams.Dec()
		}
		h.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// measuredStore is a store whose appends and followers are measured; it
// keeps the handled marks of the store it wraps.
type measuredStore struct {
	talkdesk.EventStore
	marks talkdesk.HandledMarker
	m     *metrics
}

func (s *measuredStore) Append(ctx context.Context, ev *talkdesk.Event) (bool, error) {
	start := time.Now()
	added, err := s.EventStore.Append(ctx, ev)
	if err == nil {
		s.m.appendSecs.Observe(time.Since(start).Seconds())
		if added {
			s.m.stored.Inc()
		}
	}
	return added, err
}

// Follow measures the lag of the events received once the follow began:
// those received before are its backlog, which a follower replays (a tail
// of last year's events is not a year late).
func (s *measuredStore) Follow(ctx context.Context, q talkdesk.EventQuery, afterID string) iter.Seq2[*talkdesk.Event, error] {
	return func(yield func(*talkdesk.Event, error) bool) {
		began := time.Now()
		for ev, err := range s.EventStore.Follow(ctx, q, afterID) {
			if ev != nil && !ev.ReceivedAt.Before(began) {
				s.m.lag.Observe(time.Since(ev.ReceivedAt).Seconds())
			}
			if !yield(ev, err) {
				return
			}
		}
	}
}

// Unwrap returns the store measured, which reads the same events: an
// export (talkdesk.Export) writes its stored lines as they are.
func (s *measuredStore) Unwrap() talkdesk.EventStore { return s.EventStore }

func (s *measuredStore) MarkHandled(ctx context.Context, id string) error {
	return s.marks.MarkHandled(ctx, id)
}

func (s *measuredStore) Handled(ctx context.Context, id string) (bool, error) {
	return s.marks.Handled(ctx, id)
}
