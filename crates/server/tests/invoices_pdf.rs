//! Qualified invoices as they are handed out (B3): short numbers given at finalization, the
//! PDF (A4, one page for 20 lines, the header on every page, the totals never split, every B3
//! item in its text), drafts that contractors never see. The PDFs are checked with poppler's
//! `pdftoppm` and `pdftotext`, as a person would open them.

mod common;

use std::path::Path;
use std::process::Command;

use axum::http::{Method, StatusCode};
use common::TestApp;
use mpc_server::invoice_print::{PrintedInvoice, PrintedLine, PrintedRate, pdf, pdf_with_font};
use mpc_storage::backend_tests;
use mpc_storage::testing::TestDb;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------
// Looking at a PDF

/// How many pages `pdftoppm` renders from `bytes` (as PNG, at a low resolution).
fn rendered_pages(bytes: &[u8]) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("invoice.pdf");
    std::fs::write(&file, bytes).unwrap();
    let status = Command::new("pdftoppm")
        .args(["-png", "-r", "40"])
        .arg(&file)
        .arg(dir.path().join("page"))
        .status()
        .expect("pdftoppm (Debian's poppler-utils, installed by scripts/test)");
    assert!(status.success(), "pdftoppm failed");
    let pages = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "png")
        })
        .count();
    if let Ok(keep) = std::env::var("MPC_KEEP_INVOICE_PDF") {
        std::fs::copy(&file, Path::new(&keep)).unwrap();
    }
    pages
}

/// The text of page `page` (or all pages) as `pdftotext` extracts it, in drawing order, with
/// all white space removed, so that a phrase broken over two lines of a cell still reads whole.
fn text(bytes: &[u8], page: Option<usize>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("invoice.pdf");
    std::fs::write(&file, bytes).unwrap();
    let mut cmd = Command::new("pdftotext");
    cmd.arg("-raw").arg("-enc").arg("UTF-8");
    if let Some(p) = page {
        cmd.args(["-f", &p.to_string(), "-l", &p.to_string()]);
    }
    let out = cmd
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (Debian's poppler-utils, installed by scripts/test)");
    assert!(out.status.success(), "pdftotext failed");
    String::from_utf8(out.stdout)
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn assert_has(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(
            text.contains(&squeeze(needle)),
            "{needle} missing from the PDF text: {text}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Layout, from a printed invoice of n lines

/// A finalized invoice of `n` lines as the print shows them: monthly fees prorated, and one
/// early-termination charge, with the long descriptions real invoices have.
fn invoice_of_lines(n: usize) -> PrintedInvoice {
    let lines: Vec<PrintedLine> = (0..n)
        .map(|i| {
            let (description, period, amount) = if i == 3 {
                (
                    "最低利用期間内解除調定金 サービスアダプタ 月額費用（インターネットゲートウェイ / SEIL/X4） 2026/12/19〜2027/06/03".to_owned(),
                    "2026/12/19〜2027/06/03".to_owned(),
                    "¥16,258".to_owned(),
                )
            } else {
                (
                    format!(
                        "サービスアダプタ 月額費用（リモートアクセスVPNルータ / SA-W2L）（2026年12月分 日割 {}日/31日）",
                        13 + i % 10
                    ),
                    "2026/12/01〜2026/12/13".to_owned(),
                    "¥1,258".to_owned(),
                )
            };
            PrintedLine {
                description,
                contract: format!("{:08x}", 0x1a2b_3c00 + i),
                period,
                unit: "¥3,000".to_owned(),
                rate: "10%".to_owned(),
                amount,
            }
        })
        .collect();
    PrintedInvoice {
        draft: false,
        number: Some("I-000123".to_owned()),
        recipient: "株式会社請求先".to_owned(),
        month_label: "2026年12月".to_owned(),
        issue_date: Some("2027年1月1日".to_owned()),
        due_date: "2027年1月31日".to_owned(),
        issuer_name: "株式会社MPCネットワークス".to_owned(),
        issuer_registration: "T1234567890123".to_owned(),
        issuer_address: "東京都千代田区大手町1-1".to_owned(),
        issuer_phone: "03-1234-5678".to_owned(),
        bank_account: "みずほ銀行 大手町支店 普通 1234567 カ）エムピーシーネットワークス"
            .to_owned(),
        lines,
        rates: vec![PrintedRate {
            rate: 10,
            taxable: "¥41,418".to_owned(),
            tax: "¥4,141".to_owned(),
        }],
        subtotal: "¥41,418".to_owned(),
        tax: "¥4,141".to_owned(),
        total: "¥45,559".to_owned(),
    }
}

#[test]
fn b3_a_20_line_invoice_is_one_a4_page_with_every_qualified_invoice_item() {
    let bytes = pdf(&invoice_of_lines(20)).expect("the font is installed");
    assert!(bytes.starts_with(b"%PDF-"));
    assert_eq!(rendered_pages(&bytes), 1, "20 lines fit one page");
    let text = text(&bytes, None);
    assert_has(
        &text,
        &[
            "適格請求書",
            "株式会社MPCネットワークス",
            "登録番号 T1234567890123",
            "東京都千代田区大手町1-1",
            "TEL 03-1234-5678",
            "発行日 2027年1月1日",
            "請求書番号 I-000123",
            "株式会社請求先 御中",
            "10%対象 合計（税抜） ¥41,418",
            "消費税（10%） ¥4,141",
            "合計（税込） ¥45,559",
            "振込先 みずほ銀行 大手町支店 普通 1234567",
            "最低利用期間内解除調定金",
            "2026/12/19〜2027/06/03",
            "2026年12月分 日割 13日/31日",
            "1 / 1",
        ],
    );
    // The Japanese font is embedded (a subset), not referenced.
    let raw = String::from_utf8_lossy(&bytes);
    assert!(raw.contains("/FontFile2"), "an embedded TrueType font");
}

#[test]
fn b3_a_60_line_invoice_repeats_its_header_numbers_its_pages_and_keeps_the_totals_whole() {
    let invoice = invoice_of_lines(60);
    let bytes = pdf(&invoice).unwrap();
    let pages = rendered_pages(&bytes);
    assert!(pages > 1, "60 lines need more than one page");
    for page in 1..=pages {
        let text = text(&bytes, Some(page));
        assert_has(
            &text,
            &[
                "請求書番号 I-000123",
                "株式会社請求先 御中",
                "株式会社MPCネットワークス",
                "登録番号 T1234567890123",
                &format!("{page} / {pages}"),
            ],
        );
        let totals = [
            "小計（税抜）",
            "消費税（10%）",
            "合計（税込） ¥45,559",
            "振込先",
        ];
        if page == pages {
            assert_has(&text, &totals);
        } else {
            for t in totals.iter().skip(1) {
                assert!(
                    !text.contains(&squeeze(t)),
                    "{t} on page {page} of {pages}: the totals block is on the last page only"
                );
            }
        }
    }
    // Every line is printed once.
    let all = text(&bytes, None);
    for l in &invoice.lines {
        assert!(all.contains(&squeeze(&l.contract)), "{}", l.contract);
    }
}

#[test]
fn b3_a_missing_font_is_named_with_its_package() {
    let err = pdf_with_font(&invoice_of_lines(1), Path::new("/nonexistent/font.ttf")).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("/nonexistent/font.ttf"), "{message}");
    assert!(message.contains("fonts-ipaexfont-gothic"), "{message}");
}

// ---------------------------------------------------------------------------------------
// Through the API, on SQLite and PostgreSQL

/// A user of contractor `k` and its token.
async fn user_of(app: &TestApp, k: &str, username: &str) -> String {
    let u = app
        .post(
            &format!("/api/v1/contractors/{k}/users"),
            &app.operator,
            json!({ "username": username }),
        )
        .await;
    assert_eq!(u.status, StatusCode::CREATED, "{}", u.text);
    let t = app
        .post(
            &format!("/api/v1/users/{}/tokens", u.body["id"].as_str().unwrap()),
            &app.operator,
            json!({ "label": "test" }),
        )
        .await;
    t.body["secret"].as_str().unwrap().to_owned()
}

async fn bill(app: &TestApp, month: &str) {
    let r = app
        .post(
            "/api/v1/billing/runs",
            &app.operator,
            json!({ "month": month }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

async fn invoices(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/invoices?{query}"), token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["invoices"].as_array().unwrap().clone()
}

/// The PDF of invoice `id` as `token` downloads it.
async fn pdf_of(app: &TestApp, id: &str, token: &str) -> Vec<u8> {
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let req = axum::http::Request::builder()
        .uri(format!("/api/v1/invoices/{id}/pdf"))
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let res = app.router.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    res.into_body().collect().await.unwrap().to_bytes().to_vec()
}

async fn b3_the_pdf_of_an_issued_invoice_carries_every_qualified_invoice_item(db: TestDb) {
    let app = TestApp::new(db).await;
    app.price_everything().await;
    let issuer = app
        .call(
            Method::PUT,
            "/api/v1/issuer",
            Some(&app.operator),
            Some(json!({
                "name": "株式会社MPCネットワークス",
                "registration_number": "T1234567890123",
                "address": "東京都千代田区大手町1-1",
                "phone": "03-1234-5678",
                "bank_account": "みずほ銀行 大手町支店 普通 1234567 カ）エムピーシー",
            })),
        )
        .await;
    assert_eq!(issuer.status, StatusCode::OK, "{}", issuer.text);
    assert_eq!(issuer.body["phone"], "03-1234-5678");
    let (k, _, a) = app.billed_customer("株式会社請求先").await;
    let token = user_of(&app, &k, "seikyu").await;
    // The adapter's cancellation is accepted on 2026-12-01 to end 2026-12-18.
    app.accepted(
        &k,
        json!({"kind": "cancel_contract", "contract_id": a, "requested_on": "2026-12-18"}),
        "2026-12-01",
    )
    .await;
    bill(&app, "2026-12").await;

    // A draft: the operator sees it, unnumbered; the contractor does not see it at all.
    let drafts = invoices(&app, &app.operator, "month=2026-12").await;
    assert_eq!(drafts.len(), 1);
    assert_eq!(drafts[0]["number"], Value::Null);
    let id = drafts[0]["id"].as_str().unwrap().to_owned();
    assert!(invoices(&app, &token, "").await.is_empty(), "no drafts");
    for path in ["", "/pdf", "/print"] {
        app.get(&format!("/api/v1/invoices/{id}{path}"), &token)
            .await
            .assert_problem(404, "not_found");
    }
    let draft_pdf = pdf_of(&app, &id, &app.operator).await;
    let draft_text = text(&draft_pdf, None);
    assert_has(&draft_text, &["下書き"]);
    assert!(!draft_text.contains("発行日"), "a draft has no issue date");
    assert!(!draft_text.contains("I-0"), "a draft has no number");

    let fin = app
        .post(
            "/api/v1/billing/months/2026-12/finalize",
            &app.operator,
            json!({}),
        )
        .await;
    assert_eq!(fin.status, StatusCode::OK, "{}", fin.text);
    let issued = invoices(&app, &token, "").await;
    assert_eq!(issued.len(), 1, "the finalized invoice is the contractor's");
    assert_eq!(issued[0]["number"], "I-000001");
    let inv = app.get(&format!("/api/v1/invoices/{id}"), &token).await;
    assert_eq!(inv.status, StatusCode::OK, "{}", inv.text);
    let lines = inv.body["lines"].as_array().unwrap();
    // One early-termination line for the adapter, 2026-12-19 … 2027-09-14 (minimum period
    // from the billing start 2026-09-15, D2): Dec 19–31 = 13/31 → floor(3000 × 13 / 31) =
    // floor(1258.06) = ¥1,258; Jan–Aug 2027 = 8 × ¥3,000 = ¥24,000; Sep 1–14 = 14/30 →
    // ¥1,400. ¥1,258 + ¥24,000 + ¥1,400 = ¥26,658 over ten months.
    let et: Vec<&Value> = lines
        .iter()
        .filter(|l| l["kind"] == "early_termination")
        .collect();
    assert_eq!(et.len(), 1, "{}", inv.text);
    assert_eq!(et[0]["amount"], 26_658);
    assert_eq!(et[0]["period_from"], "2026-12-19");
    assert_eq!(et[0]["period_to"], "2027-09-14");
    let months = et[0]["breakdown"].as_array().unwrap();
    assert_eq!(months.len(), 10);
    assert_eq!(months[0]["amount"], 1_258);
    assert_eq!(
        (
            months[0]["days"].as_i64(),
            months[0]["days_in_month"].as_i64()
        ),
        (Some(13), Some(31))
    );
    assert_eq!(
        months
            .iter()
            .map(|m| m["amount"].as_i64().unwrap())
            .sum::<i64>(),
        26_658
    );
    // The adapter's December: 1–18 = 18/31 → floor(3000 × 18 / 31) = floor(1741.9) = ¥1,741.
    let december = lines
        .iter()
        .find(|l| l["contract_id"] == a.as_str() && l["kind"] == "monthly_fee")
        .unwrap();
    assert_eq!(december["amount"], 1_741);
    assert!(
        december["description"]
            .as_str()
            .unwrap()
            .contains("2026年12月分 日割 18日/31日"),
        "{december}"
    );

    let bytes = pdf_of(&app, &id, &token).await;
    assert_eq!(rendered_pages(&bytes), 1);
    let text = text(&bytes, None);
    let total = format!("¥{}", group(inv.body["total"].as_i64().unwrap()));
    let tax = format!("¥{}", group(inv.body["tax"].as_i64().unwrap()));
    assert_has(
        &text,
        &[
            "適格請求書",
            "株式会社MPCネットワークス",
            "登録番号 T1234567890123",
            "東京都千代田区大手町1-1",
            "TEL 03-1234-5678",
            "発行日 2027年1月1日",
            "請求書番号 I-000001",
            "株式会社請求先 御中",
            "10%対象 合計（税抜）",
            &format!("消費税（10%） {tax}"),
            &format!("合計（税込） {total}"),
            "振込先 みずほ銀行 大手町支店 普通 1234567",
            "最低利用期間内解除調定金",
            "2026/12/19〜2027/09/14",
            "¥26,658",
            "2026年12月分 日割 18日/31日",
        ],
    );
    // The contract column tells the management from the adapter by their contract numbers.
    let contracts: std::collections::BTreeSet<&str> = lines
        .iter()
        .map(|l| l["contract_id"].as_str().unwrap())
        .collect();
    let labels: std::collections::BTreeSet<&str> = lines
        .iter()
        .map(|l| l["contract_number"].as_str().unwrap())
        .collect();
    assert_eq!(labels.len(), contracts.len(), "one number per contract");
    for label in &labels {
        assert!(label.starts_with("C-0000"), "{label}");
        assert!(text.contains(label), "{label}");
    }

    // The number is on the CSV and finds the invoice.
    let csv = app
        .get("/api/v1/billing/months/2026-12/lines.csv", &app.operator)
        .await;
    assert!(
        csv.text.lines().skip(1).all(|l| l.starts_with("I-000001,")),
        "{}",
        csv.text
    );
}

/// `26658` → `26,658`.
fn group(n: i64) -> String {
    mpc_domain::money::Yen(n)
        .to_string()
        .trim_start_matches('¥')
        .to_owned()
}

async fn b3_months_finalized_at_once_on_two_nodes_get_distinct_consecutive_numbers(db: TestDb) {
    let app = TestApp::new(db).await;
    app.price_everything().await;
    for name in ["株式会社一", "株式会社二", "株式会社三"] {
        app.billed_customer(name).await;
    }
    bill(&app, "2026-10").await;
    bill(&app, "2026-11").await;
    let node = app.node(&mpc_server::ServerConfig::default()).await;
    let finalize = |month: &str| {
        axum::http::Request::builder()
            .method(Method::POST)
            .uri(format!("/api/v1/billing/months/{month}/finalize"))
            .header("authorization", format!("Bearer {}", app.operator))
            .header("content-type", "application/json")
            .body(axum::body::Body::from("{}"))
            .unwrap()
    };
    let (october, november) = tokio::join!(
        app.request(finalize("2026-10")),
        app.request_to(&node, finalize("2026-11")),
    );
    assert_eq!(october.status, StatusCode::OK, "{}", october.text);
    assert_eq!(november.status, StatusCode::OK, "{}", november.text);
    let mut numbers = Vec::new();
    for month in ["2026-10", "2026-11"] {
        let list = invoices(&app, &app.operator, &format!("month={month}")).await;
        assert_eq!(list.len(), 3);
        let mut serials: Vec<i64> = list
            .iter()
            .map(|i| {
                let n = i["number"].as_str().expect("numbered");
                mpc_domain::invoice::parse_number(n).unwrap()
            })
            .collect();
        serials.sort();
        // A month's invoices take one block of numbers.
        assert_eq!(serials[2] - serials[0], 2, "{serials:?}");
        numbers.extend(serials);
    }
    numbers.sort();
    assert_eq!(
        numbers,
        (1..=6).collect::<Vec<_>>(),
        "no number shared or skipped"
    );
    // A later month continues the sequence.
    bill(&app, "2026-12").await;
    app.post(
        "/api/v1/billing/months/2026-12/finalize",
        &app.operator,
        json!({}),
    )
    .await;
    let mut december: Vec<String> = invoices(&app, &app.operator, "month=2026-12")
        .await
        .iter()
        .map(|i| i["number"].as_str().unwrap().to_owned())
        .collect();
    december.sort();
    assert_eq!(december, ["I-000007", "I-000008", "I-000009"]);
}

backend_tests!(
    b3_the_pdf_of_an_issued_invoice_carries_every_qualified_invoice_item,
    b3_months_finalized_at_once_on_two_nodes_get_distinct_consecutive_numbers
);
