//! A delivery to a Lambda function (issue 28): the request as the event an
//! API Gateway HTTP API (payload format 2.0) or a function URL would send,
//! so a `lambda_http` handler takes it as an HTTP request and checks the
//! Standard Webhooks signature from its headers and body exactly as an
//! HTTP receiver does; and what Lambda's answer means for the attempt.
//!
//! - A function error (AWS: `200` with `X-Amz-Function-Error`; `cargo
//!   lambda watch`: a `5xx` whose body is the error object) is a failed
//!   attempt recorded as `502`, what API Gateway answers for one, with the
//!   error's type and message.
//! - A synchronous invoke whose function answers an HTTP response
//!   (`{"statusCode": …}`) of 400 or more is a failed attempt recorded with
//!   that status and body (and its `Retry-After`, as for HTTP); below 400
//!   it succeeded.
//! - An asynchronous (`event`) invoke succeeds when Lambda accepts it
//!   (`202`): Lambda retries the function itself.
use aws_sdk_lambda::config::http::HttpResponse;
use aws_sdk_lambda::error::SdkError;
use aws_sdk_lambda::operation::invoke::{InvokeError, InvokeOutput};
use aws_sdk_lambda::operation::RequestId;
use base64::Engine;
use hookrelay_core::dispatch::MAX_STORED_RESPONSE;
use hookrelay_core::{OutboundRequest, SendResult};
use hookrelay_models::{AttemptOutcome, LambdaInvocation};
use serde_json::{json, Map, Value};
use std::time::{Duration, Instant};

/// The status an attempt records for a function error: API Gateway's
/// answer when its Lambda integration fails.
pub(crate) const FUNCTION_ERROR_STATUS: u16 = 502;

/// The event for `request`: `POST /` with the delivery's headers (names in
/// lower case, as API Gateway gives them) and its body, as text when it is
/// UTF-8 and as base64 (`isBase64Encoded`) when not.
pub(crate) fn event(request: &OutboundRequest) -> Value {
    let headers: Map<String, Value> = request
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), Value::String(value.clone())))
        .collect();
    let (body, encoded) = match std::str::from_utf8(&request.body) {
        Ok(text) => (text.to_string(), false),
        Err(_) => (
            base64::engine::general_purpose::STANDARD.encode(&request.body),
            true,
        ),
    };
    let time_epoch = request
        .header("webhook-timestamp")
        .and_then(|secs| secs.parse::<i64>().ok())
        .map_or(0, |secs| secs.saturating_mul(1000));
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "hookrelay",
            "domainName": "hookrelay",
            "domainPrefix": "hookrelay",
            "http": {
                "method": "POST",
                "path": "/",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": request.header("user-agent").unwrap_or("hookrelay"),
            },
            "requestId": request.header("webhook-id").unwrap_or_default(),
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": time_epoch,
        },
        "body": body,
        "isBase64Encoded": encoded,
    })
}

/// At most what an attempt keeps of a response, and whether it was cut.
fn stored(text: &str) -> (String, bool) {
    if text.len() <= MAX_STORED_RESPONSE {
        return (text.to_string(), false);
    }
    let mut end = MAX_STORED_RESPONSE;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (text[..end].to_string(), true)
}

fn result(status: u16, text: &str, retry_after: Option<Duration>, started: Instant) -> SendResult {
    let (response_body, response_truncated) = stored(text);
    SendResult {
        outcome: AttemptOutcome::Response { status },
        response_body,
        response_truncated,
        retry_after,
        duration: started.elapsed(),
    }
}

/// A function error as an attempt records it: `{kind}` is Lambda's
/// `Unhandled`/`Handled` when it says; the error object's `errorType` and
/// `errorMessage` when the payload is one.
fn function_error(
    kind: Option<&str>,
    payload: &[u8],
    request_id: &str,
    started: Instant,
) -> SendResult {
    let error: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
    let field = |name: &str| error.get(name).and_then(Value::as_str);
    let what = match (field("errorType"), field("errorMessage")) {
        (Some(error_type), message) => {
            format!("{error_type}: {}", message.unwrap_or("no message"))
        }
        _ => String::from_utf8_lossy(payload).into_owned(),
    };
    let kind = kind.map(|k| format!(" ({k})")).unwrap_or_default();
    result(
        FUNCTION_ERROR_STATUS,
        &format!("function error{kind}: {what} (request id {request_id})"),
        None,
        started,
    )
}

/// What a successful `Invoke` means for the attempt.
pub(crate) fn answered(
    output: &InvokeOutput,
    invocation: LambdaInvocation,
    started: Instant,
) -> SendResult {
    let request_id = output.request_id().unwrap_or("none");
    let payload = output.payload().map(|p| p.as_ref()).unwrap_or_default();
    if let Some(kind) = output.function_error() {
        return function_error(Some(kind), payload, request_id, started);
    }
    let status = u16::try_from(output.status_code()).unwrap_or(200);
    if invocation == LambdaInvocation::Event {
        return result(
            status,
            &format!("accepted (request id {request_id})"),
            None,
            started,
        );
    }
    if let Some(refused) = http_failure(payload, started) {
        return refused;
    }
    result(status, &String::from_utf8_lossy(payload), None, started)
}

/// A function's answer in the HTTP response shape with a `statusCode` of
/// 400 or more: a failed attempt with that status, its body, and its
/// `Retry-After` (in seconds) if it gives one.
fn http_failure(payload: &[u8], started: Instant) -> Option<SendResult> {
    let response: Value = serde_json::from_slice(payload).ok()?;
    let status = response.get("statusCode")?.as_u64()?;
    if !(400..=599).contains(&status) {
        return None;
    }
    let body = response.get("body").and_then(Value::as_str).unwrap_or("");
    let body = if response.get("isBase64Encoded") == Some(&Value::Bool(true)) {
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_else(|_| body.to_string())
    } else {
        body.to_string()
    };
    let retry_after = response
        .get("headers")
        .and_then(Value::as_object)
        .and_then(|headers| {
            headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("retry-after"))
        })
        .and_then(|(_, value)| value.as_str()?.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    Some(result(status as u16, &body, retry_after, started))
}

/// A function error that came back as an error answer rather than with
/// `X-Amz-Function-Error`: `cargo lambda watch` answers one with a `5xx`
/// whose body is the error object. Anything else is an AWS error, for the
/// caller to record as such.
pub(crate) fn function_error_in(
    err: &SdkError<InvokeError, HttpResponse>,
    started: Instant,
) -> Option<SendResult> {
    let SdkError::ServiceError(service) = err else {
        return None;
    };
    use aws_sdk_lambda::error::ProvideErrorMetadata;
    if service.err().code().is_some() || !service.raw().status().is_server_error() {
        return None;
    }
    let body = service.raw().body().bytes()?;
    let error: Value = serde_json::from_slice(body).ok()?;
    error.get("errorType")?.as_str()?;
    Some(function_error(
        None,
        body,
        err.request_id().unwrap_or("none"),
        started,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_lambda::primitives::Blob;

    const BODY: &str = r#"{"ref":"refs/heads/main"}"#;

    fn request(body: &[u8]) -> OutboundRequest {
        OutboundRequest {
            url: "orders".into(),
            headers: vec![
                ("webhook-id".into(), "msg_1".into()),
                ("webhook-timestamp".into(), "1614265330".into()),
                ("webhook-signature".into(), "v1,abc=".into()),
                ("content-type".into(), "application/json".into()),
                ("user-agent".into(), "hookrelay/0.1".into()),
                ("hookrelay-source".into(), "github".into()),
                ("hookrelay-event-type".into(), "push".into()),
                ("hookrelay-event-id".into(), "evt_1".into()),
            ],
            body: body.to_vec().into(),
            timeout: Duration::from_secs(5),
            target: Default::default(),
            auth: None,
        }
    }

    /// The event is what `lambda_http` takes as an API Gateway HTTP API
    /// request: its own parser reads it as one, with the method, path,
    /// headers and body a handler would check the signature from.
    #[test]
    fn the_event_is_an_http_api_request_lambda_http_parses() {
        use lambda_http::{Body, RequestExt};
        let event = event(&request(BODY.as_bytes())).to_string();
        let parsed = lambda_http::request::from_str(&event).expect("lambda_http parses the event");
        assert!(matches!(
            parsed.request_context(),
            lambda_http::request::RequestContext::ApiGatewayV2(_)
        ));
        assert_eq!(parsed.method(), lambda_http::http::Method::POST);
        assert_eq!(parsed.uri().path(), "/");
        let header = |name: &str| parsed.headers().get(name).unwrap().to_str().unwrap();
        assert_eq!(header("webhook-id"), "msg_1");
        assert_eq!(header("webhook-timestamp"), "1614265330");
        assert_eq!(header("webhook-signature"), "v1,abc=");
        assert_eq!(header("hookrelay-event-id"), "evt_1");
        assert_eq!(header("content-type"), "application/json");
        match parsed.body() {
            Body::Text(text) => assert_eq!(text, BODY),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_body_that_is_not_utf8_is_base64_and_says_so() {
        let bytes = [0xff, 0x00, b'P'];
        let event = event(&request(&bytes));
        assert_eq!(event["isBase64Encoded"], true);
        let parsed = lambda_http::request::from_str(&event.to_string()).unwrap();
        assert_eq!(parsed.body().as_ref(), &bytes[..]);
        assert_eq!(event["requestContext"]["timeEpoch"], 1_614_265_330_000_i64);
    }

    fn output(status: i32, error: Option<&str>, payload: &str) -> InvokeOutput {
        let mut output = InvokeOutput::builder()
            .status_code(status)
            .payload(Blob::new(payload.as_bytes()));
        if let Some(kind) = error {
            output = output.function_error(kind);
        }
        output.build()
    }

    #[test]
    fn a_function_error_fails_the_attempt_with_its_type() {
        let answer = answered(
            &output(
                200,
                Some("Unhandled"),
                r#"{"errorType":"OrderRejected","errorMessage":"no such customer"}"#,
            ),
            LambdaInvocation::RequestResponse,
            Instant::now(),
        );
        assert_eq!(answer.outcome, AttemptOutcome::Response { status: 502 });
        assert!(
            answer
                .response_body
                .starts_with("function error (Unhandled): OrderRejected: no such customer"),
            "{}",
            answer.response_body
        );
    }

    /// The HTTP-response shape: 400 and above fail with the function's
    /// status, body and `Retry-After`; below, the invoke succeeded.
    #[test]
    fn a_function_answering_an_http_error_fails_the_attempt() {
        let answer = answered(
            &output(
                200,
                None,
                r#"{"statusCode":503,"headers":{"Retry-After":"7"},"body":"busy"}"#,
            ),
            LambdaInvocation::RequestResponse,
            Instant::now(),
        );
        assert_eq!(answer.outcome, AttemptOutcome::Response { status: 503 });
        assert_eq!(answer.response_body, "busy");
        assert_eq!(answer.retry_after, Some(Duration::from_secs(7)));
        for fine in [
            r#"{"statusCode":204}"#,
            r#"{"statusCode":302}"#,
            r#"{"ok":true}"#,
            "null",
            "",
        ] {
            let answer = answered(
                &output(200, None, fine),
                LambdaInvocation::RequestResponse,
                Instant::now(),
            );
            assert_eq!(
                answer.outcome,
                AttemptOutcome::Response { status: 200 },
                "{fine}"
            );
        }
    }

    #[test]
    fn an_event_invoke_succeeds_once_accepted() {
        let answer = answered(
            &output(202, None, ""),
            LambdaInvocation::Event,
            Instant::now(),
        );
        assert_eq!(answer.outcome, AttemptOutcome::Response { status: 202 });
        assert!(answer.response_body.starts_with("accepted"));
    }

    #[test]
    fn a_long_answer_is_cut_to_what_an_attempt_keeps() {
        let long = "é".repeat(MAX_STORED_RESPONSE);
        let answer = answered(
            &output(200, None, &long),
            LambdaInvocation::RequestResponse,
            Instant::now(),
        );
        assert!(answer.response_truncated);
        assert!(answer.response_body.len() <= MAX_STORED_RESPONSE);
    }
}
