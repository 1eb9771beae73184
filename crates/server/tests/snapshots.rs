//! Shapes pinned by snapshots, so that drift of the API shows in review: the OpenAPI document,
//! and one representative body of each kind (a contract, a termination quote, a request with
//! its decision, an invoice, a device), with ids and instants redacted.
//!
//! A missing or different snapshot fails the test (CI runs with `INSTA_UPDATE=no`). After an
//! intended change, review and accept the new `.snap` files (`cargo insta review`, or
//! `INSTA_UPDATE=always` and a look at `git diff`).

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{TestApp, created};
use mpc_storage::backend_tests;
use mpc_storage::testing::TestDb;
use serde_json::{Value, json};

/// `value` with every id and instant replaced by a placeholder: ids are made anew by every run
/// and instants come from the clock, so neither belongs to a shape.
fn redacted(value: &Value) -> Value {
    fn walk(key: &str, v: &Value) -> Value {
        let is_id = key == "id" || key.ends_with("_id") || key.ends_with("_ids");
        match v {
            Value::String(_) if is_id => Value::from("[id]"),
            Value::String(s) if s.parse::<jiff::Timestamp>().is_ok() => Value::from("[instant]"),
            Value::String(s) => Value::from(without_uuids(s)),
            Value::Array(items) => items.iter().map(|i| walk(key, i)).collect(),
            Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), walk(k, v))).collect(),
            other => other.clone(),
        }
    }
    walk("", value)
}

/// `s` with every UUID in it (say, the user in `decided_by`) replaced by `[id]`.
fn without_uuids(s: &str) -> String {
    const SHAPE: &[u8; 36] = b"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    let is_uuid = |b: &[u8]| {
        b.iter().zip(SHAPE).all(|(c, p)| {
            if *p == b'-' {
                *c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
    };
    let (bytes, mut out, mut i) = (s.as_bytes(), String::new(), 0);
    while i < bytes.len() {
        if bytes.len() - i >= SHAPE.len() && is_uuid(&bytes[i..i + SHAPE.len()]) {
            out.push_str("[id]");
            i += SHAPE.len();
        } else {
            let c = s[i..].chars().next().expect("i is on a char boundary");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// The body at `path`, answered 200 to the operator.
async fn body(app: &TestApp, path: &str) -> Value {
    let reply = app.get(path, &app.operator).await;
    assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
    reply.body
}

#[test]
fn the_openapi_document() {
    let doc = serde_json::to_value(mpc_server::openapi()).expect("the document is JSON");
    insta::assert_json_snapshot!("openapi", doc);
}

async fn representative_api_bodies(db: TestDb) {
    let app = TestApp::new(db).await;
    app.price_everything().await;
    let k = app
        .post(
            "/api/v1/contractors",
            &app.operator,
            json!({"name": "株式会社見本"}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (m, a) = app.eligible_setup(&k, "SEIL/X4", "2026-09-10").await;
    for c in [&m, &a] {
        let path = format!("/api/v1/contracts/{c}/billing-start");
        let r = app
            .post(&path, &app.operator, json!({"on": "2026-09-15"}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }

    // A request with its decision: a serial notified and accepted (R7.1).
    let serial = "X4-SNAP-1";
    let csv = format!("{serial},SEIL/X4,factory-secret-of-{serial}\n");
    let imported = app
        .request(
            Request::post("/api/v1/devices/inventory")
                .header("authorization", format!("Bearer {}", app.operator))
                .header("content-type", "text/csv")
                .body(Body::from(csv))
                .unwrap(),
        )
        .await;
    assert_eq!(imported.status, StatusCode::CREATED, "{}", imported.text);
    let notify = json!({"kind": "notify_serial", "contract_id": a, "serial": serial});
    let request = app.accepted(&k, notify, "2026-09-12").await;
    assert!(created(&request, "contract_created").is_empty());
    insta::assert_json_snapshot!("request_with_decision", redacted(&request));

    let contract = body(&app, &format!("/api/v1/contracts/{a}?as_of=2026-10-01")).await;
    insta::assert_json_snapshot!("contract_view", redacted(&contract));

    let quote = format!("/api/v1/contracts/{a}/termination-quote?notice_arrived_on=2026-12-01");
    insta::assert_json_snapshot!("termination_quote", redacted(&body(&app, &quote).await));

    let device = body(&app, &format!("/api/v1/devices/{serial}?as_of=2026-10-01")).await;
    insta::assert_json_snapshot!("device_view", redacted(&device));

    let run = app
        .post(
            "/api/v1/billing/runs",
            &app.operator,
            json!({"month": "2026-09"}),
        )
        .await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.text);
    let list = body(
        &app,
        &format!("/api/v1/invoices?month=2026-09&account_id={k}"),
    )
    .await;
    let id = list["invoices"][0]["id"]
        .as_str()
        .expect("an invoice")
        .to_owned();
    let invoice = body(&app, &format!("/api/v1/invoices/{id}")).await;
    insta::assert_json_snapshot!("invoice", redacted(&invoice));
}

async fn an_accepted_request_names_what_it_created_at_the_top_level(db: TestDb) {
    let app = TestApp::new(db).await;
    let k = app
        .post(
            "/api/v1/contractors",
            &app.operator,
            json!({"name": "株式会社作成"}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let on = "2026-04-01";
    let (m, a1) = app.eligible_setup(&k, "SA-W2L", on).await;
    let apply = json!({"kind": "apply_contract", "contract_kind": "service_adapter",
                       "item": "remote_access", "device_type": "SA-W2L", "management_id": m});
    let view = app.accepted(&k, apply, on).await;
    let a2 = created(&view, "contract_created");
    assert_eq!(a2.len(), 1, "{view}");
    assert_eq!(view["created"], json!({"contract_ids": a2}));
    // A SIM founding a packet share group creates the option and the group (R6.7, R9.6).
    let sim = json!({"kind": "add_option", "contract_id": a1, "option_kind": "mobile_access",
                     "usage_type": "packet_share", "network_type": "dynamic_ip",
                     "group": {"new_group_pack_gb": 100}});
    let view = app.accepted(&k, sim, on).await;
    assert_eq!(
        view["created"]["option_ids"],
        json!(created(&view, "option_created"))
    );
    assert_eq!(
        view["created"]["group_ids"],
        json!(created(&view, "group_created"))
    );
    assert!(view["created"].get("contract_ids").is_none());
    // What creates nothing names nothing.
    let group = view["created"]["group_ids"][0].clone();
    let stop = app
        .accepted(
            &k,
            json!({"kind": "stop_group", "group_id": group}),
            "2026-06-10",
        )
        .await;
    assert!(stop.get("created").is_none(), "{stop}");
}

backend_tests!(
    representative_api_bodies,
    an_accepted_request_names_what_it_created_at_the_top_level,
);
