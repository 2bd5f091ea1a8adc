//! What a queue (message broker) measured: message counts, lag and the age of the oldest
//! unacknowledged message (per step and as maxima per window), and the end-to-end delay from
//! publish to acknowledgement.
//!
//! Must not: know the model or the simulator. The caller hands it the broker's state *before*
//! each change (`observe`), which is the state held since the previous observation: lag is
//! piecewise constant and age grows linearly between changes, so the maxima over an interval
//! are the values observed just before each change and at the interval's end.

use serde::Serialize;

use super::{Counted, Latency};

/// Message counts. Each is attributed to the window the message was published in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct QueueCounts {
    /// Messages stored after a successful publish.
    pub published: u64,
    /// Deliveries to the consumer (first deliveries and redeliveries).
    pub delivered: u64,
    /// Messages the consumer processed successfully.
    pub acknowledged: u64,
    /// Deliveries after a failed or timed-out one.
    pub redelivered: u64,
    /// Messages moved to the dead-letter queue after `max_deliveries` failed deliveries.
    pub dead_lettered: u64,
}

/// What one window (or the whole measured run) saw.
#[derive(Clone, Debug, Default)]
pub struct QueueWindow {
    pub counts: QueueCounts,
    /// The most messages stored and not yet acknowledged at once.
    pub max_lag: u64,
    /// The oldest unacknowledged message's greatest age.
    pub max_age_ns: u64,
    /// Publish to acknowledgement, of the messages acknowledged.
    pub delay: Latency,
}

/// One step of the series: maxima over the step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct QueueStep {
    pub lag: u64,
    pub age_ns: u64,
}

/// One queue's metrics in one run.
#[derive(Clone, Debug)]
pub struct QueueMetrics {
    /// Everything counted after the warm-up.
    pub total: QueueWindow,
    /// Per window (before, during, after); empty when the run has no windows.
    pub windows: Vec<QueueWindow>,
    /// One step per `step_ns` from time zero, the whole run (warm-up included).
    pub series: Vec<QueueStep>,
    /// Messages still stored (not acknowledged, not dead-lettered) when the run ended.
    pub stored_at_end: u64,
    step_ns: u64,
    current: QueueStep,
}

/// Which counter an event of a message adds to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueEvent {
    Published,
    Delivered,
    Redelivered,
    DeadLettered,
}

impl QueueMetrics {
    pub fn new(step_ns: u64, windows: usize) -> QueueMetrics {
        assert!(step_ns > 0, "queue series step must be positive");
        QueueMetrics {
            total: QueueWindow::default(),
            windows: vec![QueueWindow::default(); windows],
            series: Vec::new(),
            stored_at_end: 0,
            step_ns,
            current: QueueStep::default(),
        }
    }

    fn each(&mut self, counted: Counted, mut apply: impl FnMut(&mut QueueWindow)) {
        if let Counted::InWindow(window) = counted {
            apply(&mut self.total);
            if let Some(stats) = self.windows.get_mut(window as usize) {
                apply(stats);
            }
        }
    }

    /// Counts an event of a message published in `published`'s window.
    pub fn count(&mut self, published: Counted, event: QueueEvent) {
        self.each(published, |w| match event {
            QueueEvent::Published => w.counts.published += 1,
            QueueEvent::Delivered => w.counts.delivered += 1,
            QueueEvent::Redelivered => w.counts.redelivered += 1,
            QueueEvent::DeadLettered => w.counts.dead_lettered += 1,
        });
    }

    /// Counts an acknowledgement and its end-to-end delay.
    pub fn acknowledged(&mut self, published: Counted, delay_ns: u64) {
        self.each(published, |w| {
            w.counts.acknowledged += 1;
            w.delay.record(delay_ns);
        });
    }

    /// The state held until `now_ns`: `lag` messages, the oldest published at `oldest_ns`.
    /// `now` says which window the observation falls in. Invariant: `now_ns` never decreases.
    pub fn observe(&mut self, now_ns: u64, now: Counted, lag: u64, oldest_ns: Option<u64>) {
        let age_at = |t: u64| oldest_ns.map_or(0, |o| t.saturating_sub(o));
        let index = now_ns / self.step_ns;
        while (self.series.len() as u64) < index {
            let end = (self.series.len() as u64 + 1) * self.step_ns;
            self.current.lag = self.current.lag.max(lag);
            self.current.age_ns = self.current.age_ns.max(age_at(end));
            self.series.push(self.current);
            self.current = QueueStep::default();
        }
        let age = age_at(now_ns);
        self.current.lag = self.current.lag.max(lag);
        self.current.age_ns = self.current.age_ns.max(age);
        self.each(now, |w| {
            w.max_lag = w.max_lag.max(lag);
            w.max_age_ns = w.max_age_ns.max(age);
        });
    }

    /// Ends the series at the end of a run: one step per `step_ns` from zero, the last partial.
    pub fn close(&mut self, end_ns: u64, now: Counted, lag: u64, oldest_ns: Option<u64>) {
        self.observe(end_ns, now, lag, oldest_ns);
        self.stored_at_end = lag;
        for window in std::iter::once(&mut self.total).chain(&mut self.windows) {
            window.delay.flush();
        }
        let total = end_ns.div_ceil(self.step_ns) as usize;
        while self.series.len() < total {
            self.series.push(self.current);
            self.current = QueueStep::default();
        }
    }

    pub fn step_ns(&self) -> u64 {
        self.step_ns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_hold_the_maxima_of_the_state_held() {
        let mut m = QueueMetrics::new(10, 0);
        let w = Counted::InWindow(0);
        // Empty until 5, then 3 messages (oldest at 5) held until 25, then empty.
        m.observe(5, w, 0, None);
        m.observe(25, w, 3, Some(5));
        m.close(40, w, 0, None);
        let steps: Vec<(u64, u64)> = m.series.iter().map(|s| (s.lag, s.age_ns)).collect();
        // Step 0 ends at 10: age 5; step 1 ends at 20: age 15; step 2 sees 20 at 25.
        assert_eq!(steps, [(3, 5), (3, 15), (3, 20), (0, 0)]);
        assert_eq!(m.total.max_lag, 3);
        assert_eq!(m.total.max_age_ns, 20);
    }

    #[test]
    fn counts_go_to_the_publish_window_and_the_total() {
        let mut m = QueueMetrics::new(10, 3);
        m.count(Counted::InWindow(1), QueueEvent::Published);
        m.count(Counted::No, QueueEvent::Published);
        m.acknowledged(Counted::InWindow(1), 7);
        assert_eq!(m.total.counts.published, 1);
        assert_eq!(m.windows[1].counts.acknowledged, 1);
        assert_eq!(m.windows[1].delay.count(), 1);
        assert_eq!(m.windows[0].counts.published, 0);
    }
}
