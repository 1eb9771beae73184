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
