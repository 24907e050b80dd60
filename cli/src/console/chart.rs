//! A destination's success rate and latency over the last hour or day, as
//! a small SVG drawn on the server from its recent attempts.
use hookrelay_models::{Attempt, Timestamp};
use maud::{html, Markup};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Hour,
    Day,
}

impl Window {
    /// (buckets, bucket length in ms, label)
    fn shape(self) -> (usize, i64, &'static str) {
        match self {
            Window::Hour => (12, 5 * 60_000, "last hour"),
            Window::Day => (24, 3_600_000, "last day"),
        }
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub attempts: u32,
    pub succeeded: u32,
    pub total_ms: u64,
}

/// Attempts per bucket, oldest bucket first.
pub fn buckets(attempts: &[Attempt], now: Timestamp, window: Window) -> Vec<Bucket> {
    let (count, length, _) = window.shape();
    let mut out = vec![Bucket::default(); count];
    let start = now.unix_millis() - length * count as i64;
    for attempt in attempts {
        let at = attempt.started_at.unix_millis();
        if at < start || at > now.unix_millis() {
            continue;
        }
        let index = (((at - start) / length) as usize).min(count - 1);
        let bucket = &mut out[index];
        bucket.attempts += 1;
        bucket.succeeded += u32::from(attempt.outcome.is_success());
        bucket.total_ms += attempt.duration_ms;
    }
    out
}

pub fn render(attempts: &[Attempt], now: Timestamp, window: Window) -> Markup {
    let (count, _, label) = window.shape();
    let buckets = buckets(attempts, now, window);
    let total: u32 = buckets.iter().map(|b| b.attempts).sum();
    let succeeded: u32 = buckets.iter().map(|b| b.succeeded).sum();
    let total_ms: u64 = buckets.iter().map(|b| b.total_ms).sum();
    let summary = match (succeeded * 100).checked_div(total) {
        None => format!("{label}: no attempts"),
        Some(percent) => format!(
            "{label}: {percent}% of {total} attempts succeeded, {} ms on average",
            total_ms / u64::from(total)
        ),
    };
    let max_ms = buckets
        .iter()
        .filter(|b| b.attempts > 0)
        .map(|b| b.total_ms / u64::from(b.attempts))
        .max()
        .unwrap_or(1)
        .max(1);
    let (width, height) = (count as u32 * 10, 40u32);
    html! {
        figure class="chart" {
            svg width=(width) height=(height + 2) viewBox={ "0 0 " (width) " " (height + 2) } role="img" aria-label=(summary) {
                title { (summary) }
                @for (i, bucket) in buckets.iter().enumerate() {
                    @if bucket.attempts > 0 {
                        @let ok = height * bucket.succeeded / bucket.attempts;
                        @let x = i as u32 * 10;
                        rect class="failed" x=(x) y="0" width="8" height=(height - ok) {}
                        rect class="ok" x=(x) y=(height - ok) width="8" height=(ok) {}
                        @let latency = (bucket.total_ms / u64::from(bucket.attempts)) * u64::from(height) / max_ms;
                        rect class="latency" x=(x) y=(u64::from(height) - latency) width="8" height="2" {}
                    }
                }
            }
            figcaption { (summary) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookrelay_models::{AttemptOutcome, DestinationId, EventId};

    fn attempt(at_ms: i64, status: u16, duration_ms: u64) -> Attempt {
        let at = Timestamp::from_unix_millis(at_ms);
        Attempt {
            event_id: EventId::new(at),
            destination: DestinationId::parse("d").unwrap(),
            number: 1,
            series: 0,
            started_at: at,
            duration_ms,
            outcome: AttemptOutcome::Response { status },
            response_body: String::new(),
            response_truncated: false,
        }
    }

    #[test]
    fn attempts_fall_into_their_bucket_and_old_ones_are_left_out() {
        let now = Timestamp::from_unix_millis(10_000_000_000);
        let at = |minutes_ago: i64| now.unix_millis() - minutes_ago * 60_000;
        let attempts = [
            attempt(at(1), 200, 100),
            attempt(at(2), 500, 300),
            attempt(at(58), 200, 50),
            attempt(at(61), 200, 10),
        ];
        let hour = buckets(&attempts, now, Window::Hour);
        assert_eq!(hour.len(), 12);
        assert_eq!(
            hour[11],
            Bucket {
                attempts: 2,
                succeeded: 1,
                total_ms: 400
            }
        );
        assert_eq!(hour[0].attempts, 1);
        assert_eq!(hour.iter().map(|b| b.attempts).sum::<u32>(), 3);
        let day = buckets(&attempts, now, Window::Day);
        assert_eq!(day.iter().map(|b| b.attempts).sum::<u32>(), 4);
        let drawn = render(&attempts, now, Window::Hour).into_string();
        assert!(
            drawn.contains("66% of 3 attempts succeeded, 150 ms on average"),
            "{drawn}"
        );
    }
}
