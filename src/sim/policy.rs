//! Call policies: the backoff before a retry.

use crate::kernel::Stream;
use crate::model::{Call, Jitter};

/// The pause before retry number `retry` (1-based): exponential from `backoff_ns`, capped at
/// `max_backoff_ns`, with the call's jitter (as in AWS's "Exponential Backoff and Jitter").
pub fn backoff_ns(call: &Call, retry: u32, stream: &mut Stream) -> u64 {
    if call.backoff_ns == 0 {
        return 0;
    }
    let factor = 1u64
        .checked_shl(retry.saturating_sub(1))
        .unwrap_or(u64::MAX);
    let base = call
        .backoff_ns
        .saturating_mul(factor)
        .min(call.max_backoff_ns);
    match call.jitter {
        Jitter::None => base,
        Jitter::Full => stream.below(base.saturating_add(1).max(1)),
        Jitter::Equal => base / 2 + stream.below((base - base / 2).saturating_add(1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::Purpose;
    use crate::model::NodeId;

    fn call(jitter: Jitter) -> Call {
        Call {
            to: NodeId(0),
            timeout_ns: None,
            retries: 5,
            backoff_ns: 20,
            max_backoff_ns: 100,
            jitter,
            probability: 1.0,
            optional: false,
            resilience: Default::default(),
            deadline: Default::default(),
        }
    }

    #[test]
    fn exponential_and_capped() {
        let mut stream = Stream::new(1, 1, Purpose::BackoffJitter);
        let delays: Vec<u64> = (1..=5)
            .map(|k| backoff_ns(&call(Jitter::None), k, &mut stream))
            .collect();
        assert_eq!(delays, vec![20, 40, 80, 100, 100]);
    }

    #[test]
    fn jitter_stays_in_its_range() {
        let mut stream = Stream::new(1, 1, Purpose::BackoffJitter);
        for _ in 0..1000 {
            assert!(backoff_ns(&call(Jitter::Full), 2, &mut stream) <= 40);
            let equal = backoff_ns(&call(Jitter::Equal), 2, &mut stream);
            assert!((20..=40).contains(&equal), "{equal}");
        }
    }
}
