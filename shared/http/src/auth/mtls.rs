//! mTLS: a destination's own client, presenting its certificate on every
//! connection to it and to no other destination. Built like the shared
//! client (the guarded resolver, no redirects, no proxy, the same
//! timeouts), kept while its certificate and key stay the same.
use hookrelay_models::{DestinationId, MtlsAuth};
use hookrelay_signing::Secret;
use std::collections::HashMap;

use super::{AuthFailure, Authenticator};

/// Each mTLS destination's client, with what it was built from.
#[derive(Default)]
pub(crate) struct ClientCache {
    clients: std::sync::Mutex<HashMap<DestinationId, (Secret, reqwest::Client)>>,
}

impl Authenticator {
    /// The client that presents `mtls`'s certificate, built once for each
    /// certificate, key and CA.
    pub(super) async fn mtls_client(
        &self,
        destination: &DestinationId,
        mtls: &MtlsAuth,
    ) -> Result<reqwest::Client, AuthFailure> {
        let certificate = self.credential(&mtls.certificate).await?;
        let key = self.credential(&mtls.private_key).await?;
        let built_from = Secret::new(format!(
            "{}\n{}\n{}",
            certificate.expose(),
            key.expose(),
            mtls.ca_certificate.as_deref().unwrap_or_default()
        ));
        {
            let clients = self
                .clients
                .clients
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if let Some((from, client)) = clients.get(destination) {
                if *from == built_from {
                    return Ok(client.clone());
                }
            }
        }
        let (_, allow_private) = self.outbound()?;
        let client = build(
            allow_private,
            &certificate,
            &key,
            mtls.ca_certificate.as_deref(),
        )?;
        self.clients
            .clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(destination.clone(), (built_from, client.clone()));
        Ok(client)
    }
}

/// The innermost reason of a client-building error: rustls's or the PEM
/// parser's words, which quote no key material.
fn reason(err: &reqwest::Error) -> String {
    let mut source: &dyn std::error::Error = err;
    while let Some(inner) = source.source() {
        source = inner;
    }
    source.to_string()
}

pub(crate) fn build(
    allow_private: bool,
    certificate: &Secret,
    key: &Secret,
    ca: Option<&str>,
) -> Result<reqwest::Client, AuthFailure> {
    let pem = format!("{}\n{}\n", certificate.expose(), key.expose());
    let identity = reqwest::Identity::from_pem(pem.as_bytes()).map_err(|e| {
        AuthFailure(format!(
            "auth mtls: certificate and private_key are not a usable PEM pair ({})",
            reason(&e)
        ))
    })?;
    let mut builder = crate::client::delivery_client(allow_private).identity(identity);
    if let Some(ca) = ca {
        let roots = reqwest::Certificate::from_pem_bundle(ca.as_bytes())
            .ok()
            .filter(|roots| !roots.is_empty())
            .ok_or_else(|| AuthFailure("auth mtls: ca_certificate is not PEM".into()))?;
        builder = builder.tls_certs_only(roots);
    }
    builder.build().map_err(|e| {
        AuthFailure(format!(
            "auth mtls: no client could be built with this certificate and key ({})",
            reason(&e)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pem_pair_that_does_not_parse_is_a_reason_not_a_panic() {
        let certificate =
            Secret::new("-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----");
        let key =
            Secret::new("-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleQ==\n-----END PRIVATE KEY-----");
        let failure = build(false, &certificate, &key, None).unwrap_err();
        assert!(failure.0.starts_with("auth mtls: "), "{}", failure.0);
        assert!(!failure.0.contains("c2VjcmV0"), "{}", failure.0);
        let only_key = build(false, &Secret::new(""), &key, None).unwrap_err();
        assert!(only_key.0.contains("auth mtls"), "{}", only_key.0);
    }
}
