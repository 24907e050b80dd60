//! `hookrelay console`: a web page over the admin use case, served on the
//! operator's own machine (by `hookrelay dev` on its admin address, or by
//! `hookrelay console --aws` for a deployed stack). Every page and button
//! is an [`AdminRequest`], exactly as the admin commands send them.
//!
//! Security: see [`auth`]. Pages are rendered on the server; the only
//! script refreshes the events list.
mod auth;
mod chart;
mod destinations;
mod json_view;
mod pages;
mod serve;

pub use serve::{console, ConsoleArgs};

use hookrelay_core::admin::{Admin, AdminRequest, AdminResponse};
use hookrelay_core::CoreError;
use hookrelay_models::{DeliveryState, DestinationId, EventId, SourceId, Timestamp};
use hookrelay_signing::Secret;
use http::{header, Method, Response, StatusCode};
use maud::Markup;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::server::{loopback_host, FullRequest};
use auth::{cookie_name, Auth};
use pages::EventFilter;

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");
/// Events listed per page, unless asked for more.
const PAGE: usize = 50;
/// Attempts read per destination for its charts.
const CHART_ATTEMPTS: usize = 1000;

pub struct Console {
    admin: Arc<Admin>,
    auth: Auth,
    /// Where providers post, for the sources page (`None`: unknown).
    receiver_base: Option<String>,
    /// The admin token: whoever sends it may have a fresh login URL.
    login_key: Option<String>,
}

/// The port a `Host` header names (80 if none).
fn host_port(host: &str) -> u16 {
    host.rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
        .unwrap_or(80)
}

type Page = Response<Vec<u8>>;

fn respond(status: StatusCode, content_type: &str, body: Vec<u8>) -> Page {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "no-store")
        .header("x-content-type-options", "nosniff")
        .header("x-frame-options", "DENY")
        .header(
            "content-security-policy",
            "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
        )
        .header("referrer-policy", "same-origin")
        .body(body)
        .expect("static response parts")
}

fn html(status: StatusCode, markup: Markup) -> Page {
    respond(
        status,
        "text/html; charset=utf-8",
        markup.into_string().into_bytes(),
    )
}

fn message(status: StatusCode, title: &str, text: &str) -> Page {
    html(status, pages::message_page(title, text))
}

fn see_other(location: &str) -> Page {
    let mut page = respond(StatusCode::SEE_OTHER, "text/plain", Vec::new());
    page.headers_mut().insert(
        header::LOCATION,
        location.parse().expect("a path of our own"),
    );
    page
}

fn query_params(query: Option<&str>) -> HashMap<String, String> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// `15m`, `1h`, `24h`, `7d` → that long before `now`.
fn window_start(window: &str, now: Timestamp) -> Option<Timestamp> {
    let minutes: i64 = match window {
        "15m" => 15,
        "1h" => 60,
        "24h" => 24 * 60,
        "7d" => 7 * 24 * 60,
        _ => return None,
    };
    Some(Timestamp::from_unix_millis(
        now.unix_millis() - minutes * 60_000,
    ))
}

fn core_error_page(err: &CoreError) -> Page {
    let (status, _) = crate::admin::error_kind(err);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    message(status, "That did not work", &err.to_string())
}

impl Console {
    pub fn new(admin: Arc<Admin>, receiver_base: Option<String>) -> Self {
        Console {
            admin,
            auth: Auth::new(),
            receiver_base,
            login_key: None,
        }
    }

    /// Lets a request bearing `admin_token` have a fresh one-time login URL
    /// (`POST /login-url`, what `hookrelay console --login-url` sends).
    pub fn with_login_key(mut self, admin_token: String) -> Self {
        self.login_key = Some(admin_token);
        self
    }

    /// The one-time login URL to print, for a console at `address`.
    pub fn login_url(&self, address: &std::net::SocketAddr) -> String {
        format!(
            "http://{address}/login?token={}",
            self.auth.login_token().unwrap_or_default()
        )
    }

    pub async fn handle(&self, request: FullRequest) -> Page {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        if !loopback_host(&host) {
            tracing::warn!(host, "console request for a foreign Host refused");
            return message(
                StatusCode::FORBIDDEN,
                "Forbidden",
                "The console answers only to a loopback Host.",
            );
        }
        let path = request.uri().path().to_string();
        let query = request.uri().query().map(str::to_string);
        match (request.method(), path.as_str()) {
            (&Method::GET, "/assets/console.css") => {
                return respond(StatusCode::OK, "text/css", CSS.as_bytes().to_vec())
            }
            (&Method::GET, "/assets/console.js") => {
                return respond(StatusCode::OK, "text/javascript", JS.as_bytes().to_vec())
            }
            (&Method::GET, "/login") => return self.log_in(query.as_deref(), &host),
            (&Method::POST, "/login-url") => return self.fresh_login_url(&request, &host),
            _ => {}
        }
        let cookie_name = cookie_name(host_port(&host));
        let cookie = request
            .headers()
            .get(header::COOKIE)
            .and_then(|v| v.to_str().ok());
        let Some(csrf) = self.auth.session_csrf(cookie, &cookie_name) else {
            return message(
                StatusCode::UNAUTHORIZED,
                "Log in",
                "Open the login URL the console printed when it started, or get a new one with `hookrelay console --login-url`.",
            );
        };
        if request.method() == Method::POST {
            let origin = request
                .headers()
                .get(header::ORIGIN)
                .and_then(|v| v.to_str().ok());
            if origin != Some(format!("http://{host}").as_str()) {
                tracing::warn!(?origin, "console change from another origin refused");
                return message(
                    StatusCode::FORBIDDEN,
                    "Forbidden",
                    "Changes are accepted only from the console's own pages.",
                );
            }
            let form: HashMap<String, String> = form_urlencoded::parse(request.body())
                .into_owned()
                .collect();
            if !Auth::csrf_matches(&csrf, form.get("csrf").map(String::as_str)) {
                return message(
                    StatusCode::FORBIDDEN,
                    "Forbidden",
                    "The form is out of date; reload the page and try again.",
                );
            }
            if path == "/logout" {
                self.auth.log_out(cookie, &cookie_name);
                let mut page = message(
                    StatusCode::OK,
                    "Logged out",
                    "This browser's session has ended.",
                );
                page.headers_mut().insert(
                    header::SET_COOKIE,
                    format!("{cookie_name}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
                        .parse()
                        .expect("a cookie of our own"),
                );
                return page;
            }
            return self.change(&path, &form).await;
        }
        if request.method() != Method::GET {
            return message(
                StatusCode::METHOD_NOT_ALLOWED,
                "Not allowed",
                "GET or POST only.",
            );
        }
        self.show(&path, query.as_deref(), &csrf).await
    }

    fn log_in(&self, query: Option<&str>, host: &str) -> Page {
        let params = query_params(query);
        let token = params.get("token").map(String::as_str).unwrap_or_default();
        match self.auth.log_in(token) {
            Some(session) => {
                let mut page = see_other("/");
                page.headers_mut().insert(
                    header::SET_COOKIE,
                    format!(
                        "{}={session}; HttpOnly; SameSite=Strict; Path=/",
                        cookie_name(host_port(host))
                    )
                    .parse()
                    .expect("hex session id"),
                );
                page
            }
            None => message(
                StatusCode::UNAUTHORIZED,
                "Log in",
                "This login URL is wrong or was used already; get a new one with `hookrelay console --login-url`.",
            ),
        }
    }

    /// A fresh one-time login URL, for a request bearing the admin token:
    /// a lost session (another browser, a cleared cookie) needs no restart.
    fn fresh_login_url(&self, request: &FullRequest, host: &str) -> Page {
        let authorization = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let allowed = self
            .login_key
            .as_deref()
            .is_some_and(|key| crate::admin_token::authorizes(authorization, key));
        if !allowed {
            tracing::warn!("login URL asked for without the admin token");
            return message(
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                "This needs the admin token.",
            );
        }
        let url = format!("http://{host}/login?token={}", self.auth.new_login_token());
        respond(StatusCode::OK, "text/plain", url.into_bytes())
    }

    async fn execute(&self, request: AdminRequest) -> Result<AdminResponse, CoreError> {
        self.admin.execute(request).await
    }

    async fn show(&self, path: &str, query: Option<&str>, csrf: &str) -> Page {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let result = match segments.as_slice() {
            ["logout"] => Ok(html(StatusCode::OK, pages::logout_page(csrf))),
            [""] => self.events(query, false).await,
            ["rows"] => self.events(query, true).await,
            ["events", id] => self.event(id, csrf).await,
            ["events", id, "body"] => self.body(id).await,
            ["events", id, "deliveries"] => self
                .detail(id)
                .await
                .map(|detail| html(StatusCode::OK, pages::deliveries(&detail, csrf))),
            ["destinations"] => self.destinations(csrf).await,
            ["sources"] => self.sources().await,
            _ => Ok(message(StatusCode::NOT_FOUND, "Not found", "No such page.")),
        };
        result.unwrap_or_else(|err| core_error_page(&err))
    }

    async fn events(&self, query: Option<&str>, rows_only: bool) -> Result<Page, CoreError> {
        let params = query_params(query);
        let get = |name: &str| params.get(name).cloned().unwrap_or_default();
        let filter = EventFilter {
            source: get("source"),
            event_type: get("type"),
            status: get("status"),
            window: get("window"),
            limit: get("limit").parse().unwrap_or(PAGE).clamp(1, 1000),
        };
        let source = match filter.source.as_str() {
            "" => None,
            id => Some(SourceId::parse(id).map_err(|e| CoreError::Invalid(e.to_string()))?),
        };
        let status = match filter.status.as_str() {
            "pending" => Some(DeliveryState::Pending),
            "succeeded" => Some(DeliveryState::Succeeded),
            "failed" => Some(DeliveryState::Failed),
            "parked" => Some(DeliveryState::Parked),
            _ => None,
        };
        let since = window_start(&filter.window, Timestamp::now());
        // One more than shown, to know whether there are more.
        let AdminResponse::Events(mut events) = self
            .execute(AdminRequest::ListEvents {
                source,
                since,
                status,
                limit: filter.limit + 1,
            })
            .await?
        else {
            return Err(CoreError::Corrupt(
                "unexpected answer to list events".into(),
            ));
        };
        let more = events.len() > filter.limit;
        events.truncate(filter.limit);
        if !filter.event_type.is_empty() {
            events.retain(|e| e.event_type.as_deref() == Some(filter.event_type.as_str()));
        }
        if rows_only {
            return Ok(html(StatusCode::OK, pages::event_rows(&events)));
        }
        let sources = self.source_list().await?;
        Ok(html(
            StatusCode::OK,
            pages::events_page(&filter, &sources, &events, more),
        ))
    }

    async fn source_list(&self) -> Result<Vec<hookrelay_models::Source>, CoreError> {
        match self.execute(AdminRequest::ListSources).await? {
            AdminResponse::Sources(sources) => Ok(sources),
            _ => Err(CoreError::Corrupt(
                "unexpected answer to list sources".into(),
            )),
        }
    }

    async fn detail(&self, id: &str) -> Result<Box<hookrelay_core::admin::EventDetail>, CoreError> {
        let id = EventId::parse(id).map_err(|e| CoreError::NotFound(e.to_string()))?;
        match self.execute(AdminRequest::ShowEvent { id }).await? {
            AdminResponse::Event(detail) => Ok(detail),
            _ => Err(CoreError::Corrupt("unexpected answer to show event".into())),
        }
    }

    async fn event(&self, id: &str, csrf: &str) -> Result<Page, CoreError> {
        let detail = self.detail(id).await?;
        Ok(html(StatusCode::OK, pages::event_page(&detail, csrf)))
    }

    async fn body(&self, id: &str) -> Result<Page, CoreError> {
        let detail = self.detail(id).await?;
        let mut page = respond(
            StatusCode::OK,
            "application/octet-stream",
            detail.event.body.to_vec(),
        );
        page.headers_mut().insert(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}.body\"", detail.event.id.as_str())
                .parse()
                .expect("an event id is a token"),
        );
        Ok(page)
    }

    async fn sources(&self) -> Result<Page, CoreError> {
        let sources = self.source_list().await?;
        let since = Timestamp::from_unix_millis(Timestamp::now().unix_millis() - 24 * 3_600_000);
        let AdminResponse::Rejections(counts) = self
            .execute(AdminRequest::ListRejections {
                source: None,
                since,
            })
            .await?
        else {
            return Err(CoreError::Corrupt(
                "unexpected answer to list rejections".into(),
            ));
        };
        // Per source, per reason, over the day.
        let mut rejected: HashMap<String, std::collections::BTreeMap<String, u64>> = HashMap::new();
        for count in counts {
            *rejected
                .entry(count.source.to_string())
                .or_default()
                .entry(count.reason)
                .or_default() += count.count;
        }
        Ok(html(
            StatusCode::OK,
            pages::sources_page(&sources, self.receiver_base.as_deref(), &rejected),
        ))
    }

    async fn change(&self, path: &str, form: &HashMap<String, String>) -> Page {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
        let result = match segments.as_slice() {
            ["events", id, "replay"] => self.replay(id, field("destination")).await,
            ["destinations", id, "enabled"] => {
                self.set_enabled(id, field("enabled") == "true").await
            }
            ["destinations", id, "recover"] => self.recover(id, field("window")).await,
            ["destinations", id, action @ ("skip" | "release")] => {
                self.unblock(id, field("key"), action).await
            }
            ["destinations", id, "rate-limit"] => {
                self.set_rate_limit(id, field("rate_limit"), field("burst"))
                    .await
            }
            ["destinations", id, "rotate"] => {
                let hours = field("grace_hours").parse::<u64>().unwrap_or(24).min(720);
                let ed25519 = field("kind") == "ed25519";
                return self
                    .rotate(id, hours, ed25519)
                    .await
                    .unwrap_or_else(|e| core_error_page(&e));
            }
            _ => Err(CoreError::NotFound("no such action".into())),
        };
        match result {
            Ok(back_to) => see_other(&back_to),
            Err(err) => core_error_page(&err),
        }
    }

    fn destination_id(id: &str) -> Result<DestinationId, CoreError> {
        DestinationId::parse(id).map_err(|e| CoreError::NotFound(e.to_string()))
    }

    async fn replay(&self, id: &str, destination: &str) -> Result<String, CoreError> {
        let event = EventId::parse(id).map_err(|e| CoreError::NotFound(e.to_string()))?;
        let destination = match destination {
            "" => None,
            id => Some(Self::destination_id(id)?),
        };
        self.execute(AdminRequest::Replay {
            event: event.clone(),
            destination,
        })
        .await?;
        tracing::info!(event = %event, "replayed from the console");
        Ok(format!("/events/{}", event.as_str()))
    }

    async fn set_enabled(&self, id: &str, enabled: bool) -> Result<String, CoreError> {
        let destination = Self::destination_id(id)?;
        self.execute(AdminRequest::SetDestinationEnabled {
            destination,
            enabled,
        })
        .await?;
        Ok("/destinations".into())
    }

    /// Sets (or, with an empty limit, removes) a destination's rate limit;
    /// everything else about it stays as stored.
    async fn set_rate_limit(
        &self,
        id: &str,
        limit: &str,
        burst: &str,
    ) -> Result<String, CoreError> {
        let id = Self::destination_id(id)?;
        let AdminResponse::Destinations(destinations) =
            self.execute(AdminRequest::ListDestinations).await?
        else {
            return Err(CoreError::Invalid("unexpected answer".into()));
        };
        let mut destination = destinations
            .into_iter()
            .find(|d| d.id == id)
            .ok_or_else(|| CoreError::NotFound(format!("no destination {id}")))?;
        let (limit, burst) = (limit.trim(), burst.trim());
        destination.rate_limit = match limit {
            "" => None,
            text => Some(text.parse().map_err(CoreError::Invalid)?),
        };
        destination.burst = match (destination.rate_limit, burst) {
            (None, _) | (_, "") => None,
            (Some(_), text) => Some(text.parse().map_err(|_| {
                CoreError::Invalid(format!("burst {text:?} is not a whole number"))
            })?),
        };
        self.execute(AdminRequest::UpdateDestination {
            destination,
            allow_private: false,
        })
        .await?;
        Ok("/destinations".into())
    }

    async fn recover(&self, id: &str, window: &str) -> Result<String, CoreError> {
        let destination = Self::destination_id(id)?;
        let since = window_start(window, Timestamp::now());
        self.execute(AdminRequest::Recover { destination, since })
            .await?;
        Ok("/destinations".into())
    }

    async fn rotate(&self, id: &str, grace_hours: u64, ed25519: bool) -> Result<Page, CoreError> {
        let destination = Self::destination_id(id)?;
        let secret: Secret = if ed25519 {
            crate::admin::generate_ed25519_key()
        } else {
            crate::admin::generate_secret()
        };
        let shown = secret.expose().to_string();
        self.execute(AdminRequest::RotateDestinationSecret {
            destination: destination.clone(),
            secret,
            grace_secs: Duration::from_secs(grace_hours * 3600).as_secs(),
        })
        .await?;
        Ok(html(
            StatusCode::OK,
            pages::rotated_page(destination.as_str(), &shown, grace_hours),
        ))
    }
}
