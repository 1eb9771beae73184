//! Issue 15, "fuzzed inputs never panic or answer 5xx": arbitrary input to the JSON and CSV
//! extractors, the usage-line parsers, the device headers, query strings, the console's sign-in
//! form and the recipe renderer.
//!
//! Each property runs `PROPTEST_CASES` cases (256 by default, a few seconds); for a longer run
//! set it higher, e.g. `PROPTEST_CASES=10000 cargo test -p mpc-server --test fuzz`. The
//! properties that send requests do so on SQLite and on PostgreSQL. A panic in a handler is
//! caught by the server and answered 500, so "no 5xx" also means "no panic".

mod common;

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request};
use common::{Reply, TestApp};
use mpc_domain::catalog::{DeviceType, Item, NetworkType};
use mpc_domain::preset::{MobileSettings, PresetParams, render};
use mpc_storage::Backend;
use mpc_storage::testing::TestDb;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

/// The runner of every property: `PROPTEST_CASES` cases (default 256), no files written.
fn runner() -> TestRunner {
    TestRunner::new(Config {
        failure_persistence: None,
        ..Config::default()
    })
}

/// Text that reaches the interesting corners: dates at and past the business range, numbers
/// at the edges, Japanese, control characters, quotes and commas, long runs.
fn nasty_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        2 => prop::sample::select(vec![
            "", " ", "null", "0000-01-01", "1900-01-01", "2000-01-01", "2026-02-29", "2026-04-01",
            "2099-12-31", "2100-01-01", "9999-12-31", "-0001-01-01", "9999-12", "2026-13",
            "2026-04-01T10:00:00+09:00", "9999-12-31T23:59:59Z", "-9999-01-01T00:00:00Z",
            "18446744073709551616", "-1", "1e309", "NaN", "株式会社テスト", "\u{0}", "\"", ",",
            "\r\n", "SEIL/X4", "SA-W2L", "SEIL CA10", "internet_gateway", "management",
            "service_adapter", "cancel_contract", "report_failure", "pending", "plan_10gb",
        ])
        .prop_map(str::to_owned),
        1 => ("[a-zA-Z0-9 ,\"]{0,8}", 0usize..6000).prop_map(|(s, n)| s.repeat(n.min(6000 / (s.len() + 1)))),
    ]
}

/// An arbitrary JSON value whose keys are mostly the API's own field names.
fn json_value() -> impl Strategy<Value = Value> {
    let keys = prop::sample::select(vec![
        "name",
        "request",
        "kind",
        "contract_id",
        "contract_kind",
        "item",
        "device_type",
        "management_id",
        "option_id",
        "option_kind",
        "usage_type",
        "network_type",
        "group",
        "requested_on",
        "submitted_on",
        "accept",
        "on",
        "replaced_on",
        "replacement_serial",
        "description",
        "serial",
        "from",
        "reason",
        "install_address",
        "termination",
        "username",
        "label",
        "display_name",
        "pack_gb",
        "x",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        nasty_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..6).prop_map(|kv| Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
            )),
        ]
    })
}

/// A JSON body: a value as JSON, that text cut or spliced, or arbitrary bytes.
fn json_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => json_value().prop_map(|v| v.to_string().into_bytes()),
        // Duplicate keys and truncations are what `serde_json::Value` would hide or refuse.
        2 => (json_value(), nasty_text()).prop_map(|(v, k)| {
            let k = serde_json::to_string(&k).unwrap_or_default();
            format!(r#"{{{k}: 1, {k}: {v}, "name": {v}}}"#).into_bytes()
        }),
        1 => (json_value(), any::<prop::sample::Index>()).prop_map(|(v, i)| {
            let text = v.to_string().into_bytes();
            let cut = i.index(text.len() + 1);
            text[..cut].to_vec()
        }),
        1 => prop::collection::vec(any::<u8>(), 0..256),
    ]
}

/// A CSV or NDJSON body: lines of fields drawn from [`nasty_text`], sometimes with a header.
fn csv_body() -> impl Strategy<Value = String> {
    let line = prop::collection::vec(nasty_text(), 0..8).prop_map(|f| f.join(","));
    (
        prop::sample::select(vec![
            "",
            "serial,model,factory_secret\n",
            "record_id,iccid,start,end,bytes_up,bytes_down\n",
            "bytes_down,bytes_up,end,start,iccid,record_id\n",
        ]),
        prop::collection::vec(
            prop_oneof![line, json_value().prop_map(|v| v.to_string())],
            0..8,
        ),
    )
        .prop_map(|(header, lines)| format!("{header}{}", lines.join("\n")))
}

/// Sends one request; fails the case on a 5xx.
async fn send(app: &TestApp, req: Request<Body>) -> Result<Reply, TestCaseError> {
    let what = format!("{} {}", req.method(), req.uri());
    let reply = app.request(req).await;
    prop_assert!(
        !reply.status.is_server_error(),
        "{what} answered {}: {}",
        reply.status,
        reply.text
    );
    Ok(reply)
}

fn with_body(
    method: Method,
    path: &str,
    token: &str,
    content_type: &str,
    body: impl Into<Body>,
) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", content_type)
        .body(body.into())
        .unwrap()
}

/// A contractor with a management, an SA-W2L adapter, a pending request and an inventory
/// device: ids for bodies to name. Returns (app, contractor, adapter, pending request).
async fn set_up(backend: Backend) -> (TestApp, String, String, String) {
    let app = TestApp::new(TestDb::new(backend).await).await;
    let (k, _, _) = app.contractor_with_user("株式会社ファズ", "fuzz").await;
    let (_, adapter) = app.eligible_setup(&k, "SA-W2L", "2026-04-01").await;
    let pending = app
        .post(
            &format!("/api/v1/contractors/{k}/requests"),
            &app.operator,
            json!({"request": {"kind": "report_loss", "contract_id": adapter}, "submitted_on": "2026-04-02"}),
        )
        .await;
    let pending = pending.body["id"].as_str().unwrap_or_default().to_owned();
    let csv = "serial,model,factory_secret\nFUZZ0001,SA-W2L,0123456789abcdef0123\n";
    app.request(with_body(
        Method::POST,
        "/api/v1/devices/inventory",
        &app.operator,
        "text/csv",
        csv,
    ))
    .await;
    (app, k, adapter, pending)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn json_bodies_never_answer_5xx() {
    let rt = runtime();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let (app, k, adapter, pending) = rt.block_on(set_up(backend));
        let paths = vec![
            (Method::POST, "/api/v1/contractors".to_owned()),
            (Method::PATCH, format!("/api/v1/contractors/{k}")),
            (Method::POST, format!("/api/v1/contractors/{k}/requests")),
            (Method::POST, format!("/api/v1/contractors/{k}/users")),
            (Method::POST, format!("/api/v1/requests/{pending}/accept")),
            (Method::POST, format!("/api/v1/requests/{pending}/reject")),
            (
                Method::POST,
                format!("/api/v1/contracts/{adapter}/billing-start"),
            ),
            (
                Method::PUT,
                "/api/v1/mobile/sims/8981100000000000001".to_owned(),
            ),
            (
                Method::POST,
                "/api/v1/mobile/sims/8981100000000000001/throttle".to_owned(),
            ),
        ];
        let strategy = (prop::sample::select(paths), json_body());
        let mut runner = runner();
        runner
            .run(&strategy, |((method, path), body)| {
                rt.block_on(async {
                    send(
                        &app,
                        with_body(method, &path, &app.operator, "application/json", body),
                    )
                    .await?;
                    Ok(())
                })
            })
            .unwrap();
        eprintln!("{backend:?}: {} JSON bodies, no 5xx", runner.config().cases);
    }
}

#[test]
fn csv_and_ndjson_bodies_never_answer_5xx() {
    let rt = runtime();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let (app, ..) = rt.block_on(set_up(backend));
        let targets = vec![
            ("/api/v1/devices/inventory", "text/csv"),
            ("/api/v1/mobile/usage", "text/csv"),
            ("/api/v1/mobile/usage", "application/x-ndjson"),
        ];
        let strategy = (prop::sample::select(targets), csv_body());
        let mut runner = runner();
        runner
            .run(&strategy, |((path, content_type), body)| {
                rt.block_on(async {
                    send(
                        &app,
                        with_body(Method::POST, path, &app.operator, content_type, body),
                    )
                    .await?;
                    Ok(())
                })
            })
            .unwrap();
        eprintln!(
            "{backend:?}: {} CSV/NDJSON bodies, no 5xx",
            runner.config().cases
        );
    }
}

#[test]
fn usage_and_inventory_parsers_never_panic() {
    let mut runner = runner();
    runner
        .run(&csv_body(), |text| {
            let _ = mpc_storage::mobile::parse_csv(&text);
            let _ = mpc_storage::mobile::parse_ndjson(&text);
            let _ = mpc_storage::controller::parse_inventory(&text);
            Ok(())
        })
        .unwrap();
    eprintln!("{} texts parsed", runner.config().cases);
}

/// Header values as a device (or anyone) could send them: visible ASCII and obs-text bytes.
fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        nasty_text().prop_map(String::into_bytes),
        prop::collection::vec(
            prop_oneof![0x20u8..0x7f, 0x80u8..=0xff, Just(b'\t')],
            0..128
        ),
        Just(b"FUZZ0001".to_vec()),
    ]
}

#[test]
fn device_headers_never_answer_5xx() {
    let rt = runtime();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let (app, ..) = rt.block_on(set_up(backend));
        let names = [
            "x-mpc-serial",
            "x-mpc-timestamp",
            "x-mpc-nonce",
            "x-mpc-signature",
            "x-mpc-revision",
            "if-none-match",
            "content-type",
        ];
        let strategy = (
            prop::sample::select(vec![
                (Method::GET, "/device/v1/config"),
                (Method::POST, "/device/v1/status"),
            ]),
            prop::collection::vec((prop::sample::select(names.to_vec()), header_value()), 0..8),
            json_body(),
        );
        let mut runner = runner();
        runner
            .run(&strategy, |((method, path), headers, body)| {
                let mut req = Request::builder().method(method).uri(path);
                for (name, value) in headers {
                    if let Ok(value) = HeaderValue::from_bytes(&value) {
                        req = req.header(name, value);
                    }
                }
                let req = req.body(Body::from(body)).unwrap();
                rt.block_on(async {
                    send(&app, req).await?;
                    Ok(())
                })
            })
            .unwrap();
        eprintln!(
            "{backend:?}: {} device requests, no 5xx",
            runner.config().cases
        );
    }
}

/// Preset parameters: an item's defaults with a few leaves replaced, half the time by a value
/// of the kind the field holds (an address, a small number) so that many still render.
fn preset_params() -> impl Strategy<Value = Value> {
    let defaults: Vec<Value> = Item::ALL
        .iter()
        .map(|item| serde_json::to_value(PresetParams::default_for(*item)).unwrap())
        .collect();
    let plausible = prop_oneof![
        (0u8..=255, 0u8..=255).prop_map(|(a, b)| json!(format!("192.168.{a}.{b}"))),
        (0u8..=33).prop_map(|p| json!(format!("10.0.0.0/{p}"))),
        (0i64..70_000).prop_map(Value::from),
        any::<bool>().prop_map(Value::Bool),
        "[a-z0-9.-]{0,20}".prop_map(Value::String),
    ];
    let value = prop_oneof![plausible, json_value()];
    (
        prop::sample::select(defaults),
        prop::collection::vec((any::<prop::sample::Index>(), value), 0..3),
    )
        .prop_map(|(mut params, changes)| {
            for (at, value) in changes {
                let mut leaves = Vec::new();
                collect_leaves(&params, String::new(), &mut leaves);
                if leaves.is_empty() {
                    break;
                }
                let path = leaves[at.index(leaves.len())].clone();
                if path != "/preset"
                    && let Some(slot) = params.pointer_mut(&path)
                {
                    *slot = value;
                }
            }
            params
        })
}

fn collect_leaves(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => m
            .iter()
            .for_each(|(k, v)| collect_leaves(v, format!("{at}/{k}"), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, v)| collect_leaves(v, format!("{at}/{i}"), out)),
        _ => out.push(at),
    }
}

#[test]
fn the_recipe_renderer_never_panics() {
    let strategy = (
        preset_params(),
        prop::sample::select(DeviceType::ALL.to_vec()),
        prop::option::weighted(0.3, (nasty_text(), nasty_text(), nasty_text())),
        prop_oneof![3 => Just("router-1".to_owned()), 1 => nasty_text()],
    );
    let mut runner = runner();
    let rendered = std::cell::Cell::new(0u32);
    runner
        .run(&strategy, |(params, device, mobile, hostname)| {
            let Ok(params) = serde_json::from_value::<PresetParams>(params) else {
                return Ok(());
            };
            let mobile = mobile.map(|(apn, id, password)| MobileSettings {
                apn,
                id,
                password,
                network_type: NetworkType::DynamicIp,
            });
            if render(&params, device, mobile.as_ref(), &hostname).is_ok() {
                rendered.set(rendered.get() + 1);
            }
            Ok(())
        })
        .unwrap();
    eprintln!(
        "{} presets tried, {} rendered",
        runner.config().cases,
        rendered.get()
    );
}

#[test]
fn query_strings_never_answer_5xx() {
    let rt = runtime();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let (app, k, adapter, _) = rt.block_on(set_up(backend));
        let paths = vec![
            "/api/v1/requests?status=".to_owned(),
            format!("/api/v1/contractors/{k}/requests?status="),
            format!("/api/v1/contracts/{adapter}?as_of="),
            format!("/api/v1/contracts/{adapter}/termination-quote?notice_arrived_on="),
            format!("/api/v1/contracts/{adapter}/termination-quote?requested_on="),
            format!("/api/v1/contracts/{adapter}/mobile-usage?month="),
            "/api/v1/mobile/throttles?at=".to_owned(),
            "/api/v1/devices/monitoring?state=".to_owned(),
            "/api/v1/devices/monitoring?model=".to_owned(),
            "/api/v1/contractors?limit=".to_owned(),
            "/api/v1/contractors?name=".to_owned(),
            "/api/v1/journal?before=".to_owned(),
        ];
        let strategy = (prop::sample::select(paths), nasty_text());
        let mut runner = runner();
        runner
            .run(&strategy, |(path, value)| {
                let encoded: String = value
                    .bytes()
                    .take(2048)
                    .map(|b| format!("%{b:02X}"))
                    .collect();
                let req = Request::get(format!("{path}{encoded}"))
                    .header("authorization", format!("Bearer {}", app.operator))
                    .body(Body::empty())
                    .unwrap();
                rt.block_on(async {
                    send(&app, req).await?;
                    Ok(())
                })
            })
            .unwrap();
        eprintln!(
            "{backend:?}: {} query strings, no 5xx",
            runner.config().cases
        );
    }
}

#[test]
fn console_sign_in_forms_never_answer_5xx() {
    let rt = runtime();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let (app, ..) = rt.block_on(set_up(backend));
        let strategy = (nasty_text(), nasty_text(), 0u8..=255);
        // Each try not throttled costs an argon2 hash (tens of milliseconds, on purpose): an
        // eighth of the cases keeps the default run to a few seconds.
        let config = runner().config().clone();
        let mut runner = TestRunner::new(Config {
            cases: (config.cases / 8).max(1),
            ..config
        });
        runner
            .run(&strategy, |(username, password, address)| {
                let encode = |s: &str| -> String {
                    s.bytes().take(4096).map(|b| format!("%{b:02X}")).collect()
                };
                let req = Request::post("/console/login")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("x-forwarded-for", format!("198.51.100.{address}"))
                    .body(Body::from(format!(
                        "username={}&password={}",
                        encode(&username),
                        encode(&password)
                    )))
                    .unwrap();
                rt.block_on(async {
                    send(&app, req).await?;
                    Ok(())
                })
            })
            .unwrap();
        eprintln!(
            "{backend:?}: {} sign-in forms, no 5xx",
            runner.config().cases
        );
    }
}
