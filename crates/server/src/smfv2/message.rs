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
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DISTID: &str = "0001-0000-0000-0001-0000-0000-0000-0001";

    // The captures of the SMFv2 brief, §2.1 and §2.2.
    const RS_SOLICITATION: &str = "<arms-message><arms-request type=\"rs-solicitation\"><distribution-id>0001-0000-0000-0001-0000-0000-0000-0001</distribution-id><description>mpc smfv2 test</description><rs-solicitation-request><trigger>power on boot</trigger></rs-solicitation-request></arms-request></arms-message>";
    const CONFIG_SOLICITATION: &str = "<arms-message><arms-request type=\"config-solicitation\"><distribution-id>0001-0000-0000-0001-0000-0000-0000-0001</distribution-id><description>mpc smfv2 test</description><config-solicitation-request><protocol-version>4.0</protocol-version><trigger>power on boot</trigger><firmware-info>Version 5.33</firmware-info></config-solicitation-request></arms-request></arms-message>";

    // §4.1 and §4.3 step 4 (the tunnel's start request has no endpoint).
    const PUSH_METHOD_QUERY: &str = "<arms-message><arms-request type=\"push-method-query\"><distribution-id>0001-0000-0000-0001-0000-0000-0000-0001</distribution-id><description>mpc smfv2 test</description><push-method-query-request><push-method>https-simple</push-method><push-method>https-tunnel</push-method></push-method-query-request></arms-request></arms-message>";
    const TUNNEL_START: &str = "<arms-message><arms-request type=\"push-confirmation-start\"><distribution-id>0001-0000-0000-0001-0000-0000-0000-0001</distribution-id><description>mpc smfv2 test</description><push-confirmation-start-request><push-method>https-tunnel</push-method></push-confirmation-start-request></arms-request></arms-message>";
    // §4.2 step 4: the device's answer to push-confirmation-done.
    const DONE_RESPONSE: &str = "<arms-message><arms-response type=\"push-confirmation-done\"><result-code>100</result-code><description>Success</description><push-confirmation-done-response></push-confirmation-done-response></arms-response></arms-message>";

    const PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n";

    #[test]
    fn reads_the_captured_rs_solicitation() {
        let request = parse_request(RS_SOLICITATION).unwrap();
        assert_eq!(request.kind, "rs-solicitation");
        assert_eq!(request.distribution_id, DISTID);
        assert_eq!(request.description.as_deref(), Some("mpc smfv2 test"));
        assert_eq!(request.trigger.as_deref(), Some("power on boot"));
        assert_eq!(request.firmware_info, None);
    }

    #[test]
    fn reads_the_captured_config_solicitation() {
        let request = parse_request(CONFIG_SOLICITATION).unwrap();
        assert_eq!(request.kind, "config-solicitation");
        assert_eq!(request.distribution_id, DISTID);
        assert_eq!(request.protocol_version.as_deref(), Some("4.0"));
        assert_eq!(request.firmware_info.as_deref(), Some("Version 5.33"));
    }

    #[test]
    fn reads_the_push_requests_and_the_devices_answer() {
        let query = parse_request(PUSH_METHOD_QUERY).unwrap();
        assert_eq!(query.kind, "push-method-query");
        assert_eq!(query.push_methods, ["https-simple", "https-tunnel"]);
        let start = parse_request(TUNNEL_START).unwrap();
        assert_eq!(start.kind, "push-confirmation-start");
        assert_eq!(start.push_methods, [HTTPS_TUNNEL]);
        assert_eq!(
            parse_response(DONE_RESPONSE).unwrap(),
            Response {
                kind: "push-confirmation-done".into(),
                result_code: Some(100)
            }
        );
        let odd = DONE_RESPONSE.replace(">100<", ">100 <");
        assert_eq!(parse_response(&odd).unwrap().result_code, None);
        assert_eq!(
            parse_response(RS_SOLICITATION),
            Err(ParseError::NotARequest)
        );
    }

    #[test]
    fn renders_the_push_answers_and_requests_as_the_brief_shows() {
        let id = DistributionId::parse(DISTID).unwrap();
        let rendered = [
            render_push_method_query("https://127.0.0.1:8444/tunnel.cgi", 60).unwrap(),
            render_push_confirmation_start(4242),
            render_push_confirmation_done(id, 4242),
            render_pull_config(id),
        ];
        assert_eq!(
            rendered,
            [
                // §4.1
                "<arms-message><arms-response type=\"push-method-query\"><result-code>100</result-code>\
                 <description>Success</description><push-method-query-response>\
                 <push-method>https-tunnel</push-method>\
                 <https-tunnel-url>https://127.0.0.1:8444/tunnel.cgi</https-tunnel-url>\
                 <https-tunnel-echo-interval>60</https-tunnel-echo-interval>\
                 </push-method-query-response></arms-response></arms-message>",
                // §4.2 step 2
                "<arms-message><arms-response type=\"push-confirmation-start\"><result-code>100</result-code>\
                 <description>Success</description><transaction-id>4242</transaction-id>\
                 </arms-response></arms-message>",
                // §4.2 step 3
                "<arms-message><arms-request type=\"push-confirmation-done\"><distribution-id>\
                 0001-0000-0000-0001-0000-0000-0000-0001</distribution-id>\
                 <transaction-id>4242</transaction-id></arms-request></arms-message>",
                // §4.4
                "<arms-message><arms-request type=\"pull-config\"><distribution-id>\
                 0001-0000-0000-0001-0000-0000-0000-0001</distribution-id><pull-config-request>\
                 <type>RS</type></pull-config-request></arms-request></arms-message>",
            ]
        );
        for xml in &rendered {
            assert_parser_rules(xml);
        }
    }

    #[test]
    fn distribution_ids_read_and_write_the_brief_form() {
        let id = DistributionId::parse(DISTID).unwrap();
        assert_eq!(id.to_string(), DISTID);
        // The heartbeat's 0x0011 value for this id (brief §3).
        assert_eq!(
            hex::encode(id.to_bytes()),
            "00010000000000010000000000000001"
        );
        for bad in [
            "0001-0000-0000-0001-0000-0000-0000",
            "0001-0000-0000-0001-0000-0000-0000-000a",
            "0001-0000-0000-0001-0000-0000-0000-00001",
            "0001-0000-0000-0001-0000-0000-0000-+001",
        ] {
            assert_eq!(
                DistributionId::parse(bad),
                Err(ParseError::InvalidText),
                "{bad}"
            );
        }
    }

    #[test]
    fn refuses_what_is_not_a_request() {
        assert_eq!(parse_request("<html/>"), Err(ParseError::NotARequest));
        let no_id = "<arms-message><arms-request type=\"x\"></arms-request></arms-message>";
        assert_eq!(parse_request(no_id), Err(ParseError::NoDistributionId));
        let bad = RS_SOLICITATION.replace("power on", "power \u{e9}");
        assert_eq!(parse_request(&bad), Err(ParseError::InvalidText));
    }

    #[test]
    fn renders_the_rs_solicitation_as_the_brief_shows() {
        let answer = RsSolicitation {
            rs_key: "RS-SA-KEY".into(),
            rs_urls: vec!["https://127.0.0.1:8444/rs.cgi".into()],
            line_block: "line-dhcp {\n ifindex 1;\n};\n".into(),
            rs_ca_pem: PEM.into(),
        };
        assert_eq!(
            render_rs_solicitation(&answer).unwrap(),
            "<arms-message><arms-response type=\"rs-solicitation\"><result-code>100</result-code>\
             <description>Success</description><rs-solicitation-response>\
             <rs-preshared-key>RS-SA-KEY</rs-preshared-key><ll-timeout>30</ll-timeout>\
             <rs-retry-max>2</rs-retry-max><rs-retry-interval>30</rs-retry-interval>\
             <lifetime>0</lifetime><rs-info><url>https://127.0.0.1:8444/rs.cgi</url>\
             <md-config>line-dhcp {\n ifindex 1;\n};\nrs-certificate {\n\
             -----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n};\n\
             </md-config></rs-info></rs-solicitation-response></arms-response></arms-message>"
        );
    }

    #[test]
    fn renders_the_config_solicitation_with_the_module_before_its_config() {
        let answer = ConfigSolicitation {
            module_id: 1,
            module_version: "5.33".into(),
            config: b"hostname: mpc-test\n".to_vec(),
            rs_pull_urls: vec!["https://127.0.0.1:8444/rs.cgi".into()],
            heartbeat: Some(Heartbeat {
                host: "127.0.0.1".into(),
                port: 5555,
                passphrase: "HB-SECRET".into(),
                interval: 3,
            }),
        };
        assert_eq!(
            render_config_solicitation(&answer).unwrap(),
            "<arms-message><arms-response type=\"config-solicitation\"><result-code>100</result-code>\
             <description>Success</description><config-solicitation-response>\
             <heartbeat-info><host>127.0.0.1</host><port>5555</port><passphrase>HB-SECRET</passphrase>\
             <interval>3</interval><algorithm>hmac-sha1</algorithm></heartbeat-info>\
             <rs-pull-server-url>https://127.0.0.1:8444/rs.cgi</rs-pull-server-url>\
             <module id=\"1\" version=\"5.33\">mpc-recipe</module>\
             <md-config id=\"1\" encoding=\"base64\">aG9zdG5hbWU6IG1wYy10ZXN0Cg==</md-config>\
             </config-solicitation-response></arms-response></arms-message>"
        );
    }

    #[test]
    fn not_yet_is_a_retry_code() {
        for code in [
            ResultCode::ServerBusy,
            ResultCode::AuthenticationFailure,
            ResultCode::DistributionIdNotFound,
            ResultCode::ConfigurationNotFound,
            ResultCode::DistributionIdMismatch,
        ] {
            // 3xx and 4xx make the client retry; 2xx and 5xx make it give up (brief §2.3).
            assert!((300..500).contains(&code.code()));
        }
        assert_eq!(
            render_result("config-solicitation", ResultCode::ConfigurationNotFound).unwrap(),
            "<arms-message><arms-response type=\"config-solicitation\"><result-code>421</result-code>\
             <description>Configuration not found</description></arms-response></arms-message>"
        );
    }

    #[test]
    fn refuses_a_location_config_the_client_cannot_hold() {
        let pem = "A".repeat(LOCATION_CONFIG_LIMIT);
        assert!(matches!(
            location_config("line-dhcp {\n ifindex 1;\n};\n", &pem),
            Err(RenderError::LocationConfigTooLong(_))
        ));
    }

    #[track_caller]
    fn assert_parser_rules(xml: &str) {
        if let Err(e) = check_parser_rules(xml) {
            panic!("{e}: {xml}");
        }
    }

    proptest! {
        #[test]
        fn rendered_config_solicitations_keep_the_parser_rules(
            config in proptest::collection::vec(any::<u8>(), 0..4096),
            version in "[ -~]{0,16}",
            passphrase in "[ -~]{1,64}",
            module_id in 1u32..100,
            interval in 1u32..3600,
        ) {
            let answer = ConfigSolicitation {
                module_id,
                module_version: version,
                config: config.clone(),
                rs_pull_urls: vec!["https://127.0.0.1:8444/rs.cgi".into()],
                heartbeat: Some(Heartbeat { host: "127.0.0.1".into(), port: 5555, passphrase, interval }),
            };
            let xml = render_config_solicitation(&answer).unwrap();
            assert_parser_rules(&xml);
            let start = xml.find("encoding=\"base64\">").unwrap() + 18;
            let end = xml[start..].find('<').unwrap() + start;
            prop_assert_eq!(STANDARD.decode(&xml[start..end]).unwrap(), config);
        }

        #[test]
        fn rendered_rs_solicitations_keep_the_parser_rules_or_refuse(
            key in "[ -~]{1,64}",
            body in "[A-Za-z0-9+/=\n]{0,2100}",
        ) {
            let answer = RsSolicitation {
                rs_key: key,
                rs_urls: vec!["https://127.0.0.1:8444/rs.cgi".into()],
                line_block: "line-dhcp {\n ifindex 1;\n};\n".into(),
                rs_ca_pem: format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----"),
            };
            match render_rs_solicitation(&answer) {
                Ok(xml) => assert_parser_rules(&xml),
                Err(error) => prop_assert!(matches!(error, RenderError::LocationConfigTooLong(_))),
            }
        }

        #[test]
        fn rendered_push_messages_keep_the_parser_rules(
            bytes in any::<[u8; 16]>(),
            transaction in 1u32..=i32::MAX as u32,
            port in 1u16..,
            echo in 1u32..3600,
        ) {
            let id = DistributionId(bytes);
            let url = format!("https://127.0.0.1:{port}/tunnel.cgi");
            assert_parser_rules(&render_push_method_query(&url, echo).unwrap());
            assert_parser_rules(&render_push_confirmation_start(transaction));
            assert_parser_rules(&render_push_confirmation_done(id, transaction));
            assert_parser_rules(&render_pull_config(id));
        }

        #[test]
        fn distribution_ids_round_trip(bytes in any::<[u8; 16]>()) {
            let id = DistributionId(bytes);
            prop_assert_eq!(DistributionId::parse(&id.to_string()), Ok(id));
        }

        #[test]
        fn parsing_survives_any_input(body in "\\PC{0,300}") {
            let _ = parse_request(&body);
            let _ = parse_response(&body);
        }
    }
}
