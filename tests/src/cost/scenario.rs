//! The cost scenarios: what each one configures (sources, destinations,
//! routes) and the webhooks it sends, as their providers send them.
use crate::sink::Sink;
use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// A Stripe event, one destination, delivered at the first try.
    OneDestination,
    /// The destination fails once, then takes the retry.
    OneRetry,
    /// One event routed to three destinations.
    ThreeDestinations,
    /// An `hmac` source with a signed timestamp and no delivery id: no
    /// dedupe record.
    NoDeliveryId,
    /// As one destination, with a rate limit (5/s, burst 5) that the
    /// batch waits on: what the shared schedule adds.
    RateLimited,
    /// One destination of kind `sqs`: a `SendMessage` to the user's queue
    /// instead of a POST.
    SqsDestination,
    /// One destination of kind `sns`: a `Publish` to the user's topic.
    SnsDestination,
    /// One destination of kind `eventbridge`: a `PutEvents` to the user's
    /// bus.
    EventbridgeDestination,
    /// One destination of kind `lambda`: a synchronous `Invoke` of the
    /// user's function (a real one, under `cargo lambda watch`).
    LambdaDestination,
    /// As one destination, delivered in order per customer
    /// (`ordering = { key = "json:/data/object/customer" }`), the webhooks
    /// spread over [`ORDERED_KEYS`] customers and all received before the
    /// dispatcher runs: each customer's later events wait for its earlier
    /// ones.
    Ordered,
}

/// How many customers (ordering keys) the ordered scenario's webhooks
/// share.
pub const ORDERED_KEYS: usize = 3;

impl Scenario {
    pub const ALL: [Scenario; 10] = [
        Scenario::OneDestination,
        Scenario::OneRetry,
        Scenario::ThreeDestinations,
        Scenario::NoDeliveryId,
        Scenario::RateLimited,
        Scenario::SqsDestination,
        Scenario::SnsDestination,
        Scenario::EventbridgeDestination,
        Scenario::LambdaDestination,
        Scenario::Ordered,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::OneDestination => "one-destination",
            Scenario::OneRetry => "one-retry",
            Scenario::ThreeDestinations => "three-destinations",
            Scenario::NoDeliveryId => "no-delivery-id",
            Scenario::RateLimited => "rate-limited",
            Scenario::SqsDestination => "sqs-destination",
            Scenario::SnsDestination => "sns-destination",
            Scenario::EventbridgeDestination => "eventbridge-destination",
            Scenario::LambdaDestination => "lambda-destination",
            Scenario::Ordered => "ordered",
        }
    }

    /// The destination's kind, for an AWS one.
    pub fn aws_kind(self) -> Option<&'static str> {
        match self {
            Scenario::SqsDestination => Some("sqs"),
            Scenario::SnsDestination => Some("sns"),
            Scenario::EventbridgeDestination => Some("eventbridge"),
            Scenario::LambdaDestination => Some("lambda"),
            _ => None,
        }
    }

    /// How many destinations each webhook goes to.
    pub fn destinations(self) -> usize {
        if self == Scenario::ThreeDestinations {
            3
        } else {
            1
        }
    }
}

pub(super) const STRIPE_SECRET: &str = "whsec_cost_bench_stripe";
pub(super) const HMAC_SECRET: &str = "cost-bench-hmac";
const DEST_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// `target`: an AWS destination's queue, topic or bus.
pub(super) fn config_text(sink: &Sink, scenario: Scenario, target: Option<&str>) -> String {
    let mut text = format!(
        "allow_private_destinations = true\n\
         [[sources]]\nid = \"stripe\"\nscheme = \"stripe\"\nsecrets = [\"{STRIPE_SECRET}\"]\n\
         [[sources]]\nid = \"partner\"\nscheme = \"hmac\"\nsecrets = [\"{HMAC_SECRET}\"]\n\
         hmac = {{ header = \"X-Signature\", prefix = \"sha256=\", encoding = \"hex\", algorithm = \"sha256\", template = \"{{timestamp}}.{{body}}\", timestamp_header = \"X-Timestamp\" }}\n"
    );
    for n in 0..scenario.destinations() {
        let source = if scenario == Scenario::NoDeliveryId {
            "partner"
        } else {
            "stripe"
        };
        let url = match (scenario.aws_kind(), target) {
            (Some(kind), Some(target)) => format!("{target}\"\nkind = \"{kind}"),
            _ => sink.url(&format!("/dest{n}")),
        };
        let _ = write!(
            text,
            "[[destinations]]\nid = \"dest{n}\"\nurl = \"{url}\"\nsecret = \"{DEST_SECRET}\"\nretry_schedule = [\"0s\", \"1s\", \"1m\"]\n{limit}\
             [[routes]]\nsource = \"{source}\"\ndestination = \"dest{n}\"\n",
            limit = match scenario {
                Scenario::RateLimited => "rate_limit = \"5/s\"\nburst = 5\n",
                Scenario::Ordered => "ordering = { key = \"json:/data/object/customer\" }\n",
                _ => "",
            }
        );
    }
    text
}

/// A Stripe `invoice.paid` event of about 2 KiB, as Stripe sends it.
pub fn stripe_body(i: usize, with_id: bool) -> Vec<u8> {
    let id = if with_id {
        format!("\"id\": \"evt_1Q{i:022}\",\n  ")
    } else {
        String::new()
    };
    let mut lines = String::new();
    for n in 0..4 {
        let _ = write!(
            lines,
            "{}{{\"id\": \"il_1Q{i:08}{n:04}\", \"object\": \"line_item\", \"amount\": {}, \"currency\": \"usd\", \"description\": \"1 x Team plan (at $49.00 / month)\", \"period\": {{\"end\": 1767225600, \"start\": 1764547200}}, \"price\": {{\"id\": \"price_1PteamMonthly{n}\", \"unit_amount\": 4900, \"recurring\": {{\"interval\": \"month\"}}}}, \"quantity\": 1}}",
            if n == 0 { "" } else { ", " },
            4900 + n * 100
        );
    }
    format!(
        "{{\n  {id}\"object\": \"event\",\n  \"api_version\": \"2024-06-20\",\n  \"created\": 1764547200,\n  \"type\": \"invoice.paid\",\n  \"livemode\": false,\n  \"pending_webhooks\": 1,\n  \"request\": {{\"id\": null, \"idempotency_key\": null}},\n  \"data\": {{\"object\": {{\"id\": \"in_1Q{i:022}\", \"object\": \"invoice\", \"account_country\": \"US\", \"account_name\": \"Acme Corp\", \"amount_due\": 19600, \"amount_paid\": 19600, \"amount_remaining\": 0, \"billing_reason\": \"subscription_cycle\", \"collection_method\": \"charge_automatically\", \"currency\": \"usd\", \"customer\": \"cus_Q{i:012}\", \"customer_email\": \"billing{i}@example.com\", \"hosted_invoice_url\": \"https://invoice.stripe.com/i/acct_1Ab/test_{i:016}\", \"lines\": {{\"object\": \"list\", \"data\": [{lines}], \"has_more\": false, \"total_count\": 4}}, \"paid\": true, \"status\": \"paid\", \"subscription\": \"sub_1Q{i:012}\", \"total\": 19600}}}}\n}}\n"
    )
    .into_bytes()
}
