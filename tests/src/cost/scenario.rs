//! The cost scenarios: what each one configures (sources, destinations,
//! routes) and the webhooks it sends, as their providers send them.
use crate::sink::Sink;
use serde_json::json;
use sha2::{Digest, Sha256};
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
    /// A GitHub `push` of about 2 KiB (one commit), with GitHub's headers,
    /// to one destination.
    GithubPush,
    /// A GitHub `push` of about 64 KiB (20 commits to a deploy branch,
    /// each replacing content-hashed assets, which deflate poorly), to one
    /// destination: past the inline limit, its body goes to S3 (a
    /// `PutObject` at the receiver) and comes back from there (a
    /// `GetObject` per delivery).
    LargeBody,
}

/// How many customers (ordering keys) the ordered scenario's webhooks
/// share.
pub const ORDERED_KEYS: usize = 3;

impl Scenario {
    pub const ALL: [Scenario; 12] = [
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
        Scenario::GithubPush,
        Scenario::LargeBody,
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
            Scenario::GithubPush => "github-push",
            Scenario::LargeBody => "large-body",
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

    /// The source its webhooks come from.
    pub fn source(self) -> &'static str {
        match self {
            Scenario::NoDeliveryId => "partner",
            Scenario::GithubPush | Scenario::LargeBody => "github",
            _ => "stripe",
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
pub(super) const GITHUB_SECRET: &str = "cost-bench-github";
const DEST_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// `target`: an AWS destination's queue, topic or bus.
pub(super) fn config_text(sink: &Sink, scenario: Scenario, target: Option<&str>) -> String {
    let mut text = format!(
        "allow_private_destinations = true\n\
         [[sources]]\nid = \"stripe\"\nscheme = \"stripe\"\nsecrets = [\"{STRIPE_SECRET}\"]\n\
         [[sources]]\nid = \"partner\"\nscheme = \"hmac\"\nsecrets = [\"{HMAC_SECRET}\"]\n\
         hmac = {{ header = \"X-Signature\", prefix = \"sha256=\", encoding = \"hex\", algorithm = \"sha256\", template = \"{{timestamp}}.{{body}}\", timestamp_header = \"X-Timestamp\" }}\n\
         [[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [\"{GITHUB_SECRET}\"]\n"
    );
    let source = scenario.source();
    for n in 0..scenario.destinations() {
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

/// A 40-hex id that looks random (a commit's, a tree's), the same for the
/// same `what`.
fn git_id(what: &str) -> String {
    hex::encode(&Sha256::digest(what.as_bytes())[..20])
}

/// A GitHub `push` event as GitHub sends it (compact JSON): `commits`
/// commits, each adding `assets` content-hashed files and removing as
/// many. One commit and no assets is about 2 KiB; 20 commits of 35
/// assets, about 64 KiB, deflating to about a quarter.
pub fn github_push_body(i: usize, commits: usize, assets: usize) -> Vec<u8> {
    let repo = "acme/payments-api";
    let person = |name: &str, email: &str, login: &str| json!({ "name": name, "email": email, "username": login });
    let asset_names = [
        "index",
        "vendor",
        "chunk-app",
        "chunk-charts",
        "runtime",
        "styles",
    ];
    let asset = |side: &str, n: usize, f: usize| {
        format!(
            "assets/{}-{}.js",
            asset_names[f % asset_names.len()],
            &git_id(&format!("{side}/{i}/{n}/{f}"))[..16]
        )
    };
    let commit_list: Vec<serde_json::Value> = (0..commits)
        .map(|n| {
            let id = git_id(&format!("commit/{i}/{n}"));
            json!({
                "id": id,
                "tree_id": git_id(&format!("tree/{i}/{n}")),
                "distinct": true,
                "message": if assets == 0 {
                    "Retry card payments declined with insufficient_funds after 3 days\n\nCloses #4821".to_string()
                } else {
                    format!("Deploy {} to gh-pages", &id[..7])
                },
                "timestamp": "2026-12-06T10:13:20+01:00",
                "url": format!("https://github.com/{repo}/commit/{id}"),
                "author": person("Dana Reyes", "dana.reyes@acme.dev", "dreyes"),
                "committer": person("GitHub", "noreply@github.com", "web-flow"),
                "added": (0..assets).map(|f| asset("added", n, f)).collect::<Vec<_>>(),
                "removed": (0..assets).map(|f| asset("removed", n, f)).collect::<Vec<_>>(),
                "modified": ["src/billing/retry.rs", "src/billing/mod.rs", "CHANGELOG.md"],
            })
        })
        .collect();
    let (before, after) = (
        git_id(&format!("before/{i}")),
        commit_list.last().map_or(String::new(), |c| {
            c["id"].as_str().unwrap_or("").to_string()
        }),
    );
    json!({
        "ref": if assets == 0 { "refs/heads/main" } else { "refs/heads/gh-pages" },
        "before": before,
        "after": after,
        "repository": {
            "id": 512_834_119,
            "node_id": "R_kgDOHo3vRw",
            "name": "payments-api",
            "full_name": repo,
            "private": true,
            "owner": { "login": "acme", "id": 90_211_562, "type": "Organization" },
            "html_url": format!("https://github.com/{repo}"),
            "url": format!("https://api.github.com/repos/{repo}"),
            "description": "Invoices, payments and dunning",
            "language": "Rust",
            "visibility": "private",
            "default_branch": "main",
            "pushed_at": 1_796_548_400 + i,
        },
        "pusher": { "name": "dreyes", "email": "dana.reyes@acme.dev" },
        "organization": {
            "login": "acme",
            "id": 90_211_562,
            "url": "https://api.github.com/orgs/acme",
            "description": "Acme Corp engineering",
        },
        "sender": { "login": "dreyes", "id": 4_417_203, "type": "User", "site_admin": false },
        "created": false,
        "deleted": false,
        "forced": false,
        "base_ref": null,
        "compare": format!("https://github.com/{repo}/compare/{}...{}", &before[..12], &after[..12.min(after.len())]),
        "head_commit": commit_list.last().map(|c| json!({
            "id": c["id"], "tree_id": c["tree_id"], "message": c["message"],
            "timestamp": c["timestamp"], "url": c["url"], "author": c["author"],
        })),
        "commits": commit_list,
    })
    .to_string()
    .into_bytes()
}

/// The headers GitHub sends with `body`: its event, delivery id (a
/// random-looking UUID) and hook, both signatures, its user agent.
pub(super) fn github_headers(i: usize, body: &[u8]) -> Vec<(String, String)> {
    let hex = git_id(&format!("delivery/{i}"));
    let delivery = format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    );
    let sign = |algorithm| {
        let key = aws_lc_rs::hmac::Key::new(algorithm, GITHUB_SECRET.as_bytes());
        hex::encode(aws_lc_rs::hmac::sign(&key, body).as_ref())
    };
    vec![
        ("X-GitHub-Event".into(), "push".into()),
        ("X-GitHub-Delivery".into(), delivery),
        ("X-GitHub-Hook-ID".into(), "512345678".into()),
        (
            "X-GitHub-Hook-Installation-Target-ID".into(),
            "512834119".into(),
        ),
        (
            "X-GitHub-Hook-Installation-Target-Type".into(),
            "repository".into(),
        ),
        (
            "X-Hub-Signature".into(),
            format!(
                "sha1={}",
                sign(aws_lc_rs::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY)
            ),
        ),
        (
            "X-Hub-Signature-256".into(),
            format!("sha256={}", sign(aws_lc_rs::hmac::HMAC_SHA256)),
        ),
        ("User-Agent".into(), "GitHub-Hookshot/7c1f2a0".into()),
        ("Accept".into(), "*/*".into()),
        ("content-type".into(), "application/json".into()),
    ]
}
