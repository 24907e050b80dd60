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

/// The crates' source files (their tests aside), crate by crate.
fn crate_sources() -> Vec<(std::path::PathBuf, Vec<std::path::PathBuf>)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = hookrelay_tests::repo_root();
    let mut crates = vec![root.join("cli/src")];
    for group in ["shared", "functions"] {
        for entry in std::fs::read_dir(root.join(group)).unwrap() {
            let src = entry.unwrap().path().join("src");
            if src.is_dir() {
                crates.push(src);
            }
        }
    }
    crates
        .into_iter()
        .map(|src| {
            let mut files = Vec::new();
            walk(&src, &mut files);
            (src, files)
        })
        .collect()
}

/// A file's code before its unit tests, without line comments.
fn code_of(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .take_while(|line| !line.starts_with("#[cfg(test)]"))
        .map(|line| match line.find("//") {
            Some(at) => line[..at].to_string(),
            None => line.to_string(),
        })
        .collect()
}

/// Issue 13's shape: no source file over 600 lines outside its tests, and
/// no two modules of a crate that import each other, directly or round a
/// circle (a module's children count as the module).
#[test]
fn source_files_stay_small_and_modules_import_without_circles() {
    use std::collections::{BTreeMap, BTreeSet};
    for (src, files) in crate_sources() {
        let mut imports: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for file in &files {
            let code = code_of(file);
            assert!(
                code.len() <= 600,
                "{} has {} lines before its tests",
                file.display(),
                code.len()
            );
            let relative = file.strip_prefix(&src).unwrap();
            let top = relative
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string();
            if top == "lib" || top == "main" {
                continue;
            }
            let depth = relative.components().count();
            let text = code.join("\n");
            let mut named = |marker: &str| {
                for piece in text.split(marker).skip(1) {
                    let name: String = piece
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() && name != top {
                        imports.entry(top.clone()).or_default().insert(name);
                    }
                }
            };
            named("crate::");
            // In a top-level module's own file, `super::` is the crate.
            if depth == 1 {
                named("super::");
            }
        }
        // Depth-first search for a path that comes back to where it began.
        fn circle(
            imports: &BTreeMap<String, BTreeSet<String>>,
            path: &mut Vec<String>,
        ) -> Option<Vec<String>> {
            let last = path.last().unwrap().clone();
            for next in imports.get(&last).into_iter().flatten() {
                if *next == path[0] {
                    return Some(path.clone());
                }
                if !path.contains(next) {
                    path.push(next.clone());
                    if let Some(found) = circle(imports, path) {
                        return Some(found);
                    }
                    path.pop();
                }
            }
            None
        }
        for start in imports.keys() {
            if let Some(found) = circle(&imports, &mut vec![start.clone()]) {
                panic!(
                    "modules of {} import each other: {}",
                    src.display(),
                    found.join(" -> ")
                );
            }
        }
    }
}
