//! Destination and token URLs: checked as http(s) without credentials,
//! and shown with any credentials masked.

/// `value` with any credentials before the host (`user:password@`) masked,
/// for errors and logs; works on text that is not a valid URL too.
pub fn redact_url(value: &str) -> String {
    let Some(scheme_end) = value.find("://").map(|i| i + 3) else {
        return value.to_string();
    };
    let rest = &value[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &value[..scheme_end], &rest[at..]),
        None => value.to_string(),
    }
}

/// Checks that `value` is an absolute http(s) URL with a host and no
/// credentials in it.
pub(crate) fn parse_http_url(value: &str) -> Result<url::Url, String> {
    let shown = redact_url(value);
    let url = url::Url::parse(value).map_err(|e| format!("url {shown:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "url {shown:?}: only http and https are delivered to"
        ));
    }
    if url.host().is_none() {
        return Err(format!("url {shown:?} has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "url {shown:?}: credentials belong in headers, not the URL"
        ));
    }
    Ok(url)
}
