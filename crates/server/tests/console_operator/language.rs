//! One language a page: invoice lines, error pages and problem codes in the page's language.

use crate::support::*;

/// Whether `s` holds kana or kanji.
fn has_japanese(s: &str) -> bool {
    s.chars()
        .any(|c| ('\u{3040}'..='\u{30ff}').contains(&c) || ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// The text of the cells of the first column of the invoice's lines table.
fn line_texts(html: &str) -> Vec<String> {
    let body = html
        .split("<tbody>")
        .nth(1)
        .and_then(|b| b.split("</tbody>").next())
        .unwrap_or_default();
    body.split("<tr>")
        .skip(1)
        .filter_map(|row| {
            let cell = row.split("<td>").nth(1)?;
            Some(cell.split("</td>").next()?.to_owned())
        })
        .collect()
}

async fn invoice_lines_read_in_the_page_language(db: TestDb) {
    let app = TestApp::new(db).await;
    let (k, _, _) = app.billed_customer("株式会社言語").await;
    app.price_everything().await;
    let run = app
        .post(
            "/api/v1/billing/runs",
            &app.operator,
            json!({"month": "2026-09"}),
        )
        .await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.text);
    let list = app
        .get(
            &format!("/api/v1/invoices?month=2026-09&account_id={k}"),
            &app.operator,
        )
        .await;
    let id = list.body["invoices"][0]["id"].as_str().unwrap().to_owned();

    let ja = sign_in(&app, "admin", false).await;
    let html = ja.page(&format!("/console/invoices/{id}")).await;
    let lines = line_texts(&html);
    // Initial fees (3) and the monthly fees of 09-15…30 (3), as the invoice prints them.
    assert_eq!(lines.len(), 6, "{html}");
    assert!(
        lines.iter().all(|l| has_japanese(l) && !l.contains("fee")),
        "{lines:?}"
    );
    assert!(
        lines.contains(
            &"サービスアダプタ 月額費用（インターネットゲートウェイルータ / SEIL/X4）（2026年9月分 日割 16日/30日）"
                .to_owned()
        ),
        "{lines:?}"
    );

    let en = sign_in(&app, "admin", true).await;
    let html = en.page(&format!("/console/invoices/{id}")).await;
    let lines = line_texts(&html);
    assert_eq!(lines.len(), 6, "{html}");
    assert!(lines.iter().all(|l| !has_japanese(l)), "{lines:?}");
    assert!(
        lines.contains(
            &"Service adapter, monthly fee (Internet gateway router / SEIL/X4) (September 2026, prorated 16 of 30 days)"
                .to_owned()
        ),
        "{lines:?}"
    );
    // The qualified invoice itself stays Japanese whatever the reader's language (B3).
    let print = en.page(&format!("/console/invoices/{id}/print")).await;
    assert!(print.contains("マネージメント 月額費用（2026年9月分 日割 16日/30日）"));
    assert!(!print.contains("Management, monthly fee"));
}

async fn error_pages_keep_the_menu_and_name_codes_as_codes(db: TestDb) {
    let app = TestApp::new(db).await;
    for (english, t) in [(false, &JA), (true, &EN)] {
        let op = sign_in(&app, "admin", english).await;
        for path in ["/console/contractors/no-such-one", "/console/no-such-page"] {
            let reply = op.get(path).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
            let html = &reply.text;
            // The base layout with the operator's menu, in the page's language.
            for expected in [t.nav_queue, t.nav_billing, t.not_found, t.error_code] {
                assert!(html.contains(expected), "{path}: {expected}: {html}");
            }
            assert!(html.contains("<code>not_found</code>"), "{html}");
            assert!(
                !html.contains(t.rule),
                "{path}: a code is not a rule: {html}"
            );
        }
    }
    // A rule refusal keeps its rule's id labelled as the rule: no issuer yet (B3).
    let op = sign_in(&app, "admin", false).await;
    let csrf = op.csrf().await;
    app.billed_customer("株式会社規定").await;
    let refused = op
        .post(
            "/console/billing/runs",
            &[("csrf", &csrf), ("month", "2026-09")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .text
            .contains(&format!("{}: <code>B3</code>", JA.rule)),
        "{}",
        refused.text
    );
    assert!(!refused.text.contains(JA.error_code), "{}", refused.text);
}

/// The `<li>`s of the contract page's timeline.
fn timeline_of(html: &str) -> Vec<String> {
    let list = html
        .split(r#"<ol class="timeline">"#)
        .nth(1)
        .and_then(|l| l.split("</ol>").next())
        .unwrap_or_default();
    list.split("<li>")
        .skip(1)
        .map(|li| li.split("</li>").next().unwrap_or_default().to_owned())
        .collect()
}

async fn the_contract_timeline_lists_business_events_by_effective_date(db: TestDb) {
    let app = TestApp::new(db).await;
    // Applied and accepted 2026-09-10 with send-back, billed from 2026-09-15.
    let (k, _, a) = app.billed_customer("株式会社経緯").await;
    app.accepted(
        &k,
        json!({"kind": "notify_serial", "contract_id": a, "serial": "X4-TL-1"}),
        "2026-09-16",
    )
    .await;
    // A failure reported and accepted on 2026-10-20, the replacement brought two days later.
    let report = app
        .post(
            &format!("/api/v1/contractors/{k}/requests"),
            &app.operator,
            json!({
                "request": {"kind": "report_failure", "contract_id": a, "description": "電源が入らない"},
                "submitted_on": "2026-10-20",
            }),
        )
        .await;
    assert_eq!(report.status, StatusCode::CREATED, "{}", report.text);
    let accepted = app
        .post(
            &format!("/api/v1/requests/{}/accept", report.body["id"].as_str().unwrap()),
            &app.operator,
            json!({"on": "2026-10-20", "replacement_serial": "X4-TL-2", "replaced_on": "2026-10-22"}),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
    app.accepted(
        &k,
        json!({"kind": "cancel_contract", "contract_id": a, "requested_on": "2026-12-31"}),
        "2026-11-02",
    )
    .await;

    let ja = sign_in(&app, "admin", false).await;
    let events = timeline_of(&ja.page(&format!("/console/contracts/{a}")).await);
    let expected = [
        ("2026年9月10日", JA.tl_applied.to_owned()),
        ("2026年9月10日", JA.tl_accepted.to_owned()),
        (
            "2026年9月10日",
            format!("{}: ウルトラセンドバックオプション", JA.tl_option_added),
        ),
        ("2026年9月15日", JA.tl_billing_start.to_owned()),
        (
            "2026年9月16日",
            format!("{}: X4-TL-1", JA.tl_serial_notified),
        ),
        // The failure replacement takes effect when the replacement takes over (R11.1).
        ("2026年10月22日", JA.tl_failure_replaced.to_owned()),
        ("2026年11月2日", JA.tl_cancellation_notified.to_owned()),
        (
            "2026年12月31日",
            format!("{}: ウルトラセンドバックオプション", JA.tl_option_ended),
        ),
        (
            "2026年12月31日",
            format!("{}: {}", JA.tl_ended, JA.end_notice),
        ),
    ];
    assert_eq!(events.len(), expected.len(), "{events:#?}");
    for (event, (on, what)) in events.iter().zip(&expected) {
        assert!(
            event.starts_with(&format!("<time>{on}</time> — {what} ")),
            "{event} ≠ {on} {what}"
        );
    }
    // Who did it, by username: the operator for what the operator accepted, the option's and
    // the contract's ends included (the cancellation ended both, R13.2).
    for i in [1, 7, 8] {
        assert!(
            events[i].contains(&format!("{}: admin)", JA.tl_by)),
            "{}",
            events[i]
        );
    }

    let en = sign_in(&app, "admin", true).await;
    let events = timeline_of(&en.page(&format!("/console/contracts/{a}")).await);
    assert_eq!(events.len(), expected.len(), "{events:#?}");
    assert!(
        events[0].starts_with(&format!("<time>10 Sep 2026</time> — {} ", EN.tl_applied)),
        "{}",
        events[0]
    );
    assert!(
        events[2].contains(&format!("{}: Ultra send-back option", EN.tl_option_added)),
        "{}",
        events[2]
    );
    assert!(
        events
            .iter()
            .all(|e| !e.chars().any(|c| ('\u{3040}'..='\u{9fff}').contains(&c))),
        "{events:#?}"
    );
}

/// Text as the reader sees it: the HTML entities askama writes for `"'&<>` read back.
fn unescaped(html: &str) -> String {
    html.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The rows (line, reason) of the inventory page's table of refused lines.
fn refused_lines(html: &str) -> Vec<(String, String)> {
    let table = html
        .split("<table id=\"csv-error\">")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .unwrap_or_default();
    let cell = |c: &str| unescaped(c.split("</td>").next().unwrap_or_default());
    table
        .split("<tr>")
        .filter_map(|row| {
            let mut cells = row.split("<td").skip(1).map(|c| {
                let c = c.split_once('>').map_or("", |(_, rest)| rest);
                cell(c)
            });
            Some((cells.next()?, cells.next()?))
        })
        .collect()
}

async fn refused_inventory_lines_read_in_the_page_language(db: TestDb) {
    use mpc_storage::controller::LineFault;
    use mpc_storage::smfv2::ColumnFault;
    let app = TestApp::new(db).await;
    // Line 1 is good; every other line is refused, each for its own reason.
    let file = "X4-0100,SEIL/X4,factory-secret-x4-0100\n\
                X4-0101,SEIL/X9,factory-secret-x4-0101\n\
                x4-0100,SEIL/X4,factory-secret-x4-0100\n\
                X4-0102,SEIL/X4,short\n\
                X4-0103,SEIL/X4,factory-secret-x4-0103,0001-0000,,,\n\
                only,two\n";
    let faults = [
        (
            "2",
            LineFault::UnknownModel {
                model: "SEIL/X9".into(),
            },
        ),
        (
            "3",
            LineFault::SerialCaseTwin {
                serial: "x4-0100".into(),
                first_line: 1,
            },
        ),
        ("4", LineFault::SecretShape),
        (
            "5",
            LineFault::Smfv2(ColumnFault::DistributionId {
                given: "0001-0000".into(),
            }),
        ),
        ("6", LineFault::FieldCount { found: 2 }),
    ];
    // After a good import, a serial of the inventory in another letter case (R7.1).
    let known = (
        "1",
        LineFault::SerialKnown {
            serial: "x4-0200".into(),
            known: "X4-0200".into(),
        },
    );
    for english in [false, true] {
        let op = sign_in(&app, "admin", english).await;
        let csrf = op.csrf().await;
        let read = |f: &LineFault| {
            if english {
                f.message_en()
            } else {
                f.message_ja()
            }
        };
        let other = |f: &LineFault| {
            if english {
                f.message_ja()
            } else {
                f.message_en()
            }
        };
        let refused = op
            .post("/console/inventory", &[("csrf", &csrf), ("csv", file)])
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        let shown = refused_lines(&refused.text);
        let expected: Vec<(String, String)> = faults
            .iter()
            .map(|(line, f)| ((*line).to_owned(), read(f)))
            .collect();
        assert_eq!(shown, expected, "{}", refused.text);
        let page = unescaped(&refused.text);
        for (_, f) in &faults {
            assert!(!page.contains(&other(f)), "{}", other(f));
        }
        let (summary, not) = if english {
            (
                "bad line(s); nothing was imported",
                "何も取り込んでいません",
            )
        } else {
            ("何も取り込んでいません", "bad line(s)")
        };
        assert!(page.contains(summary) && !page.contains(not), "{page}");
        if english {
            assert!(
                shown.iter().all(|(_, reason)| !has_japanese(reason)),
                "{shown:?}"
            );
        }

        if !english {
            let good = "X4-0200,SEIL/X4,factory-secret-x4-0200\n";
            let imported = op
                .post("/console/inventory", &[("csrf", &csrf), ("csv", good)])
                .await;
            assert_eq!(see_other(&imported), "/console/inventory?imported=1");
        }
        let again = op
            .post(
                "/console/inventory",
                &[
                    ("csrf", &csrf),
                    ("csv", "x4-0200,SEIL/X4,factory-secret-x4-0200\n"),
                ],
            )
            .await;
        assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            refused_lines(&again.text),
            [(known.0.to_owned(), read(&known.1))],
            "{}",
            again.text
        );
    }
}

async fn a_refused_price_import_reads_in_the_page_language(db: TestDb) {
    use mpc_domain::price::UnknownPriceKey;
    use mpc_storage::billing::PriceRowFault;
    let app = TestApp::new(db).await;
    let fault = PriceRowFault::UnknownKey(UnknownPriceKey("not.a.key".into()));
    for (english, expected, not, row, other_row) in [
        (
            false,
            "誤りのある行が1行あるため、何も取り込んでいません",
            "row(s) are not valid",
            format!("2行目: {}", fault.message_ja()),
            fault.message_en(),
        ),
        (
            true,
            "1 row(s) are not valid; nothing was imported",
            "何も取り込んでいません",
            format!("line 2: {}", fault.message_en()),
            fault.message_ja(),
        ),
    ] {
        let op = sign_in(&app, "admin", english).await;
        let csrf = op.csrf().await;
        let refused = op
            .post(
                "/console/prices/import",
                &[
                    ("csrf", &csrf),
                    (
                        "csv",
                        "key,contractor_id,effective_from,amount\nnot.a.key,,2026-01-01,5\n",
                    ),
                ],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.text.contains(expected), "{}", refused.text);
        assert!(!refused.text.contains(not), "{}", refused.text);
        let page = unescaped(&refused.text);
        assert!(page.contains(&format!("<li>{row}</li>")), "{page}");
        assert!(!page.contains(&other_row), "{page}");
    }
}

backend_tests!(
    refused_inventory_lines_read_in_the_page_language,
    a_refused_price_import_reads_in_the_page_language,
    invoice_lines_read_in_the_page_language,
    error_pages_keep_the_menu_and_name_codes_as_codes,
    the_contract_timeline_lists_business_events_by_effective_date,
);
