//! An HTTP receiver that checks AWS SigV4 the way AWS does, with an
//! implementation that is not ours: botocore's signer (Python), given the
//! request as it arrived. It answers 200 when the signature is right and
//! 403 (with the reason) otherwise, and keeps a record of what it saw.
//!
//! It knows the secret of the access key id `test` (moto's and the tests'
//! static credentials) and, for any other key, asks moto's
//! `/moto-api/data.json` for the assumed-role session that key belongs to
//! (its secret and session token), so an assumed role's signature is
//! checked with that role's credentials.
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const INSTALL_HINT: &str = "python3 cannot import botocore, which the SigV4 sink checks \
     signatures with. Install it with: pip install botocore (moto[server] brings it)";

const SERVER: &str = r#"
import hashlib, hmac, json, os, sys, threading, urllib.request, datetime
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

port_file, service, region, moto = sys.argv[1:5]
KNOWN = {"test": ("test", None)}
seen, lock = [], threading.Lock()

def credentials_of(key_id):
    if key_id in KNOWN:
        return KNOWN[key_id]
    if moto:
        data = json.load(urllib.request.urlopen(moto + "/moto-api/data.json"))
        for role in data.get("sts", {}).get("AssumedRole", []):
            if role["access_key_id"] == key_id:
                return role["secret_access_key"], role["session_token"]
    return None

def check(method, path, headers, body):
    auth = headers.get("authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return None, "unsigned"
    fields = dict(part.strip().split("=", 1) for part in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    key_id, day, scope_region, scope_service, terminator = fields["Credential"].split("/")
    signed = fields["SignedHeaders"].split(";")
    if (scope_region, scope_service, terminator) != (region, service, "aws4_request"):
        return key_id, "scope %s/%s" % (scope_region, scope_service)
    for name in ["host", "x-amz-date", "x-amz-content-sha256"] + (["content-type"] if "content-type" in headers else []):
        if name not in signed:
            return key_id, name + " is not signed"
    if headers.get("x-amz-content-sha256") != hashlib.sha256(body).hexdigest():
        return key_id, "the payload hash is not the body's"
    stamp = headers["x-amz-date"]
    when = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    if day != stamp[:8] or abs((datetime.datetime.now(datetime.timezone.utc) - when).total_seconds()) > 300:
        return key_id, "stale or inconsistent date"
    known = credentials_of(key_id)
    if known is None:
        return key_id, "unknown access key"
    secret, token = known
    if token is not None and (headers.get("x-amz-security-token") != token or "x-amz-security-token" not in signed):
        return key_id, "session token missing or not signed"
    request = AWSRequest(method=method, url="http://" + headers["host"] + path, data=body,
                         headers={name: headers[name] for name in signed})
    signer = SigV4Auth(Credentials(key_id, secret, token), service, region)
    request.context["timestamp"] = stamp
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    if not hmac.compare_digest(expected, fields.get("Signature", "")):
        return key_id, "signature mismatch"
    return key_id, None

class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass
    def answer(self, status, text):
        data = text.encode()
        self.send_response(status)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        with lock:
            self.answer(200, json.dumps(seen))
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            key_id, refused = check("POST", self.path, headers, body)
        except Exception as err:
            key_id, refused = None, "error: %r" % (err,)
        with lock:
            seen.append({"key_id": key_id, "refused": refused, "body": body.decode("utf-8", "replace")})
        if refused is None:
            self.answer(200, "verified " + key_id)
        else:
            self.answer(403, refused)

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
"#;

/// What the sink saw of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The access key id the request was signed with (none: unsigned).
    pub key_id: Option<String>,
    /// Why it was refused (none: the signature verified).
    pub refused: Option<String>,
    pub body: String,
}

pub struct SigV4Sink {
    child: Child,
    pub url: String,
}

impl SigV4Sink {
    /// Expects requests signed for `service` in `region`; asks moto at
    /// `moto` (an endpoint) about assumed roles' keys.
    pub fn start(service: &str, region: &str, moto: Option<&str>) -> SigV4Sink {
        let found = Command::new("python3")
            .args(["-c", "import botocore.auth"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(found, "{INSTALL_HINT}");
        let port_file = std::env::temp_dir().join(crate::moto::unique_name("sigv4-sink-port"));
        // A watchdog shell ends the sink with this test process.
        let child = Command::new("sh")
            .args([
                "-c",
                r#"python3 -c "$3" "$1" "$4" "$5" "$6" >/dev/null 2>&1 & s=$!
                   trap 'kill $s 2>/dev/null; exit 0' TERM INT
                   while kill -0 "$2" 2>/dev/null && kill -0 $s 2>/dev/null; do sleep 0.3; done
                   kill $s 2>/dev/null; wait $s 2>/dev/null"#,
                "sigv4-sink-watchdog",
                &port_file.display().to_string(),
                &std::process::id().to_string(),
                SERVER,
                service,
                region,
                moto.unwrap_or(""),
            ])
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn sh for the SigV4 sink");
        let port = crate::moto::read_port_file(
            &port_file,
            Instant::now() + Duration::from_secs(30),
            "the SigV4 sink did not start within 30 s",
        );
        SigV4Sink {
            child,
            url: format!("http://127.0.0.1:{port}/hook"),
        }
    }

    /// Every request so far, in arrival order.
    pub async fn seen(&self) -> Vec<Seen> {
        let text = reqwest::get(&self.url)
            .await
            .expect("the sink answers")
            .text()
            .await
            .unwrap();
        let all: Vec<serde_json::Value> = serde_json::from_str(&text).expect("JSON");
        all.iter()
            .map(|one| Seen {
                key_id: one["key_id"].as_str().map(str::to_string),
                refused: one["refused"].as_str().map(str::to_string),
                body: one["body"].as_str().unwrap_or_default().to_string(),
            })
            .collect()
    }
}

impl Drop for SigV4Sink {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}
