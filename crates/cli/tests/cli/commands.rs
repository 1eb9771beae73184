//! The commands as a user first meets them: help, accounts, simulation, serving, the demo
//! data set and one-line errors.

use crate::support::*;

#[test]
fn version_and_help() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mpc.db");
    let v = mpc(&db, &["--version"]);
    assert!(v.status.success());
    assert_eq!(stdout(&v), format!("mpc {}", env!("CARGO_PKG_VERSION")));
    let help = mpc(&db, &["--help"]);
    for word in ["serve", "migrate", "user", "token", "--database-url"] {
        assert!(stdout(&help).contains(word), "{word}");
    }
    assert!(!db.exists(), "--help touches no database");
}

#[test]
fn migrate_then_manage_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mpc.db");
    let m = mpc(&db, &["migrate"]);
    assert!(m.status.success(), "{}", stderr(&m));
    assert!(db.exists());

    let c = mpc(&db, &["contractor", "create", "--name", "株式会社テスト"]);
    assert!(c.status.success(), "{}", stderr(&c));
    let contractor = stdout(&c);
    let u = mpc(
        &db,
        &[
            "user",
            "create",
            "--username",
            "tanaka",
            "--role",
            "contractor",
            "--contractor",
            &contractor,
        ],
    );
    assert!(u.status.success(), "{}", stderr(&u));
    let t = mpc(&db, &["token", "create", "--username", "tanaka"]);
    assert!(t.status.success(), "{}", stderr(&t));
    let secret = stdout(&t);
    assert!(secret.starts_with("mpc_") && secret.len() == 68, "{secret}");

    let users = stdout(&mpc(&db, &["user", "list"]));
    assert!(users.contains("tanaka\tcontractor\t"), "{users}");
    let contractors = stdout(&mpc(&db, &["contractor", "list"]));
    assert!(contractors.contains("株式会社テスト"));
}

#[test]
fn simulate_setup_makes_notified_devices_in_contractors_of_the_size_asked() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mpc.db");
    let fleet = dir.path().join("fleet.csv");
    let setup = mpc(
        &db,
        &[
            "simulate",
            "--setup",
            "5",
            "--per-contractor",
            "2",
            "--duration",
            "0",
            "--inventory-file",
            fleet.to_str().unwrap(),
        ],
    );
    assert!(setup.status.success(), "{}", stderr(&setup));
    assert!(
        stdout(&setup).contains("created 5 devices"),
        "{}",
        stdout(&setup)
    );
    let text = std::fs::read_to_string(&fleet).unwrap();
    let serials: Vec<&str> = text.lines().filter_map(|l| l.split(',').next()).collect();
    assert_eq!(serials.len(), 5);
    // 2 + 2 + 1 adapters, each contractor under its own management.
    let contractors = mpc(&db, &["contractor", "list"]);
    assert_eq!(
        stdout(&contractors).lines().count(),
        3,
        "{}",
        stdout(&contractors)
    );
    for serial in serials {
        // Each serial was notified to an adapter (R7.1).
        let shown = mpc(&db, &["device", "show", serial]);
        assert!(shown.status.success(), "{serial}: {}", stderr(&shown));
        let view: serde_json::Value = serde_json::from_str(&stdout(&shown)).unwrap();
        assert!(view["contract_id"].is_string(), "{view}");
    }
}

#[test]
fn errors_are_one_line_and_exit_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mpc.db");
    let cases: [&[&str]; 5] = [
        &[
            "user",
            "create",
            "--username",
            "Bad Name",
            "--role",
            "operator",
        ],
        &[
            "user",
            "create",
            "--username",
            "someone",
            "--role",
            "contractor",
            "--contractor",
            "missing",
        ],
        &["token", "create", "--username", "nobody"],
        &["token", "revoke", "no-such-token"],
        &["--database-url", "mysql://x", "migrate"],
    ];
    for args in cases {
        let o = mpc(&db, args);
        assert!(!o.status.success(), "{args:?}");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("mpc: error: "), "{args:?}: {err}");
    }
    let taken = mpc(
        &db,
        &["user", "create", "--username", "ops", "--role", "operator"],
    );
    assert!(taken.status.success());
    let again = mpc(
        &db,
        &["user", "create", "--username", "ops", "--role", "operator"],
    );
    assert!(
        stderr(&again).contains("\"ops\" is taken"),
        "{}",
        stderr(&again)
    );
}

/// The README's first command: serve on a new embedded database, print the first operator's
/// token once, answer, and stop cleanly on SIGTERM.
#[test]
fn serve_bootstraps_answers_and_shuts_down_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mpc.db");
    let server = start(&db);
    let addr = server.addr.clone();
    let (clean, output) = server.stop();
    assert!(clean, "graceful shutdown exits 0");
    assert!(
        TcpStream::connect(&addr).is_err(),
        "nothing listens after shutdown"
    );
    assert!(output.contains("/api/docs"), "{output}");
    let token = output
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("mpc_"))
        .unwrap_or_else(|| panic!("first start prints the operator's token: {output}"))
        .to_owned();

    // The token works on the next start, which prints no token.
    let server = start(&db);
    let reply = http_get(&server.addr, "/api/v1/me", Some(&token));
    assert!(
        reply.starts_with("HTTP/1.1 200") && reply.contains("\"username\":\"admin\""),
        "{reply}"
    );
    let (clean, output) = server.stop();
    assert!(clean);
    assert!(!output.contains("mpc_"), "{output}");
}

#[test]
fn demo_seed_and_contract_commands() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mpc.db");
    let seeded = mpc(&db, &["demo", "seed", "--today", "2026-11-24"]);
    assert!(seeded.status.success(), "{}", stderr(&seeded));
    assert!(stdout(&seeded).contains("10 service adapters"));
    let again = mpc(&db, &["demo", "seed"]);
    assert!(!again.status.success());

    let (minato, contracts) = demo_contracts(&db, "みなと");
    let contracts = contracts.as_array().unwrap();
    assert_eq!(contracts.len(), 6, "a management and five adapters");
    // Every adapter of みなと商事 has its serial and may fetch its configuration.
    assert!(
        contracts
            .iter()
            .filter(|c| c["kind"] == "service_adapter")
            .all(|c| c["provisioning"]["provisionable"] == true)
    );
    let x4 = contracts
        .iter()
        .find(|c| c["device_type"] == "SEIL/X4" && c["item"] == "internet_gateway")
        .unwrap();
    assert_eq!(
        x4["serial"], "X4-24A0-00188",
        "the replacement took over (R11.1)"
    );

    // Quote: notice arriving 2026-12-01 → ends 2026-12-15 (R13.1).
    let id = x4["id"].as_str().unwrap();
    let quote = mpc(
        &db,
        &[
            "contract",
            "quote",
            id,
            "--notice-arrived-on",
            "2026-12-01",
            "--json",
        ],
    );
    let quote: serde_json::Value = serde_json::from_slice(&quote.stdout).unwrap();
    assert_eq!(quote["end_on"], "2026-12-15");
    // Without --json, the same quote as a summary in yen: the last day, each line's amount
    // and the total, grouped by thousands.
    let summary = mpc(
        &db,
        &["contract", "quote", id, "--notice-arrived-on", "2026-12-01"],
    );
    let summary = String::from_utf8(summary.stdout).unwrap();
    assert!(
        summary.contains("last day         2026-12-15 (R13.1)"),
        "{summary}"
    );
    let yen = |v: &serde_json::Value| mpc_domain::money::Yen(v.as_i64().unwrap()).to_string();
    for line in quote["early_termination_lines"].as_array().unwrap() {
        assert!(summary.contains(&yen(&line["amount"])), "{line}\n{summary}");
    }
    // The demo prices SEIL/X4 internet gateway at ¥6,000 a month; its minimum period runs to
    // 2027-05-03, so the charge is 16/31 of December, January to April whole, 3/31 of May (R15.1,
    // D7): floor(6000 × 16 / 31) = 3,096; 4 × 6,000 = 24,000; floor(6000 × 3 / 31) = 580;
    // 3,096 + 24,000 + 580 = ¥27,676.
    assert_eq!(quote["early_termination_charge"], 27_676, "{quote}");
    assert!(
        summary.contains("      ¥3,096  2026-12-16..2026-12-31"),
        "{summary}"
    );
    assert!(summary.contains("     ¥27,676  total"), "{summary}");

    // A refusal is one line naming the rule (R6.5: mobile access only on SA-W2L).
    let refused = mpc(
        &db,
        &[
            "request",
            "submit",
            "--contractor",
            &minato,
            "--accept",
            "--json",
            &format!(
                r#"{{"kind": "add_option", "contract_id": "{id}", "option_kind": "mobile_access", "usage_type": "standard", "network_type": "dynamic_ip"}}"#
            ),
        ],
    );
    assert!(!refused.status.success());
    let err = stderr(&refused);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("mpc: error: R6.5: "), "{err}");
}

/// Issue 15: dates outside the business dates (2000-01-01 to 2099-12-31) given as flags are
/// refused with a one-line message, like any other bad input, before anything is written.
#[test]
fn dates_outside_the_business_dates_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mpc.db");
    assert!(mpc(&db, &["migrate"]).status.success());
    let cases: [&[&str]; 5] = [
        &["demo", "seed", "--today", "9999-12-31"],
        &["mobile", "throttles", "--at", "2100-01-01T00:00:00+09:00"],
        &["device", "show", "X1", "--as-of", "1900-01-01"],
        &[
            "request",
            "submit",
            "--contractor",
            "k",
            "--json",
            r#"{"kind": "cancel_contract", "contract_id": "c", "requested_on": "0000-01-01"}"#,
        ],
        &["request", "accept", "r", "--on", "9999-12-31"],
    ];
    for args in cases {
        let o = mpc(&db, args);
        assert!(!o.status.success(), "{args:?}");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains("2000-01-01 to 2099-12-31"), "{args:?}: {err}");
    }
}

/// `mpc smfv2 ca init` then `mpc serve --smfv2-listen …`: the listener starts beside the HTTP
/// server, says it allows TLS 1.0, and stops with it.
#[test]
fn smfv2_ca_init_and_serve() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mpc.db");
    let certs = dir.path().join("smfv2");
    let certs_arg = certs.to_str().unwrap();
    let init = mpc(
        &db,
        &[
            "smfv2",
            "ca",
            "init",
            "--dir",
            certs_arg,
            "--name",
            "127.0.0.1",
        ],
    );
    assert!(init.status.success(), "{}", stderr(&init));
    assert!(
        stdout(&init).contains("server-key.pem"),
        "{}",
        stdout(&init)
    );
    let again = mpc(&db, &["smfv2", "ca", "init", "--dir", certs_arg]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("never overwrites"),
        "{}",
        stderr(&again)
    );

    let mut server = start_at(
        &sqlite_url(&db),
        &[
            ("MPC_SMFV2_LISTEN", "127.0.0.1:0"),
            ("MPC_SMFV2_DIR", certs_arg),
        ],
    );
    let mut seen = Vec::new();
    let token = loop {
        let line = server.lines.next().unwrap().unwrap();
        seen.push(line.clone());
        if line.trim().starts_with("mpc_") {
            break line.trim().to_owned();
        }
    };
    // A unit imported with its identity, its RS key and passphrase left to be generated.
    let distid = "0001-0000-0000-0001-0000-0000-0000-0007";
    let csv = format!("X4-CLI,SEIL/X4,0123456789abcdef,{distid},ls-key-cli-0001,,\n");
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    write!(
        stream,
        "POST /api/v1/devices/inventory HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: text/csv\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{csv}",
        server.addr,
        csv.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let (clean, output) = server.stop();
    assert!(clean, "graceful shutdown exits 0");
    let output = format!("{}\n{output}", seen.join("\n"));
    let line = output
        .lines()
        .find(|l| l.contains("SMFv2:"))
        .unwrap_or_else(|| panic!("no SMFv2 line: {output}"));
    assert!(line.contains("TLS 1.0 to 1.2 allowed"), "{line}");
    assert!(line.contains("/rs.cgi"), "{line}");
    assert!(line.contains("push tunnel at https://"), "{line}");
    assert!(line.contains("/tunnel.cgi"), "{line}");

    // The keys, once.
    let shown = mpc(&db, &["smfv2", "reveal", "X4-CLI"]);
    assert!(shown.status.success(), "{}", stderr(&shown));
    let row = stdout(&shown).lines().nth(1).unwrap().to_owned();
    let fields: Vec<&str> = row.split('\t').collect();
    assert_eq!(fields[..2], [distid, "ls-key-cli-0001"], "{row}");
    assert_eq!(fields[2].len(), 32, "a generated RS key: {row}");
    let again = mpc(&db, &["smfv2", "reveal", "X4-CLI"]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("shown once"), "{}", stderr(&again));
    let none = mpc(&db, &["smfv2", "reveal", "X4-NONE"]);
    assert!(
        stderr(&none).contains("no SMFv2 identity"),
        "{}",
        stderr(&none)
    );
}

/// `request accept` without `--on` takes the API's default day: a cancellation's notice
/// arrived the day the request was submitted, not the day it is accepted.
#[test]
fn accepting_a_cancellation_without_a_day_dates_its_notice_to_its_submission() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mpc.db");
    let seeded = mpc(&db, &["demo", "seed", "--today", "2026-11-24"]);
    assert!(seeded.status.success(), "{}", stderr(&seeded));
    let (minato, contracts) = demo_contracts(&db, "みなと");
    let contract = contracts
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "service_adapter" && c["ending"].is_null())
        .unwrap();
    let id = contract["id"].as_str().unwrap();
    let number = contract["number"].as_str().unwrap();
    // What a notice arriving on the day of submission would end on (R13.1).
    let quote = mpc(
        &db,
        &[
            "contract",
            "quote",
            id,
            "--notice-arrived-on",
            "2026-11-25",
            "--json",
        ],
    );
    let quote: serde_json::Value = serde_json::from_slice(&quote.stdout).unwrap();
    let submitted = mpc(
        &db,
        &[
            "request",
            "submit",
            "--contractor",
            &minato,
            "--submitted-on",
            "2026-11-25",
            "--json",
            // Named by its number, as the API takes it.
            &format!(r#"{{"kind": "cancel_contract", "contract_id": "{number}"}}"#),
        ],
    );
    assert!(submitted.status.success(), "{}", stderr(&submitted));
    let request = stdout(&submitted);
    let request = request.split('\t').next().unwrap();
    // `request preview` shows the same end before anything is accepted, on the same default day.
    let preview = mpc(&db, &["request", "preview", request]);
    assert!(preview.status.success(), "{}", stderr(&preview));
    let preview: serde_json::Value = serde_json::from_slice(&preview.stdout).unwrap();
    assert_eq!(preview["on"], "2026-11-25", "{preview}");
    let ends = preview["decision"]["effects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["effect"] == "contract_ends")
        .unwrap();
    assert_eq!(ends["ending"]["on"], quote["end_on"], "{preview}");
    let accepted = mpc(&db, &["request", "accept", request]);
    assert!(accepted.status.success(), "{}", stderr(&accepted));
    assert!(
        stdout(&accepted).ends_with("\taccepted"),
        "{}",
        stdout(&accepted)
    );

    let shown = mpc(&db, &["contract", "show", id, "--as-of", "2026-11-25"]);
    let view: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(view["ending"]["notice_arrived_on"], "2026-11-25", "{view}");
    // The contract ends where the quote for that day said (R13.1).
    assert_eq!(view["ending"]["on"], quote["end_on"], "{view}\n{quote}");
}

#[test]
fn search_finds_by_part_of_a_serial_and_pages_one_kind() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mpc.db");
    let seeded = mpc(&db, &["demo", "seed", "--today", "2026-11-24"]);
    assert!(seeded.status.success(), "{}", stderr(&seeded));
    let found = mpc(&db, &["search", "24a0"]);
    assert!(found.status.success(), "{}", stderr(&found));
    let out = stdout(&found);
    assert!(out.starts_with("devices: 5 of 5"), "{out}");
    assert!(
        out.contains("X4-24A0-00101\tSEIL/X4\t株式会社みなと商事"),
        "{out}"
    );
    let exact = stdout(&mpc(&db, &["search", "x4-24a0-00101"]));
    assert!(exact.starts_with("exact\tdevice\tX4-24A0-00101"), "{exact}");
    let json = mpc(&db, &["search", "24A0", "--kind", "device", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["devices"]["total"], 5);
    assert_eq!(v["contractors"]["total"], 0);
    let nothing = stdout(&mpc(&db, &["search", "%"]));
    assert_eq!(nothing, "nothing matches \"%\"");
    // A full contract number opens the contract; its hit line starts with the number.
    let numbered = stdout(&mpc(&db, &["search", "c-1"]));
    assert!(numbered.starts_with("exact\tcontract\t"), "{numbered}");
    assert!(numbered.contains("\n  C-000001\t"), "{numbered}");
    let bad = mpc(&db, &["search", "   "]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("invalid_field"), "{}", stderr(&bad));
}

/// Every contract command takes the contract number as the console shows it, and `contract
/// label` names the site (checked as the API checks it).
#[test]
fn contract_commands_take_the_contract_number() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mpc.db");
    let seeded = mpc(&db, &["demo", "seed", "--today", "2026-11-24"]);
    assert!(seeded.status.success(), "{}", stderr(&seeded));
    let (_, contracts) = demo_contracts(&db, "みなと");
    let contract = contracts
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "service_adapter" && c["ending"].is_null())
        .unwrap();
    let id = contract["id"].as_str().unwrap();
    let number = contract["number"].as_str().unwrap();
    assert!(number.starts_with("C-0000"), "{number}");
    assert!(
        !contract["label"].as_str().unwrap().is_empty(),
        "demo site names"
    );

    let labelled = mpc(
        &db,
        &["contract", "label", &number.to_lowercase(), "  本社ビル "],
    );
    assert!(labelled.status.success(), "{}", stderr(&labelled));
    assert_eq!(stdout(&labelled), format!("{number}\t本社ビル"));
    let digits = number.trim_start_matches("C-");
    let shown = mpc(&db, &["contract", "show", digits, "--as-of", "2026-11-25"]);
    assert!(shown.status.success(), "{}", stderr(&shown));
    let view: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(
        (view["id"].as_str(), view["label"].as_str()),
        (Some(id), Some("本社ビル"))
    );
    let quote = mpc(&db, &["contract", "quote", number, "--json"]);
    assert!(quote.status.success(), "{}", stderr(&quote));
    let quote: serde_json::Value = serde_json::from_slice(&quote.stdout).unwrap();
    assert_eq!(quote["contract_id"], id);
    assert_eq!(quote["contract_number"], number);
    // People read the number in the summary.
    let summary = stdout(&mpc(&db, &["contract", "quote", number]));
    assert!(
        summary.starts_with(&format!("contract {number}\n")),
        "{summary}"
    );

    let long = "x".repeat(61);
    let refused = mpc(&db, &["contract", "label", number, &long]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("invalid_field"),
        "{}",
        stderr(&refused)
    );
    let unreadable = mpc(&db, &["contract", "show", "C-12x"]);
    assert!(!unreadable.status.success());
    assert!(
        stderr(&unreadable).contains("invalid_contract")
            && stderr(&unreadable).contains("C-000123"),
        "{}",
        stderr(&unreadable)
    );
}

/// The demo fleet stays alive while the server runs: the devices seeded UP keep calling home
/// after their seeded heartbeats, so they are still UP long after the DOWN delay (3 s here);
/// the one seeded DOWN stays DOWN.
#[test]
fn serve_keeps_the_demo_devices_seeded_up_beating() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mpc.db");
    let seeded = mpc(&db, &["demo", "seed"]);
    assert!(seeded.status.success(), "{}", stderr(&seeded));
    let mut server = start_at(&sqlite_url(&db), &[("MPC_DOWN_AFTER_SECS", "3")]);
    let mut printed = Vec::new();
    for line in server.lines.by_ref() {
        let line = line.unwrap();
        let done = line.contains("Demo:");
        printed.push(line);
        if done {
            break;
        }
    }
    let token = printed
        .iter()
        .map(|l| l.trim())
        .find(|l| l.starts_with("mpc_"))
        .unwrap_or_else(|| panic!("no operator token in {printed:?}"))
        .to_owned();
    // Twice the DOWN delay: without more heartbeats every device would be DOWN by now.
    std::thread::sleep(std::time::Duration::from_secs(6));
    let reply = http_get(&server.addr, "/api/v1/devices/monitoring", Some(&token));
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let state_of = |serial: &str| {
        let at = reply
            .find(&format!("\"serial\":\"{serial}\""))
            .unwrap_or_else(|| panic!("{serial} missing: {reply}"));
        let rest = &reply[at..];
        let state = rest.find("\"state\":\"").unwrap() + "\"state\":\"".len();
        rest[state..].split('"').next().unwrap().to_owned()
    };
    for serial in ["X4-24A0-00102", "CA10-24B1-00201", "W2L-24C2-00302"] {
        assert_eq!(state_of(serial), "up", "{serial}");
    }
    assert_eq!(
        state_of("CA10-24B1-00403"),
        "down",
        "seeded DOWN, stays DOWN"
    );
    assert_eq!(state_of("W2L-24C2-00402"), "never_connected");
    let (clean, _) = server.stop();
    assert!(clean);
}

/// A database without the demo's devices beats nothing and says nothing about it.
#[test]
fn serve_without_demo_devices_beats_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mpc.db");
    let server = start(&db);
    let (clean, output) = server.stop();
    assert!(clean);
    assert!(!output.contains("Demo:"), "{output}");
}
