//! The cases AWS's own `TestEventPattern` was checked against, and some
//! of event-ruler's (docs/research/eventbridge-patterns.md), and the
//! patterns AWS refuses.
use super::*;
use serde_json::json;

/// (document, pattern, matches).
const CASES: &str = r#"[
{"e":{"resources":["arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:x","arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]},"p":{"resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f","arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f"]},"m":true},
{"e":{"resources":["arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:x"]},"p":{"resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]},"m":false},
{"e":{"detail":{"eventVersion":"","responseElements":null}},"p":{"detail":{"responseElements":[null]}},"m":true},
{"e":{"detail":{"eventVersion":"","responseElements":null}},"p":{"detail":{"eventVersion":[""]}},"m":true},
{"e":{"detail":{"responseElements":"null"}},"p":{"detail":{"responseElements":[null]}},"m":false},
{"e":{"detail":{"c-count":{"c1":100}}},"p":{"detail":{"state":[{"exists":true}]}},"m":false},
{"e":{"detail":{"state":"processing","c-count":3,"d-count":9,"x-limit":300}},"p":{"detail":{"state":[{"anything-but":"initializing"}],"c-count":[{"numeric":[">",0,"<=",5]}],"d-count":[{"numeric":["<",10]}],"x-limit":[{"anything-but":[100,200,300]}]}},"m":false},
{"e":{"detail":{"service":"EvEnTb"}},"p":{"detail":{"service":[{"prefix":{"equals-ignore-case":"EventB"}}]}},"m":true},
{"e":{"FileName":"image.png"},"p":{"FileName":[{"suffix":".PNG"}]},"m":false},
{"e":{"detail":{"FileName":"image.PNG"}},"p":{"detail":{"FileName":[{"suffix":{"equals-ignore-case":".png"}}]}},"m":true},
{"e":{"detail":{"state":null}},"p":{"detail":{"state":[{"anything-but":"initializing"}]}},"m":true},
{"e":{"detail":{}},"p":{"detail":{"state":[{"anything-but":"initializing"}]}},"m":false},
{"e":{"detail":{"state":12}},"p":{"detail":{"state":[{"anything-but":{"prefix":"init"}}]}},"m":true},
{"e":{"detail":{"state":"post-init"}},"p":{"detail":{"state":[{"anything-but":{"prefix":["init","post"]}}]}},"m":false},
{"e":{"detail":{"state":"INITIALIZING"}},"p":{"detail":{"state":[{"anything-but":{"equals-ignore-case":"initializing"}}]}},"m":false},
{"e":{"detail":{"FilePath":"dir/init/file"}},"p":{"detail":{"FilePath":[{"anything-but":{"wildcard":"*/init/*"}}]}},"m":false},
{"e":{"detail":{"FilePath":"dir/init/file"}},"p":{"detail":{"FilePath":[{"anything-but":{"wildcard":""}}]}},"m":true},
{"e":{"number":"300"},"p":{"number":[{"numeric":[">",100]}]},"m":false},
{"e":{"number":null},"p":{"number":[{"numeric":[">",100]}]},"m":false},
{"e":{"number":101.0},"p":{"number":[{"numeric":[">",100]}]},"m":true},
{"e":{"number":300.0},"p":{"number":[300]},"m":true},
{"e":{"detail":{"sourceIPAddress":"10.0.0.256"}},"p":{"detail":{"sourceIPAddress":[{"cidr":"10.0.0.0/24"}]}},"m":false},
{"e":{"detail":{"sourceIPAddress":"2001:0db8:1234:1a00:0000:0000:0000:0000"}},"p":{"detail":{"sourceIPAddress":[{"cidr":"2001:db8:1234:1a00::/64"}]}},"m":true},
{"e":{"detail":{"c-count":0,"d-count":0,"x-limit":901.8}},"p":{"detail":{"$or":[{"c-count":[{"numeric":[">",0,"<=",5]}]},{"d-count":[{"numeric":["<",10]}]},{"x-limit":[{"numeric":["=",301.8]}]}]}},"m":true},
{"e":{"detail":{"c-count":0,"d-count":10,"x-limit":901.8}},"p":{"detail":{"$or":[{"c-count":[{"numeric":[">",0,"<=",5]}]},{"d-count":[{"numeric":["<",10]}]},{"x-limit":[{"numeric":["=",301.8]}]}]}},"m":false},
{"e":{"FileName":"/Users/u/dir/dir/doc.txt"},"p":{"FileName":[{"wildcard":"/Users/*/doc.txt"}]},"m":true},
{"e":{"EventBusArn":"arn:aws:events:us-east-1:1:event-bus/b"},"p":{"EventBusArn":[{"wildcard":""}]},"m":false},
{"e":{"resources":[]},"p":{"resources":[{"exists":true}]},"m":false},
{"e":{"resources":[]},"p":{"resources":[null]},"m":false},
{"e":{"dynamodb":{"presentKey":{"S":"x"}}},"p":{"dynamodb":{"presentKey":[{"exists":true}]}},"m":false},
{"e":{"detail":{"automations":[{"k":"v"},{"id":"x"}]}},"p":{"detail":{"automations":{"id":[{"exists":true}]}}},"m":true},
{"e":{"detail":"{\"my-key\":\"my-value\"}"},"p":{"detail":{"my-key":["my-value"]}},"m":false},
{"e":{"dynamodb":{"NewImage":{"numericFilter":{"N":"101"}}}},"p":{"dynamodb":{"NewImage":{"numericFilter":{"N":[{"numeric":[">",100]},{"anything-but":"101"}]}}}},"m":false},
{"e":{"a":1},"p":{"b":[{"exists":false}]},"m":true},
{"e":{"b":2},"p":{"b":[{"exists":false}]},"m":false},
{"e":{"b":"deeeefx"},"p":{"b":[{"wildcard":"d*f"}]},"m":false},
{"e":{"c":"xy"},"p":{"c":[{"wildcard":"xy*"}]},"m":true}
]"#;

#[test]
fn every_documented_case_matches_as_aws_does() {
    let cases: Vec<Value> = serde_json::from_str(CASES).unwrap();
    assert!(cases.len() >= 35);
    for case in cases {
        let pattern =
            EventPattern::from_value(&case["p"]).unwrap_or_else(|e| panic!("{}: {e}", case["p"]));
        assert_eq!(
            pattern.matches(&case["e"]),
            case["m"].as_bool().unwrap(),
            "event {} pattern {}",
            case["e"],
            case["p"]
        );
    }
}

#[test]
fn within_an_array_of_objects_fields_match_in_one_element() {
    let employees = json!({"employees": [
        [{"firstName": "John", "ids": [1234, 1000]}, {"firstName": "Anna", "lastName": "Smith"}],
        [{"firstName": "Peter", "lastName": "Jones", "ids": []}]
    ]});
    for (pattern, matches) in [
        (
            json!({"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}),
            false,
        ),
        (
            json!({"employees": {"firstName": ["Anna"], "ids": [{"exists": false}]}}),
            true,
        ),
        (
            json!({"employees": {"firstName": ["John"], "ids": [1000]}}),
            true,
        ),
    ] {
        let parsed = EventPattern::from_value(&pattern).unwrap();
        assert_eq!(parsed.matches(&employees), matches, "{pattern}");
        assert_agree(&parsed, &employees);
    }
}

#[test]
fn patterns_aws_refuses_are_refused_with_their_path() {
    for (pattern, path) in [
        (r#"{"s":"v"}"#, "/s"),
        (r#"{"r":[]}"#, "/r"),
        (r#"{"a":[{"numeric":[">",0,">",0]}]}"#, "/a/0/numeric"),
        (r#"{"a":[{"numeric":[">",0,"<"]}]}"#, "/a/0/numeric"),
        (r#"{"a":[{"wildcard":"a**b"}]}"#, "/a/0/wildcard"),
        (r#"{"a":[{"prefix":["x"]}]}"#, "/a/0/prefix"),
        (r#"{"a":[{"anything-but":null}]}"#, "/a/0/anything-but"),
        (
            r#"{"a":[{"anything-but":{"suffix":""}}]}"#,
            "/a/0/anything-but/suffix",
        ),
        (r#"{"a":[{"cidr":"bad-filter"}]}"#, "/a/0/cidr"),
        (
            r#"{"a":[{"equals-ignore-case":["x"]}]}"#,
            "/a/0/equals-ignore-case",
        ),
        (r#"{"a":{"b":[{"NUMERIC":[">",1]}]}}"#, "/a/b/0/NUMERIC"),
        (r#"{"a":[{"prefix":"x","suffix":"y"}]}"#, "/a/0"),
        (r#"{"$or":[{"a":[1]}]}"#, "/$or"),
        (r#"["a"]"#, ""),
    ] {
        let refused = EventPattern::parse(pattern).expect_err(pattern);
        assert_eq!(refused.path, path, "{pattern}: {refused}");
    }
}

#[test]
fn limits_are_enforced() {
    let long = format!(r#"{{"a":["{}"]}}"#, "x".repeat(MAX_PATTERN_BYTES));
    assert!(EventPattern::parse(&long).is_err());
    // Read as a value (a TOML table, an admin request), not as text.
    let long_value: Value = serde_json::from_str(&long).unwrap();
    assert!(EventPattern::from_value(&long_value)
        .unwrap_err()
        .reason
        .contains("more than 4096"));
    let fits = json!({"a": ["x".repeat(MAX_PATTERN_BYTES - 20)]});
    assert!(EventPattern::from_value(&fits).is_ok());
    let mut deep = json!({"leaf": [1]});
    for _ in 0..MAX_PATTERN_DEPTH {
        deep = json!({"n": deep});
    }
    assert!(EventPattern::from_value(&deep)
        .unwrap_err()
        .reason
        .contains("deeper"));
    // Four $or of six alternatives: 1,296 combinations.
    let or = json!([{"a": [1]}, {"b": [1]}, {"c": [1]}, {"d": [1]}, {"e": [1]}, {"f": [1]}]);
    let pattern = json!({"w": {"$or": or}, "x": {"$or": or}, "y": {"$or": or}, "z": {"$or": or}});
    assert!(EventPattern::from_value(&pattern)
        .unwrap_err()
        .reason
        .contains("combinations"));
}

#[test]
fn wildcards_escape_stars_and_backslashes() {
    let pattern = EventPattern::parse(r#"{"k":[{"wildcard":"a\\*b*c\\\\"}]}"#).unwrap();
    assert!(pattern.matches(&json!({"k": "a*bXYc\\"})));
    assert!(!pattern.matches(&json!({"k": "aZbXYc\\"})));
    assert!(EventPattern::parse(r#"{"k":[{"wildcard":"a\\x"}]}"#).is_err());
}

// ---- first_mismatch agrees with matches --------------------------------

/// Every pattern and document of the cases above.
fn case_pairs() -> Vec<(EventPattern, Value)> {
    let cases: Vec<Value> = serde_json::from_str(CASES).unwrap();
    cases
        .iter()
        .map(|case| {
            (
                EventPattern::from_value(&case["p"]).unwrap(),
                case["e"].clone(),
            )
        })
        .collect()
}

/// `document` itself, and a copy for each way of changing one place in
/// it: a field removed, replaced (by each of a few kinds of value, or a
/// variant of its own), or put in an array beside another object.
fn variants(document: &Value) -> Vec<Value> {
    let replacements = [
        Value::Null,
        json!([]),
        json!({}),
        json!(0),
        json!("x"),
        json!([{"k": 1}, "v"]),
    ];
    let mut out = vec![document.clone()];
    match document {
        Value::Object(map) => {
            for (key, value) in map {
                let mut removed = map.clone();
                removed.remove(key);
                out.push(Value::Object(removed));
                for replacement in replacements.iter().cloned().chain(variants(value)) {
                    let mut changed = map.clone();
                    changed.insert(key.clone(), replacement);
                    out.push(Value::Object(changed));
                }
                // The same object, as one element of an array.
                let mut wrapped = map.clone();
                wrapped.insert(key.clone(), json!([value, {"other": true}]));
                out.push(Value::Object(wrapped));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                for replacement in variants(item) {
                    let mut changed = items.clone();
                    changed[i] = replacement;
                    out.push(Value::Array(changed));
                }
            }
        }
        _ => {}
    }
    out
}

fn assert_agree(pattern: &EventPattern, document: &Value) {
    let mismatch = pattern.first_mismatch(document);
    assert_eq!(
        mismatch.is_none(),
        pattern.matches(document),
        "{pattern:?} on {document}: first_mismatch {mismatch:?}"
    );
}

#[test]
fn first_mismatch_is_none_exactly_when_every_case_and_its_variants_match() {
    let mut checked = 0;
    let mut mismatches = 0;
    for (pattern, event) in case_pairs() {
        for document in variants(&event) {
            assert_agree(&pattern, &document);
            checked += 1;
            mismatches += usize::from(!pattern.matches(&document));
        }
    }
    // Both answers were exercised, many times.
    assert!(checked > 500, "{checked}");
    assert!(
        mismatches > 100 && checked - mismatches > 100,
        "{mismatches} of {checked}"
    );
}

/// The keys and scalars the cases use: generated documents built from
/// them come near the patterns often enough to match some of the time.
fn vocabulary() -> (Vec<String>, Vec<Value>) {
    fn walk(value: &Value, keys: &mut Vec<String>, scalars: &mut Vec<Value>) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    keys.push(key.clone());
                    walk(inner, keys, scalars);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, keys, scalars)),
            scalar => scalars.push(scalar.clone()),
        }
    }
    let cases: Vec<Value> = serde_json::from_str(CASES).unwrap();
    let (mut keys, mut scalars) = (Vec::new(), Vec::new());
    for case in &cases {
        walk(&case["p"], &mut keys, &mut scalars);
        walk(&case["e"], &mut keys, &mut scalars);
    }
    keys.sort();
    keys.dedup();
    scalars.dedup();
    (keys, scalars)
}

#[test]
fn first_mismatch_is_none_exactly_when_generated_documents_match() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    let (keys, scalars) = vocabulary();
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        proptest::sample::select(scalars),
    ];
    let document = leaf.prop_recursive(5, 48, 4, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            proptest::collection::btree_map(proptest::sample::select(keys.clone()), inner, 0..4)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    });
    let patterns: Vec<EventPattern> = case_pairs().into_iter().map(|(p, _)| p).collect();
    let mut runner = TestRunner::new(Config {
        cases: 2000,
        ..Config::default()
    });
    // (matched, not matched): both must be seen for the check to mean much.
    let seen = std::cell::Cell::new((0, 0));
    runner
        .run(&document, |document| {
            for pattern in &patterns {
                let (yes, no) = seen.get();
                seen.set(if pattern.matches(&document) {
                    (yes + 1, no)
                } else {
                    (yes, no + 1)
                });
                prop_assert_eq!(
                    pattern.first_mismatch(&document).is_none(),
                    pattern.matches(&document),
                    "{:?} on {}",
                    pattern,
                    document
                );
            }
            Ok(())
        })
        .unwrap();
    let (matched, not_matched) = seen.get();
    assert!(
        matched > 1000 && not_matched > 1000,
        "{matched} matched, {not_matched} not"
    );
}
