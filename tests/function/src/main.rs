//! The function the Lambda destination tests invoke (through `cargo
//! lambda watch`, which runs it under its Runtime API emulator).
//!
//! Each invocation belongs to a *case*: the `case` field of the JSON
//! body inside the event (an API Gateway HTTP API request, as hookrelay
//! sends; for a body sent by pointer, its `hookrelay.event_id`), or of the
//! event itself. In `HOOKRELAY_TEST_FUNCTION_DIR`, the
//! function
//! - appends the whole event, as one line of JSON, to `{case}.jsonl`;
//! - fails (a function error of type `HookrelayTestFailure`) while a file
//!   `{case}.fail` exists: every time if it is empty, else as many more
//!   times as the number it holds says (counting it down);
//! - else answers `{"statusCode": N, "body": "..."}`, N read from
//!   `{case}.status` if that file exists, 200 if not.
//!
//! An event `{"warmup": true}` records nothing and answers at once: the
//! test harness sends one to wait until the function is built and running.
#![forbid(unsafe_code)]

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;

fn case_of(event: &Value) -> String {
    let from_body = event
        .get("body")
        .and_then(Value::as_str)
        .and_then(|body| serde_json::from_str::<Value>(body).ok())
        .and_then(|body| {
            // A body sent by pointer is known by its event's id.
            body.get("case")
                .or_else(|| body.pointer("/hookrelay/event_id"))
                .and_then(Value::as_str)
                .map(str::to_string)
        });
    let case = from_body
        .or_else(|| {
            event
                .get("case")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| "unnamed".into());
    case.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

fn failure(message: String) -> Diagnostic {
    Diagnostic {
        error_type: "HookrelayTestFailure".into(),
        error_message: message,
    }
}

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    let event = event.payload;
    if event.get("warmup").is_some() {
        return Ok(json!({"warm": true}));
    }
    let dir = PathBuf::from(
        std::env::var_os("HOOKRELAY_TEST_FUNCTION_DIR")
            .ok_or_else(|| failure("HOOKRELAY_TEST_FUNCTION_DIR is not set".into()))?,
    );
    let case = case_of(&event);
    let mut record = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(format!("{case}.jsonl")))
        .map_err(|e| failure(format!("record the event: {e}")))?;
    writeln!(record, "{event}").map_err(|e| failure(format!("record the event: {e}")))?;
    let cue = dir.join(format!("{case}.fail"));
    if let Ok(text) = std::fs::read_to_string(&cue) {
        // A count: fail that many more times. Empty: fail every time.
        match text.trim().parse::<u32>() {
            Ok(0) => {}
            Ok(left) => {
                std::fs::write(&cue, (left - 1).to_string())
                    .map_err(|e| failure(format!("count down: {e}")))?;
                return Err(failure(format!("case {case} is told to fail")));
            }
            Err(_) => return Err(failure(format!("case {case} is told to fail"))),
        }
    }
    let status: u16 = std::fs::read_to_string(dir.join(format!("{case}.status")))
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(200);
    Ok(json!({"statusCode": status, "body": format!("case {case}: {status}")}))
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(handle)).await
}
