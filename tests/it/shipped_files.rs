//! Files we ship to users must stay valid as the code changes.
use hookrelay_models::{DestinationId, SourceId};

#[test]
fn the_shipped_hookrelay_toml_is_valid_and_routes_the_samples() {
    let config = hookrelay_tests::config_from(include_str!("../../hookrelay.toml"));
    let github = SourceId::parse("github").unwrap();
    let orders = DestinationId::parse("orders").unwrap();
    assert!(config.destination(&orders).is_some());
    assert_eq!(config.routes_for(&github, Some("push")).count(), 1);
    assert_eq!(config.routes_for(&github, Some("issues")).count(), 0);
}
