//! A client of the SMFv2 listener as the ARMS client behaves (brief §1.1, §1.3), for the
//! SMFv2 tests: pulls over TLS 1.0, and the HTTPS tunnel.

use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mpc_server::AppState;
use mpc_server::smfv2::chunk::{self, Decoder, Frame};
use mpc_server::smfv2::listener::{Smfv2Config, Smfv2Listener};
use mpc_server::smfv2::{message, pki};
use mpc_storage::JournalEntry;
use mpc_storage::smfv2::{self, Identity};
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode, SslVersion};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support::*;

/// A running SMFv2 listener on the app's database, with its certificates.
pub struct Smfv2 {
    pub addr: SocketAddr,
    pub rs_url: String,
    pub dir: tempfile::TempDir,
}

pub async fn listen(app: &TestApp, config: &ServerConfig) -> Smfv2 {
    let settings = Smfv2Config::new("127.0.0.1:0".parse().unwrap(), "unused");
    listen_on(
        AppState::new(app.db.store.clone(), app.key.clone()),
        config,
        settings,
    )
    .await
}

/// A listener of the node whose state is `state`, with `settings` but its own certificates.
pub async fn listen_on(state: AppState, config: &ServerConfig, mut settings: Smfv2Config) -> Smfv2 {
    let dir = tempfile::tempdir().unwrap();
    pki::init(dir.path(), &["127.0.0.1".to_owned()]).unwrap();
    settings.dir = dir.path().to_owned();
    let listener = Smfv2Listener::bind(&settings, state, config.device.clone())
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let rs_url = listener.rs_url().to_owned();
    tokio::spawn(listener.serve(std::future::pending()));
    Smfv2 { addr, rs_url, dir }
}

/// Gives `serial` an SMFv2 identity whose keys are derived from its Distribution ID.
pub async fn identity(app: &TestApp, serial: &str, distribution_id: &str) -> Identity {
    let identity = Identity {
        distribution_id: distribution_id.to_owned(),
        ls_key: format!("ls-key-{serial}"),
        rs_key: format!("rs-key-{serial}"),
        heartbeat_passphrase: format!("hb-{serial}"),
    };
    smfv2::create(
        &app.db.store,
        &app.key,
        serial,
        &identity,
        JournalEntry::new("test", "smfv2.identity.create"),
    )
    .await
    .unwrap()
    .unwrap();
    identity
}

/// A TLS 1.0 connection as the client makes it; for the LS path, the chain's name rule too.
pub async fn connect(smf: &Smfv2, path: &str) -> tokio_openssl::SslStream<tokio::net::TcpStream> {
    let mut connector = SslConnector::builder(SslMethod::tls_client()).unwrap();
    connector
        .set_min_proto_version(Some(SslVersion::TLS1))
        .unwrap();
    connector
        .set_max_proto_version(Some(SslVersion::TLS1))
        .unwrap();
    connector.set_cipher_list("DEFAULT:@SECLEVEL=0").unwrap();
    connector.set_security_level(0);
    connector
        .set_ca_file(smf.dir.path().join(pki::CA_FILE))
        .unwrap();
    let ls = path == "/arms.cgi";
    connector.set_verify_callback(SslVerifyMode::PEER, move |ok, chain| {
        let named = chain
            .current_cert()
            .is_some_and(|c| pki::meets_ls_name_rule(c.subject_name()));
        ok && (!ls || named)
    });
    let ssl = connector
        .build()
        .configure()
        .unwrap()
        .verify_hostname(false)
        .use_server_name_indication(false)
        .into_ssl("ignored")
        .unwrap();
    let tcp = tokio::net::TcpStream::connect(smf.addr).await.unwrap();
    let mut stream = tokio_openssl::SslStream::new(ssl, tcp).unwrap();
    Pin::new(&mut stream).connect().await.unwrap();
    assert_eq!(stream.ssl().version_str(), "TLSv1");
    stream
}

/// One exchange as the ARMS client makes it: TLS 1.0 only, the one CA trusted, no host name
/// check, HTTP/1.0 with Basic; for the LS, every certificate of the chain must be named
/// `ARMS Root CA` or `Location Server …` (brief §1.1, §1.3).
pub async fn exchange(
    smf: &Smfv2,
    path: &str,
    user: &str,
    key: &str,
    body: &str,
) -> (String, String) {
    let mut stream = connect(smf, path).await;
    let auth = STANDARD.encode(format!("{user}:{key}"));
    let request = format!(
        "POST {path} HTTP/1.0\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\
         Authorization: Basic {auth}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let response = String::from_utf8(response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    // Every answer: a fixed-length body (never chunked), and the client parser's rules kept.
    assert!(!head.contains("Transfer-Encoding"), "{head}");
    assert!(
        head.contains(&format!("\r\nContent-Length: {}\r\n", body.len())),
        "{head}"
    );
    if let Err(e) = message::check_parser_rules(body) {
        panic!("{e}: {body}");
    }
    (head.to_owned(), body.to_owned())
}

pub fn request(kind: &str, distribution_id: &str, inner: &str) -> String {
    format!(
        "<arms-message><arms-request type=\"{kind}\"><distribution-id>{distribution_id}\
         </distribution-id><description>mpc smfv2 test</description><{kind}-request>{inner}\
         </{kind}-request></arms-request></arms-message>"
    )
}

/// The text of the first `<name …>…</name>` of `xml`.
pub fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    // `<name>` or `<name attr…>`, not `<name-longer>`.
    let open = [format!("<{name}>"), format!("<{name} ")]
        .iter()
        .filter_map(|tag| xml.find(tag.as_str()))
        .min()?;
    let start = xml[open..].find('>')? + open + 1;
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(&xml[start..end])
}

pub fn result_code(body: &str) -> &str {
    element(body, "result-code").unwrap_or("none")
}

pub async fn rs_solicitation(smf: &Smfv2, distribution_id: &str, key: &str) -> String {
    let body = request(
        "rs-solicitation",
        distribution_id,
        "<trigger>power on boot</trigger>",
    );
    let (head, body) = exchange(smf, "/arms.cgi", distribution_id, key, &body).await;
    // Always 200: any HTTP error is only a failed attempt to the client.
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains("Content-Length: "), "{head}");
    body
}

pub async fn config_solicitation(smf: &Smfv2, distribution_id: &str, key: &str) -> String {
    let body = request(
        "config-solicitation",
        distribution_id,
        "<protocol-version>4.0</protocol-version><trigger>power on boot</trigger>\
         <firmware-info>Version 5.33</firmware-info>",
    );
    let (head, body) = exchange(smf, "/rs.cgi", distribution_id, key, &body).await;
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    body
}

/// The configuration a config-solicitation response carries, decoded.
pub fn delivered(body: &str) -> String {
    assert_eq!(result_code(body), "100", "{body}");
    let encoded = element(body, "md-config").unwrap();
    String::from_utf8(STANDARD.decode(encoded).unwrap()).unwrap()
}

pub async fn events(app: &TestApp, serial: &str) -> Vec<smfv2::Event> {
    smfv2::events(&mut app.db.store.conn().await.unwrap(), serial)
        .await
        .unwrap()
}

/// The operator's console page of `serial`, in Japanese.
pub async fn console_page(app: &TestApp, serial: &str) -> String {
    let user = mpc_storage::accounts::find_user_by_username(&app.db.store, "admin")
        .await
        .unwrap();
    mpc_storage::accounts::reset_password(
        &app.db.store,
        &user.id,
        "console-password-0001",
        mpc_storage::accounts::PasswordLife::Kept,
        JournalEntry::new("test", "user.password"),
    )
    .await
    .unwrap();
    let login = app
        .request(
            Request::post("/console/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(
                    "username=admin&password=console-password-0001&next=%2Fconsole",
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.text);
    let cookie = login.headers["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = app
        .request(
            Request::get(format!("/console/fleet/{serial}"))
                .header("cookie", cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    page.text
}

/// A device's end of the HTTPS tunnel (brief §4.3).
pub struct Tunnel {
    stream: tokio_openssl::SslStream<tokio::net::TcpStream>,
    decoder: Decoder,
}

/// Opens the tunnel as the client does: headers only, a body that never ends. Answers the
/// tunnel, or the head of the refusal.
pub async fn open_tunnel(smf: &Smfv2, user: &str, key: &str) -> Result<Tunnel, String> {
    let mut stream = connect(smf, "/tunnel.cgi").await;
    let auth = STANDARD.encode(format!("{user}:{key}"));
    let head = format!(
        "POST /tunnel.cgi HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: text/xml\r\n\
         Transfer-Encoding: chunked\r\nAuthorization: Basic {auth}\r\n\r\n",
        smf.addr
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    let end = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let mut buf = [0u8; 1024];
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("an answer to the tunnel request")
            .unwrap_or(0);
        if n == 0 {
            return Err(String::from_utf8_lossy(&raw).into_owned());
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    // The client checks for exactly this status line (brief §4.3 step 2).
    if !head.starts_with("HTTP/1.1 200 OK\r\n") {
        return Err(head);
    }
    let mut decoder = Decoder::new();
    decoder.feed(&raw[end + 4..]);
    Ok(Tunnel { stream, decoder })
}

impl Tunnel {
    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
        self.stream.flush().await.unwrap();
    }

    /// The next frame within `wait`, None if none came; the end of the stream reads as
    /// [`Frame::End`].
    pub async fn frame(&mut self, wait: Duration) -> Option<Frame> {
        let until = tokio::time::Instant::now() + wait;
        loop {
            if let Some(frame) = self.decoder.next_frame().unwrap() {
                return Some(frame);
            }
            let mut buf = [0u8; 4096];
            let read = tokio::time::timeout_at(until, self.stream.read(&mut buf))
                .await
                .ok()?;
            match read {
                Ok(0) | Err(_) => return Some(Frame::End),
                Ok(n) => self.decoder.feed(&buf[..n]),
            }
        }
    }

    /// The next message within `wait`, checked against the client parser's rules.
    pub async fn message(&mut self, wait: Duration) -> (u32, String) {
        match self.frame(wait).await {
            Some(Frame::Message { id, body }) => {
                let body = String::from_utf8(body).unwrap();
                if let Err(e) = message::check_parser_rules(&body) {
                    panic!("{e}: {body}");
                }
                (id, body)
            }
            other => panic!("expected a message, got {other:?}"),
        }
    }

    /// Confirms push as the client does (brief §4.3 step 4): start, the server's transaction,
    /// its done request under a new chunk id, the success answer.
    pub async fn confirm(&mut self, distribution_id: &str) {
        let start = request(
            "push-confirmation-start",
            distribution_id,
            "<push-method>https-tunnel</push-method>",
        );
        self.send(&chunk::encode_message(1, start.as_bytes())).await;
        let (_, started) = self.message(Duration::from_secs(10)).await;
        assert!(
            started.contains("<arms-response type=\"push-confirmation-start\">"),
            "{started}"
        );
        assert_eq!(result_code(&started), "100", "{started}");
        let transaction = element(&started, "transaction-id").unwrap().to_owned();
        let (done_id, done) = self.message(Duration::from_secs(10)).await;
        assert_ne!(done_id, 1, "a new chunk id");
        assert!(
            done.contains("<arms-request type=\"push-confirmation-done\">"),
            "{done}"
        );
        assert_eq!(element(&done, "distribution-id"), Some(distribution_id));
        assert_eq!(element(&done, "transaction-id"), Some(transaction.as_str()));
        self.send(&chunk::encode_message(
            2,
            answer("push-confirmation-done").as_bytes(),
        ))
        .await;
    }

    /// Waits for `pull-config` within `wait`, answering echoes' absence with nothing; answers it 100.
    pub async fn pull_config(&mut self, distribution_id: &str, wait: Duration) -> bool {
        let until = tokio::time::Instant::now() + wait;
        loop {
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            match self.frame(left).await {
                Some(Frame::Message { id, body }) => {
                    let body = String::from_utf8(body).unwrap();
                    assert!(
                        body.contains("<arms-request type=\"pull-config\">"),
                        "{body}"
                    );
                    assert_eq!(element(&body, "distribution-id"), Some(distribution_id));
                    assert_eq!(element(&body, "type"), Some("RS"), "{body}");
                    self.send(&chunk::encode_message(id, answer("pull-config").as_bytes()))
                        .await;
                    return true;
                }
                Some(Frame::EchoResponse | Frame::EchoRequest) => {}
                Some(Frame::End) | None => return false,
            }
        }
    }
}

/// The device's success answer to a request of the server.
pub fn answer(kind: &str) -> String {
    format!(
        "<arms-message><arms-response type=\"{kind}\"><result-code>100</result-code>\
         <description>Success</description><{kind}-response></{kind}-response></arms-response>\
         </arms-message>"
    )
}

/// Asks the push method (brief §4.1) as the client does.
pub async fn push_method_query(smf: &Smfv2, distribution_id: &str, key: &str) -> String {
    let body = request(
        "push-method-query",
        distribution_id,
        "<push-method>https-simple</push-method><push-method>https-tunnel</push-method>",
    );
    exchange(smf, "/rs.cgi", distribution_id, key, &body)
        .await
        .1
}
