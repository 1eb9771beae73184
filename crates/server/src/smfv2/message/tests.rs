//! Golden tests of the messages against the brief's captures and its parser rules.

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
