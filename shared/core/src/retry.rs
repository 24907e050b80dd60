//! What happens after an attempt: a pure function of the schedule, the
//! attempt's outcome and a jitter sample, so every rule has a table test.
use hookrelay_models::{AttemptErrorKind, AttemptOutcome, RetrySchedule};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// ± this fraction of each scheduled delay, so retries from an outage
    /// do not arrive in lockstep (0.2 = ±20 %).
    pub jitter: f64,
    /// Longest `Retry-After` honoured; longer requests are capped.
    pub max_retry_after: Duration,
    /// How many `Retry-After` waits a series may take without spending an
    /// attempt; after that they count like any failure.
    pub max_deferrals: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            jitter: 0.2,
            max_retry_after: Duration::from_secs(24 * 3600),
            max_deferrals: 5,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum NextStep {
    Succeeded,
    /// Try again after `after`; `attempt_spent` is false for a honoured
    /// `Retry-After`.
    Retry {
        after: Duration,
        attempt_spent: bool,
    },
    /// No more attempts in this series.
    Failed,
    /// 410 Gone: fail, and disable the destination.
    Gone,
}

/// The delay before attempt `attempt` (1-based) with a jitter sample in
/// [-1, 1] applied, or `None` past the end of the schedule.
pub fn next_retry_delay(
    schedule: &RetrySchedule,
    attempt: u32,
    jitter_sample: f64,
    policy: &RetryPolicy,
) -> Option<Duration> {
    let base = schedule.delay_before(attempt)?;
    let factor = 1.0 + policy.jitter * jitter_sample.clamp(-1.0, 1.0);
    Some(base.mul_f64(factor.max(0.0)))
}

/// Decides what follows attempt number `attempts_made` (1-based, this
/// series) that ended with `outcome`.
pub fn next_step(
    schedule: &RetrySchedule,
    attempts_made: u32,
    deferrals: u32,
    outcome: AttemptOutcome,
    retry_after: Option<Duration>,
    jitter_sample: f64,
    policy: &RetryPolicy,
) -> NextStep {
    match outcome {
        outcome if outcome.is_success() => return NextStep::Succeeded,
        AttemptOutcome::Response { status: 410 } => return NextStep::Gone,
        AttemptOutcome::Error {
            error: AttemptErrorKind::RefusedAddress | AttemptErrorKind::Undeliverable,
        } => return NextStep::Failed,
        AttemptOutcome::Response { status: 429 | 503 } => {
            if let Some(wait) = retry_after {
                if deferrals < policy.max_deferrals {
                    return NextStep::Retry {
                        after: wait.min(policy.max_retry_after),
                        attempt_spent: false,
                    };
                }
            }
        }
        _ => {}
    }
    match next_retry_delay(schedule, attempts_made + 1, jitter_sample, policy) {
        Some(after) => NextStep::Retry {
            after,
            attempt_spent: true,
        },
        None => NextStep::Failed,
    }
}

/// A jitter sample in [-1, 1] from the OS random source.
pub fn random_jitter_sample() -> f64 {
    let mut bytes = [0u8; 4];
    if getrandom::fill(&mut bytes).is_err() {
        return 0.0;
    }
    f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX) * 2.0 - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn response(status: u16) -> AttemptOutcome {
        AttemptOutcome::Response { status }
    }

    #[test]
    fn delays_follow_the_schedule_with_bounded_jitter() {
        let schedule = RetrySchedule::standard();
        let policy = RetryPolicy::default();
        assert_eq!(next_retry_delay(&schedule, 2, 0.0, &policy), Some(secs(5)));
        assert_eq!(next_retry_delay(&schedule, 2, 1.0, &policy), Some(secs(6)));
        assert_eq!(next_retry_delay(&schedule, 2, -1.0, &policy), Some(secs(4)));
        assert_eq!(next_retry_delay(&schedule, 2, 7.0, &policy), Some(secs(6)));
        assert_eq!(
            next_retry_delay(&schedule, 3, 0.0, &policy),
            Some(secs(300))
        );
        assert_eq!(next_retry_delay(&schedule, 9, 0.0, &policy), None);
    }

    #[test]
    fn next_step_table() {
        let schedule = RetrySchedule::new(vec![secs(0), secs(10), secs(20)]).unwrap();
        let policy = RetryPolicy::default();
        let table: Vec<(u32, u32, AttemptOutcome, Option<Duration>, NextStep)> = vec![
            (1, 0, response(200), None, NextStep::Succeeded),
            (1, 0, response(204), None, NextStep::Succeeded),
            (
                1,
                0,
                response(500),
                None,
                NextStep::Retry {
                    after: secs(10),
                    attempt_spent: true,
                },
            ),
            (
                2,
                0,
                response(500),
                None,
                NextStep::Retry {
                    after: secs(20),
                    attempt_spent: true,
                },
            ),
            (3, 0, response(500), None, NextStep::Failed),
            (
                1,
                0,
                response(301),
                None,
                NextStep::Retry {
                    after: secs(10),
                    attempt_spent: true,
                },
            ),
            (1, 0, response(410), None, NextStep::Gone),
            (
                1,
                0,
                AttemptOutcome::Error {
                    error: AttemptErrorKind::RefusedAddress,
                },
                None,
                NextStep::Failed,
            ),
            (
                1,
                0,
                AttemptOutcome::Error {
                    error: AttemptErrorKind::Undeliverable,
                },
                None,
                NextStep::Failed,
            ),
            (
                1,
                0,
                AttemptOutcome::Error {
                    error: AttemptErrorKind::Timeout,
                },
                None,
                NextStep::Retry {
                    after: secs(10),
                    attempt_spent: true,
                },
            ),
            (
                3,
                0,
                response(429),
                Some(secs(60)),
                NextStep::Retry {
                    after: secs(60),
                    attempt_spent: false,
                },
            ),
            (
                1,
                0,
                response(503),
                Some(secs(7 * 86400)),
                NextStep::Retry {
                    after: secs(86400),
                    attempt_spent: false,
                },
            ),
            (3, 5, response(429), Some(secs(60)), NextStep::Failed),
            (
                1,
                5,
                response(429),
                Some(secs(60)),
                NextStep::Retry {
                    after: secs(10),
                    attempt_spent: true,
                },
            ),
            (
                1,
                0,
                response(429),
                None,
                NextStep::Retry {
                    after: secs(10),
                    attempt_spent: true,
                },
            ),
            (
                1,
                0,
                response(500),
                Some(secs(60)),
                NextStep::Retry {
                    after: secs(10),
                    attempt_spent: true,
                },
            ),
        ];
        for (made, deferrals, outcome, retry_after, expected) in table {
            assert_eq!(
                next_step(
                    &schedule,
                    made,
                    deferrals,
                    outcome,
                    retry_after,
                    0.0,
                    &policy
                ),
                expected,
                "attempt {made}, deferrals {deferrals}, {outcome}, {retry_after:?}"
            );
        }
    }

    #[test]
    fn random_samples_stay_in_range() {
        for _ in 0..1000 {
            let sample = random_jitter_sample();
            assert!((-1.0..=1.0).contains(&sample), "{sample}");
        }
    }
}
