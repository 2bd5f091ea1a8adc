//! How a workload's traffic was generated, for the reports: the shape of a varying rate with
//! the requests it offered per series step (to set beside the throughput series), and a closed
//! loop's users — how many were waiting on an answer rather than thinking, on average.
//!
//! Shown only for a varying rate or closed-loop users, so the reports of a model with constant
//! rates keep their bytes. Must not: compute anything the runs did not measure, beyond the
//! rate's own integral.

use serde::Serialize;

use crate::model::{Topology, Traffic};
use crate::sim::{RunResult, UserStats};

/// A workload's traffic in the JSON report (`.workloads.NAME.traffic`).
#[derive(Clone, Debug, Serialize)]
pub struct TrafficReport {
    /// `step`, `ramp`, `sine`, or `closed` for users.
    pub shape: &'static str,
    /// In words: `step 500/s -> 1500/s at 5m`, `200 users, think time mean 1s`.
    pub description: String,
    /// The highest rate offered (for users: users / mean think time, the most they can send).
    pub peak_per_s: f64,
    /// For a varying rate: the requests it offers in each step of the series, from time zero,
    /// the same steps as `series.completed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offered_per_step: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users: Option<UsersReport>,
}

/// Closed-loop users in both runs.
#[derive(Clone, Debug, Serialize)]
pub struct UsersReport {
    pub users: u32,
    pub think_time_mean_ns: f64,
    pub control: UserStats,
    pub experiment: UserStats,
}

impl TrafficReport {
    /// `None` for a constant open-loop rate: nothing to add.
    pub fn new(
        topology: &Topology,
        workload: usize,
        control: &RunResult,
        experiment: &RunResult,
    ) -> Option<TrafficReport> {
        let spec = &topology.workloads[workload];
        if spec.traffic.is_steady() {
            return None;
        }
        let (shape, offered_per_step, users) = match &spec.traffic {
            Traffic::Open(rate) => {
                let series = &control.workloads[workload].series;
                let step = series.step_ns();
                let steps = series.buckets().len() as u64;
                let offered = (0..steps)
                    .map(|i| rate.expected((i + 1) * step) - rate.expected(i * step))
                    .collect();
                (rate.shape(), Some(offered), None)
            }
            Traffic::Closed(closed) => {
                let users = UsersReport {
                    users: closed.users,
                    think_time_mean_ns: closed.think_time.mean_ns(),
                    control: control.users[workload]?,
                    experiment: experiment.users[workload]?,
                };
                ("closed", None, Some(users))
            }
        };
        Some(TrafficReport {
            shape,
            description: spec.traffic.describe(),
            peak_per_s: spec.rate_per_s,
            offered_per_step,
            users,
        })
    }
}
