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

/// README's scheme table is the catalogue's, so a scheme added to the code
/// cannot be missing from the page users read (and the reverse).
#[test]
fn readme_lists_every_scheme_as_the_catalogue_does() {
    let readme = include_str!("../../README.md");
    let table = hookrelay_signing::markdown_table();
    assert!(
        readme.contains(&table),
        "README's \"Signature schemes\" table differs from the catalogue; \
         replace it with the output of `cargo run -q -p hookrelay-cli -- schemes --markdown`:\n{table}"
    );
    let rows = table.lines().count() - 2;
    assert!(rows >= 35, "{rows} schemes");
}
