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
