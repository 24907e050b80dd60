//! The catalogue: every scheme hookrelay verifies, in one table.
//!
//! A scheme is data where it is data: the header its signature travels in,
//! the prefix and encoding, the signed string as a template, the timestamp
//! rule, and where the event type and the delivery id are found. Code is
//! kept for what differs in kind (Standard Webhooks' id/timestamp headers
//! and `whsec_` keys, Twilio's sorted form parameters, Linear's timestamp
//! inside the body, the generic `hmac` scheme's user template). README's
//! scheme table is generated from this table (`hookrelay schemes
//! --markdown`) and a test keeps the two equal.
use crate::scheme::{Encoding, HmacAlgorithm, Scheme, SchemeKind};

/// Where a value is looked for in a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    Header(&'static str),
    /// A JSON pointer into the body (`/data/type`).
    Json(&'static str),
}

/// How the event type or delivery id of a scheme is read: the first pick
/// that is present, then, when `then` is given and present too, a dot and
/// that JSON pointer's value (GitHub's `pull_request.opened`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub first: &'static [Pick],
    pub then: Option<&'static str>,
}

impl Field {
    pub const NONE: Field = Field {
        first: &[],
        then: None,
    };
}

const fn any(first: &'static [Pick]) -> Field {
    Field { first, then: None }
}

const fn then(first: &'static [Pick], pointer: &'static str) -> Field {
    Field {
        first,
        then: Some(pointer),
    }
}

/// How a signed timestamp is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimestampForm {
    UnixSeconds,
    UnixMillis,
    /// RFC 3339 / ISO 8601 (`2021-03-25T05:09:27Z`).
    Rfc3339,
}

/// One piece of a preset's signed string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Lit(&'static str),
    Body,
    /// The timestamp header, exactly as sent.
    Timestamp,
    /// The id header, exactly as sent.
    Id,
    /// The public URL the provider posted to (the source's `public_url`).
    Url,
}

/// An HMAC over a template of the request, written into one header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HmacPreset {
    pub header: &'static str,
    /// Before each signature, e.g. `sha256=`.
    pub prefix: &'static str,
    pub encoding: Encoding,
    pub algorithm: HmacAlgorithm,
    pub parts: &'static [Part],
    pub timestamp: Option<(&'static str, TimestampForm)>,
    pub id_header: Option<&'static str>,
    /// Several signatures in the header, separated by this (rotation).
    pub list: Option<char>,
}

/// How a scheme proves a request genuine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Hmac(HmacPreset),
    /// `t=<ts>,v1=<hex>` (Stripe and those who copied it): hex HMAC-SHA256
    /// over `{t}{joiner}{body}`.
    Timestamped {
        header: &'static str,
        separator: char,
        timestamp_key: &'static str,
        signature_key: &'static str,
        joiner: &'static str,
    },
    /// The header carries the secret itself (after `prefix`), compared in
    /// constant time.
    Token {
        header: &'static str,
        prefix: &'static str,
    },
    /// HTTP Basic credentials (`user:password`) as the secret, compared in
    /// constant time.
    Basic,
    /// Mailgun: a `signature` object inside the JSON body, hex HMAC-SHA256
    /// over its `timestamp` and `token`.
    Mailgun,
    /// Microsoft Graph change notifications: every `value[].clientState`
    /// in the JSON body equals the secret set on the subscription.
    ClientState,
    /// Discord: Ed25519 over `{timestamp}{body}`, hex, with the
    /// application's hex public key.
    Discord,
    /// SendGrid: ECDSA P-256 / SHA-256 over `{timestamp}{body}`, a base64
    /// DER signature, with the base64 DER public key from the console.
    Sendgrid,
    /// AWS SNS: RSA (SHA-1 or SHA-256) over a string built from the JSON
    /// envelope, by the certificate the envelope names; the source's
    /// "secrets" are the topic ARNs it accepts.
    Sns,
    /// Standard Webhooks: `webhook-*` or `svix-*` headers; `v1,` HMAC with
    /// `whsec_` secrets, `v1a,` Ed25519 with `whpk_` public keys.
    Standard,
    Twilio,
    Linear,
    /// The generic scheme; its options come from the configuration.
    Configured,
}

/// Everything hookrelay knows about one scheme.
#[derive(Debug, Clone, Copy)]
pub struct SchemeSpec {
    pub kind: SchemeKind,
    /// Who sends it, as people call them.
    pub provider: &'static str,
    /// The provider's page that documents the format.
    pub docs: &'static str,
    /// README columns: where the signature is, what is signed, how.
    pub header: &'static str,
    pub signed: &'static str,
    pub encoding: &'static str,
    pub tolerance_secs: u64,
    pub event_type: Field,
    pub delivery_id: Field,
    pub(crate) method: Method,
}

mod table;
mod table_more;

/// Every scheme, in the order README lists them.
pub static CATALOG: &[SchemeSpec] =
    &concat::<{ table::FIRST.len() + table_more::MORE.len() }>(table::FIRST, table_more::MORE);

/// `a` then `b`, as one array (at compile time).
const fn concat<const N: usize>(a: &[SchemeSpec], b: &[SchemeSpec]) -> [SchemeSpec; N] {
    assert!(a.len() + b.len() == N);
    let mut out = [a[0]; N];
    let mut i = 0;
    while i < a.len() {
        out[i] = a[i];
        i += 1;
    }
    let mut j = 0;
    while j < b.len() {
        out[a.len() + j] = b[j];
        j += 1;
    }
    out
}

impl SchemeSpec {
    /// Whether the header carries the secret itself rather than a
    /// signature (nothing is signed).
    pub fn is_token(&self) -> bool {
        matches!(
            self.method,
            Method::Token { .. } | Method::Basic | Method::ClientState
        )
    }

    /// Whether the signature covers the public URL the provider posted to.
    pub fn signs_url(&self) -> bool {
        match self.method {
            Method::Twilio => true,
            Method::Hmac(preset) => preset.parts.contains(&Part::Url),
            _ => false,
        }
    }

    /// Whether only the provider can sign: the source holds its public
    /// key (or, for SNS, the topics AWS's certificate signs for), and
    /// hookrelay cannot sign as it (`hookrelay send` cannot be used).
    pub fn only_provider_signs(&self) -> bool {
        matches!(
            self.method,
            Method::Discord | Method::Sendgrid | Method::Sns
        )
    }

    /// Whether secrets are Standard Webhooks keys (`whsec_<base64>`).
    pub fn takes_whsec(&self) -> bool {
        matches!(self.method, Method::Standard)
    }
}

/// Where each scheme's proof travels: one rule, read by ingest (which
/// headers are never stored) and by whatever shows an event (what is
/// masked).
impl Scheme {
    /// The request headers that carry this scheme's proof: the secret
    /// itself (a token, Basic credentials) or a signature made with it.
    /// Secrets are never stored (see [`Scheme::secret_headers`]); every
    /// one of these is masked wherever an event is shown.
    pub fn proof_headers(&self) -> Vec<&str> {
        let spec = match self {
            Scheme::Hmac(options) => return vec![options.header.as_str()],
            Scheme::Named(kind) => kind.spec(),
        };
        match spec.method {
            Method::Hmac(preset) => vec![preset.header],
            Method::Timestamped { header, .. } | Method::Token { header, .. } => vec![header],
            Method::Basic => vec!["Authorization"],
            Method::Discord => vec!["X-Signature-Ed25519"],
            Method::Sendgrid => vec!["X-Twilio-Email-Event-Webhook-Signature"],
            Method::Standard => vec!["webhook-signature", "svix-signature"],
            Method::Twilio => vec!["X-Twilio-Signature"],
            Method::Linear => vec!["Linear-Signature"],
            // In the body (Mailgun's `signature`, Graph's `clientState`,
            // SNS's `Signature`), or configured (`hmac`, above).
            Method::Mailgun | Method::ClientState | Method::Sns | Method::Configured => Vec::new(),
        }
    }

    /// The headers that carry the secret itself, not a signature: dropped
    /// before an event is stored, so a credential is not kept (nor shown,
    /// nor backed up) for the retention period.
    pub fn secret_headers(&self) -> Vec<&str> {
        match self {
            Scheme::Named(kind) => match kind.spec().method {
                Method::Token { header, .. } => vec![header],
                Method::Basic => vec!["Authorization"],
                _ => Vec::new(),
            },
            Scheme::Hmac(_) => Vec::new(),
        }
    }

    /// Where the secret itself sits inside a JSON body, as JSON pointers
    /// (`*` for every element of an array): masked wherever an event is
    /// shown. The body itself is kept and delivered exactly as received.
    pub fn secret_body_fields(&self) -> &'static [&'static str] {
        match self {
            Scheme::Named(kind) if kind.spec().method == Method::ClientState => {
                &["/value/*/clientState"]
            }
            _ => &[],
        }
    }
}

impl SchemeKind {
    /// The catalogue entry of this scheme.
    pub fn spec(self) -> &'static SchemeSpec {
        CATALOG
            .iter()
            .find(|spec| spec.kind == self)
            .expect("every scheme kind has a catalogue entry (tested)")
    }
}

/// README's scheme table, as `hookrelay schemes --markdown` prints it.
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| scheme | provider | headers | signed string | encoding |\n| --- | --- | --- | --- | --- |\n",
    );
    for spec in CATALOG {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            spec.kind.as_str(),
            spec.provider,
            spec.header,
            spec.signed,
            spec.encoding
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_exactly_one_entry() {
        for kind in SchemeKind::ALL {
            let entries = CATALOG.iter().filter(|spec| spec.kind == *kind).count();
            assert_eq!(entries, 1, "{kind}");
        }
        assert_eq!(CATALOG.len(), SchemeKind::ALL.len());
    }

    #[test]
    fn every_provider_scheme_cites_its_documentation() {
        for spec in CATALOG.iter().filter(|s| s.kind != SchemeKind::Hmac) {
            assert!(spec.docs.starts_with("https://"), "{}", spec.kind);
        }
    }

    #[test]
    fn presets_that_sign_a_timestamp_or_id_name_their_headers() {
        for spec in CATALOG {
            if let Method::Hmac(preset) = spec.method {
                assert!(
                    preset.parts.contains(&Part::Body),
                    "{} signs no body",
                    spec.kind
                );
                assert_eq!(
                    preset.parts.contains(&Part::Timestamp),
                    preset.timestamp.is_some(),
                    "{}",
                    spec.kind
                );
                assert_eq!(
                    preset.parts.contains(&Part::Id),
                    preset.id_header.is_some(),
                    "{}",
                    spec.kind
                );
            }
        }
    }
}
