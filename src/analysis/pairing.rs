//! Which request of the experiment is which request of the control, for a closed-loop
//! workload.
//!
//! An open loop's base arrivals are the same in both runs, so records pair by index. Closed-loop
//! users send when their previous request ends, so a fault changes how many requests each user
//! sends and when: records pair by their key, (user, k-th request of that user) — the same
//! user's same think times in both runs. A request the control's user sent and the
//! experiment's did not (it was still waiting, or thinking after a slow answer) is *not sent*:
//! the closed loop's harm that no latency shows, counted apart from the hurt. Requests the
//! experiment's users sent beyond the control's pair with nothing.
//!
//! Must not: change how open-loop workloads pair (their key vectors are empty).

use crate::sim::{RecordStatus, RequestRecord, RunResult};

/// A closed-loop workload's records laid out so index = identity in both runs, and the count of
/// counted control requests the experiment never sent.
pub(super) struct Aligned {
    pub control: Vec<RequestRecord>,
    pub experiment: Vec<RequestRecord>,
    pub not_sent: u64,
}

/// `None` for an open-loop workload (pair by index, as always).
pub(super) fn align(control: &RunResult, experiment: &RunResult, w: usize) -> Option<Aligned> {
    let (c_keys, e_keys) = (&control.request_keys[w], &experiment.request_keys[w]);
    if c_keys.is_empty() && e_keys.is_empty() {
        return None;
    }
    let by_user = |keys: &[(u32, u32)]| {
        let users = keys.iter().map(|&(u, _)| u as usize + 1).max().unwrap_or(0);
        let mut lists: Vec<Vec<usize>> = vec![Vec::new(); users];
        // Records are in sending order, so each user's list is in k order: list[k] is its k-th.
        for (index, &(user, k)) in keys.iter().enumerate() {
            let list = &mut lists[user as usize];
            assert_eq!(
                list.len(),
                k as usize,
                "a user's requests are recorded in order"
            );
            list.push(index);
        }
        lists
    };
    let (c_users, e_users) = (by_user(c_keys), by_user(e_keys));
    let (c_records, e_records) = (&control.requests[w], &experiment.requests[w]);
    let mut aligned = Aligned {
        control: Vec::new(),
        experiment: Vec::new(),
        not_sent: 0,
    };
    for (user, c_list) in c_users.iter().enumerate() {
        let e_list = e_users.get(user).map_or(&[][..], Vec::as_slice);
        for (k, &c) in c_list.iter().enumerate() {
            let c_record = c_records[c];
            match e_list.get(k) {
                Some(&e) => {
                    aligned.control.push(c_record);
                    aligned.experiment.push(e_records[e]);
                }
                // Only what the control sent before the experiment stopped (at a bound) counts.
                None if c_record.counted
                    && c_record.status != RecordStatus::NotSent
                    && c_record.arrived_ns < experiment.end_ns =>
                {
                    aligned.not_sent += 1;
                }
                None => {}
            }
        }
    }
    Some(aligned)
}
