//! SMFv2 messages: parse the client's requests, render the Location Server (LS) and Resource
//! Server (RS) responses.
//!
//! The client's XML parser is fragile: it reads US-ASCII only, breaks on unknown attributes of
//! known elements, drops integers followed by anything, and copies each Location-Config into a
//! fixed 2048-byte buffer without a bound check. Every renderer here keeps those rules, and
//! refuses (rather than truncates) text that would break them.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The largest Location-Config (`md-config` of an `rs-info`) the client can hold, exclusive.
pub const LOCATION_CONFIG_LIMIT: usize = 2048;

/// The longest LS or RS pre-shared key the client accepts.
pub const KEY_LIMIT: usize = 64;

/// Result codes mpc sends. 1xx lets the client proceed; 3xx/4xx make it retry later;
/// 2xx and 5xx make it give up, so mpc never sends those for "not yet".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultCode {
    /// 100: proceed.
    Success,
    /// 301: not now; retry later (push methods and requests mpc does not serve).
    ServerBusy,
    /// 403: wrong Basic credentials; retry later.
    AuthenticationFailure,
    /// 420: the Distribution ID is unknown; retry later.
    DistributionIdNotFound,
    /// 421: nothing to deliver yet (not provisioned, refused by a rule); retry later.
    ConfigurationNotFound,
    /// 423: a message names another Distribution ID than its sender's.
    DistributionIdMismatch,
}

impl ResultCode {
    /// The number on the wire.
    #[must_use]
    pub const fn code(self) -> u16 {
        match self {
            Self::Success => 100,
            Self::ServerBusy => 301,
            Self::AuthenticationFailure => 403,
            Self::DistributionIdNotFound => 420,
            Self::ConfigurationNotFound => 421,
            Self::DistributionIdMismatch => 423,
        }
    }

    /// The `<description>` text that goes with the code.
    #[must_use]
    pub const fn description(self) -> &'static str {
        match self {
            Self::Success => "Success",
            Self::ServerBusy => "Server Busy",
            Self::AuthenticationFailure => "Authentication Failure",
            Self::DistributionIdNotFound => "Distribution ID not found",
            Self::ConfigurationNotFound => "Configuration not found",
            Self::DistributionIdMismatch => "Distribution ID Mismatch",
        }
    }
}

/// A Distribution ID: eight groups of four upper-case hex digits (version, vendor, SA type,
/// SA code), the device's SMFv2 name, its Basic-auth user and, in binary, its heartbeat id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DistributionId([u8; 16]);

impl DistributionId {
    /// Reads the textual form, `0001-0000-0000-0001-0000-0000-0000-0001`.
    ///
    /// Lower-case hex is refused: the client always writes upper case, and the text is
    /// compared as is with the Basic-auth user name.
    ///
    /// # Errors
    /// [`ParseError::InvalidText`] for anything else.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let groups: Vec<&str> = text.split('-').collect();
        if groups.len() != 8 {
            return Err(ParseError::InvalidText);
        }
        let mut bytes = [0u8; 16];
        for (i, group) in groups.iter().enumerate() {
            if group.len() != 4
                || !group
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
            {
                return Err(ParseError::InvalidText);
            }
            let value = u16::from_str_radix(group, 16).map_err(|_| ParseError::InvalidText)?;
            bytes[i * 2..i * 2 + 2].copy_from_slice(&value.to_be_bytes());
        }
        Ok(Self(bytes))
    }

    /// The 16 bytes the heartbeat carries (big-endian version, vendor, SA type, SA code).
    #[must_use]
    pub const fn to_bytes(self) -> [u8; 16] {
        self.0
    }

    /// The Distribution ID a heartbeat carries in binary.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }
}

impl std::fmt::Display for DistributionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, pair) in self.0.chunks(2).enumerate() {
            if i > 0 {
                f.write_str("-")?;
            }
            write!(f, "{:02X}{:02X}", pair[0], pair[1])?;
        }
        Ok(())
    }
}

/// A request read from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The `type` attribute of `<arms-request>`, e.g. `rs-solicitation`.
    pub kind: String,
    /// The `<distribution-id>` text.
    pub distribution_id: String,
    /// The SA's description, if sent.
    pub description: Option<String>,
    /// Why the client is pulling (`power on boot`, …), if sent.
    pub trigger: Option<String>,
    /// The SA firmware's version string (config-solicitation), if sent.
    pub firmware_info: Option<String>,
    /// The protocol version (config-solicitation), if sent.
    pub protocol_version: Option<String>,
    /// The `<push-method>` entries (push-method-query, push-confirmation-start), in order.
    pub push_methods: Vec<String>,
}

/// Why a request could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The body is not an `<arms-message><arms-request type="…">` document.
    #[error("not an arms-request message")]
    NotARequest,
    /// The request carries no `<distribution-id>`.
    #[error("no distribution-id")]
    NoDistributionId,
    /// Non-ASCII bytes or a broken entity.
    #[error("invalid text")]
    InvalidText,
}

/// Reads a client request.
///
/// The client sends no XML declaration and no whitespace between elements, but a declaration
/// and whitespace are tolerated.
///
/// # Errors
/// [`ParseError`] when the body is not an ARMS request with a Distribution ID.
pub fn parse_request(body: &str) -> Result<Request, ParseError> {
    if !body.is_ascii() {
        return Err(ParseError::InvalidText);
    }
    let open = "<arms-request type=\"";
    let start = body.find(open).ok_or(ParseError::NotARequest)? + open.len();
    if !body[..start].contains("<arms-message>") {
        return Err(ParseError::NotARequest);
    }
    let end = body[start..].find('"').ok_or(ParseError::NotARequest)? + start;
    let kind = unescape(&body[start..end])?;
    if kind.is_empty() || !body.contains("</arms-request>") {
        return Err(ParseError::NotARequest);
    }
    let distribution_id = element(body, "distribution-id")?.ok_or(ParseError::NoDistributionId)?;
    Ok(Request {
        kind,
        distribution_id,
        description: element(body, "description")?,
        trigger: element(body, "trigger")?,
        firmware_info: element(body, "firmware-info")?,
        protocol_version: element(body, "protocol-version")?,
        push_methods: elements(body, "push-method")?,
    })
}

/// A response read from the client: its answer to a request mpc sent down the tunnel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The `type` attribute of `<arms-response>`, e.g. `push-confirmation-done`.
    pub kind: String,
    /// The `<result-code>`, when it is a bare integer.
    pub result_code: Option<u16>,
}

/// Reads a client response.
///
/// # Errors
/// [`ParseError`] when the body is not an `<arms-message><arms-response type="…">` document.
pub fn parse_response(body: &str) -> Result<Response, ParseError> {
    if !body.is_ascii() {
        return Err(ParseError::InvalidText);
    }
    let open = "<arms-response type=\"";
    let start = body.find(open).ok_or(ParseError::NotARequest)? + open.len();
    if !body[..start].contains("<arms-message>") {
        return Err(ParseError::NotARequest);
    }
    let end = body[start..].find('"').ok_or(ParseError::NotARequest)? + start;
    let kind = unescape(&body[start..end])?;
    if kind.is_empty() || !body.contains("</arms-response>") {
        return Err(ParseError::NotARequest);
    }
    let result_code = element(body, "result-code")?.and_then(|c| {
        (!c.is_empty() && c.len() <= 3 && c.bytes().all(|b| b.is_ascii_digit()))
            .then(|| c.parse().ok())
            .flatten()
    });
    Ok(Response { kind, result_code })
}

/// The texts of every `<name>…</name>`, unescaped; at most eight.
fn elements(body: &str, name: &str) -> Result<Vec<String>, ParseError> {
    let mut found = Vec::new();
    let mut rest = body;
    while found.len() < 8 {
        let Some(text) = element(rest, name)? else {
            break;
        };
        let close = format!("</{name}>");
        let at = rest.find(&close).ok_or(ParseError::NotARequest)? + close.len();
        rest = &rest[at..];
        found.push(text);
    }
    Ok(found)
}

/// The text of the first `<name>…</name>`, unescaped.
fn element(body: &str, name: &str) -> Result<Option<String>, ParseError> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let Some(start) = body.find(&open).map(|i| i + open.len()) else {
        return Ok(None);
    };
    let end = body[start..].find(&close).ok_or(ParseError::NotARequest)? + start;
    unescape(&body[start..end]).map(Some)
}

fn unescape(text: &str) -> Result<String, ParseError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let semi = rest[i..].find(';').ok_or(ParseError::InvalidText)? + i;
        out.push(match &rest[i + 1..semi] {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => return Err(ParseError::InvalidText),
        });
        rest = &rest[semi + 1..];
    }
    if rest.contains('<') {
        return Err(ParseError::InvalidText);
    }
    out.push_str(rest);
    Ok(out)
}

/// Why a response could not be rendered without breaking the client's parser.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// Text that must go on the wire as is contains a non-ASCII character or a control
    /// character.
    #[error("{0} is not printable ASCII")]
    NotAscii(&'static str),
    /// The Location-Config would overflow the client's 2048-byte buffer.
    #[error("location config is {0} bytes, the client holds fewer than 2048")]
    LocationConfigTooLong(usize),
    /// A pre-shared key longer than 64 characters.
    #[error("key longer than 64 characters")]
    KeyTooLong,
}

fn escape(name: &'static str, text: &str, multiline: bool) -> Result<String, RenderError> {
    if !text
        .chars()
        .all(|c| c.is_ascii_graphic() || c == ' ' || (multiline && c == '\n'))
    {
        return Err(RenderError::NotAscii(name));
    }
    Ok(text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;"))
}

fn envelope(kind: &str, code: ResultCode, inner: &str) -> String {
    format!(
        "<arms-message><arms-response type=\"{kind}\"><result-code>{}</result-code>\
         <description>{}</description>{inner}</arms-response></arms-message>",
        code.code(),
        code.description()
    )
}

/// A response that carries only a result code: how mpc says "not now" or "not you".
///
/// `kind` is the request's type; the client ignores a mismatch, but it is echoed when known.
///
/// # Errors
/// [`RenderError::NotAscii`] if `kind` is not printable ASCII.
pub fn render_result(kind: &str, code: ResultCode) -> Result<String, RenderError> {
    Ok(envelope(&escape("type", kind, false)?, code, ""))
}

/// What the LS tells a device: where its RS is and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsSolicitation {
    /// The RS-SA key the device then uses as its RS Basic password.
    pub rs_key: String,
    /// The RS URLs (1 to 5), each `https://` with a numeric host.
    pub rs_urls: Vec<String>,
    /// The line block of the Location-Config, e.g. `line-dhcp {\n ifindex 1;\n};\n`.
    pub line_block: String,
    /// PEM of the CA that signed the RS certificate.
    pub rs_ca_pem: String,
}

/// Builds the Location-Config text: the line block and the RS CA.
///
/// # Errors
/// [`RenderError`] when the text is not ASCII or reaches the client's 2048-byte limit.
pub fn location_config(line_block: &str, rs_ca_pem: &str) -> Result<String, RenderError> {
    let mut text = String::from(line_block);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("rs-certificate {\n");
    text.push_str(rs_ca_pem.trim_end());
    text.push_str("\n};\n");
    let escaped = escape("location config", &text, true)?;
    if escaped.len() >= LOCATION_CONFIG_LIMIT {
        return Err(RenderError::LocationConfigTooLong(escaped.len()));
    }
    Ok(escaped)
}

/// Renders a successful `rs-solicitation` response.
///
/// # Errors
/// [`RenderError`] when a field would break the client's parser.
pub fn render_rs_solicitation(answer: &RsSolicitation) -> Result<String, RenderError> {
    if answer.rs_key.len() > KEY_LIMIT {
        return Err(RenderError::KeyTooLong);
    }
    let config = location_config(&answer.line_block, &answer.rs_ca_pem)?;
    let mut inner = format!(
        "<rs-solicitation-response><rs-preshared-key>{}</rs-preshared-key>\
         <ll-timeout>30</ll-timeout><rs-retry-max>2</rs-retry-max>\
         <rs-retry-interval>30</rs-retry-interval><lifetime>0</lifetime>",
        escape("rs key", &answer.rs_key, false)?
    );
    for (i, url) in answer.rs_urls.iter().take(5).enumerate() {
        inner.push_str("<rs-info><url>");
        inner.push_str(&escape("rs url", url, false)?);
        inner.push_str("</url><md-config>");
        // The client takes the line and the RS CA from the first rs-info only.
        if i == 0 {
            inner.push_str(&config);
        }
        inner.push_str("</md-config></rs-info>");
    }
    inner.push_str("</rs-solicitation-response>");
    Ok(envelope("rs-solicitation", ResultCode::Success, &inner))
}

/// What the RS delivers: the device's recipe as one module, and where to heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSolicitation {
    /// The module id the device's model expects its recipe under.
    pub module_id: u32,
    /// The module version string.
    pub module_version: String,
    /// The rendered recipe; any bytes, sent base64-encoded.
    pub config: Vec<u8>,
    /// The RS pull URLs (1 to 5); push-method-query goes there.
    pub rs_pull_urls: Vec<String>,
    /// Where heartbeats go, if anywhere: numeric host, port, passphrase, interval in seconds.
    pub heartbeat: Option<Heartbeat>,
}

/// One `heartbeat-info` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heartbeat {
    /// Numeric IP address.
    pub host: String,
    /// UDP port.
    pub port: u16,
    /// HMAC-SHA1 key.
    pub passphrase: String,
    /// Seconds between heartbeats.
    pub interval: u32,
}

/// Renders a successful `config-solicitation` response.
///
/// # Errors
/// [`RenderError`] when a field would break the client's parser.
pub fn render_config_solicitation(answer: &ConfigSolicitation) -> Result<String, RenderError> {
    let mut inner = String::from("<config-solicitation-response>");
    if let Some(hb) = &answer.heartbeat {
        inner.push_str(&format!(
            "<heartbeat-info><host>{}</host><port>{}</port><passphrase>{}</passphrase>\
             <interval>{}</interval><algorithm>hmac-sha1</algorithm></heartbeat-info>",
            escape("heartbeat host", &hb.host, false)?,
            hb.port,
            escape("heartbeat passphrase", &hb.passphrase, false)?,
            hb.interval
        ));
    }
    for url in answer.rs_pull_urls.iter().take(5) {
        inner.push_str("<rs-pull-server-url>");
        inner.push_str(&escape("rs pull url", url, false)?);
        inner.push_str("</rs-pull-server-url>");
    }
    // The module must come before its md-config, or the client rejects the response.
    inner.push_str(&format!(
        "<module id=\"{id}\" version=\"{}\">mpc-recipe</module>\
         <md-config id=\"{id}\" encoding=\"base64\">{}</md-config>",
        escape("module version", &answer.module_version, false)?,
        STANDARD.encode(&answer.config),
        id = answer.module_id
    ));
    inner.push_str("</config-solicitation-response>");
    Ok(envelope("config-solicitation", ResultCode::Success, &inner))
}

/// The push method mpc offers: the device keeps an HTTPS tunnel open to mpc, which works
/// behind NAT (brief §4.3). `https-simple` needs mpc to connect to the device and is not
/// offered.
pub const HTTPS_TUNNEL: &str = "https-tunnel";

/// Renders a successful `push-method-query` response: the HTTPS tunnel, where it is, and how
/// often the device echoes down it (brief §4.1). Never an empty method list: that makes the
/// client pull again at once, in a loop.
///
/// # Errors
/// [`RenderError::NotAscii`] for a tunnel URL that is not printable ASCII.
pub fn render_push_method_query(
    tunnel_url: &str,
    echo_interval: u32,
) -> Result<String, RenderError> {
    let inner = format!(
        "<push-method-query-response><push-method>{HTTPS_TUNNEL}</push-method>\
         <https-tunnel-url>{}</https-tunnel-url>\
         <https-tunnel-echo-interval>{echo_interval}</https-tunnel-echo-interval>\
         </push-method-query-response>",
        escape("tunnel url", tunnel_url, false)?
    );
    Ok(envelope("push-method-query", ResultCode::Success, &inner))
}

/// Renders the answer to `push-confirmation-start`: success and the transaction the
/// `push-confirmation-done` request then names (brief §4.2 step 2).
#[must_use]
pub fn render_push_confirmation_start(transaction_id: u32) -> String {
    let code = ResultCode::Success;
    format!(
        "<arms-message><arms-response type=\"push-confirmation-start\"><result-code>{}\
         </result-code><description>{}</description><transaction-id>{transaction_id}\
         </transaction-id></arms-response></arms-message>",
        code.code(),
        code.description()
    )
}

/// Renders the `push-confirmation-done` request mpc sends down the tunnel (brief §4.2 step 3,
/// §4.3 step 4).
#[must_use]
pub fn render_push_confirmation_done(
    distribution_id: DistributionId,
    transaction_id: u32,
) -> String {
    format!(
        "<arms-message><arms-request type=\"push-confirmation-done\"><distribution-id>\
         {distribution_id}</distribution-id><transaction-id>{transaction_id}</transaction-id>\
         </arms-request></arms-message>"
    )
}

/// Renders the `pull-config` request (brief §4.4): the device answers 100, then pulls its
/// configuration again from the RS.
#[must_use]
pub fn render_pull_config(distribution_id: DistributionId) -> String {
    format!(
        "<arms-message><arms-request type=\"pull-config\"><distribution-id>{distribution_id}\
         </distribution-id><pull-config-request><type>RS</type></pull-config-request>\
         </arms-request></arms-message>"
    )
}

/// Attributes the client's schema knows, per element (brief §1.4, §2.2).
fn allowed_attributes(element: &str) -> &'static [&'static str] {
    match element {
        "arms-response" | "arms-request" => &["type"],
        "module" => &["id", "version", "install-order"],
        "md-config" => &["id", "content-type", "commit-order", "encoding"],
        _ => &[],
    }
}

/// Checks a response against the client parser's rules (brief §1.4, §2.1): ASCII only, only
/// known attributes, bare integers, each Location-Config under 2048 bytes with lines of at
/// most 255 characters. The renderers keep them; tests check every response mpc sends.
///
/// # Errors
/// The first rule broken, in words.
pub fn check_parser_rules(xml: &str) -> Result<(), String> {
    if !xml.is_ascii() {
        return Err("non-ASCII text".into());
    }
    let mut rest = xml;
    while let Some(i) = rest.find('<') {
        let end = rest[i..].find('>').ok_or("an unclosed tag")? + i;
        let tag = &rest[i + 1..end];
        rest = &rest[end + 1..];
        if tag.starts_with('/') {
            continue;
        }
        let name = tag.split(' ').next().unwrap_or("");
        // Attributes are ` key="value"` pairs; values are escaped, so hold no quote.
        let mut attributes = &tag[name.len()..];
        while let Some(eq) = attributes.find("=\"") {
            let key = attributes[..eq].trim();
            if !allowed_attributes(name).contains(&key) {
                return Err(format!("attribute {key} on {name}"));
            }
            let close = attributes[eq + 2..]
                .find('"')
                .ok_or("an unclosed attribute")?
                + eq
                + 2;
            attributes = &attributes[close + 1..];
        }
        if !attributes.trim().is_empty() {
            return Err(format!("stray text in <{tag}>"));
        }
        let text = &rest[..rest.find('<').unwrap_or(rest.len())];
        if matches!(
            name,
            "result-code"
                | "ll-timeout"
                | "rs-retry-max"
                | "rs-retry-interval"
                | "lifetime"
                | "port"
                | "interval"
                | "transaction-id"
                | "push-port"
                | "push-timeout"
                | "https-tunnel-echo-interval"
        ) && (text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(format!("{name} is not a bare integer: {text:?}"));
        }
        if name == "md-config" && !tag.contains("encoding") {
            if text.len() >= LOCATION_CONFIG_LIMIT {
                return Err(format!("a location config of {} bytes", text.len()));
            }
            if text.lines().any(|line| line.len() > 255) {
                return Err("a location config line over 255 characters".into());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
