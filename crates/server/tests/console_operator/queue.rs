//! The request queue: accepting and rejecting, and devices waiting for preset parameters.

use crate::support::*;

async fn accepting_and_rejecting_from_the_queue(db: TestDb) {
    let app = TestApp::new(db).await;
    let k = app
        .post(
            "/api/v1/contractors",
            &app.operator,
            json!({"name": "株式会社キュー"}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = pending_request(&app, &k).await;
    let second = pending_request(&app, &k).await;
    let op = sign_in(&app, "admin", false).await;
    let queue = op.page("/console/queue").await;
    assert!(queue.contains(&format!("/console/queue/requests/{first}")));
    let csrf = token_in(&queue);

    // Without the confirmation box nothing happens, and the form says why.
    let unconfirmed = op
        .post(
            &format!("/console/queue/requests/{first}/accept"),
            &[("csrf", &csrf), ("on", "2026-09-03")],
        )
        .await;
    assert_eq!(unconfirmed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unconfirmed.text.contains(JA.op_confirm_required)
            && unconfirmed.text.contains(r#"aria-invalid="true""#)
    );
    let still = app
        .get(&format!("/api/v1/requests/{first}"), &app.operator)
        .await;
    assert_eq!(still.body["status"], "pending");

    // A date before the submission is the rule's refusal, with its id.
    let early = op
        .post(
            &format!("/console/queue/requests/{first}/accept"),
            &[("csrf", &csrf), ("on", "2026-08-01"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(
        early.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        early.text
    );
    assert!(
        early
            .text
            .contains("2026-08-01 は 2026-09-01 より前の日付です"),
        "{}",
        early.text
    );

    let accepted = op
        .post(
            &format!("/console/queue/requests/{first}/accept"),
            &[("csrf", &csrf), ("on", "2026-09-03"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(
        see_other(&accepted),
        format!("/console/queue/requests/{first}?done=accepted")
    );
    let view = app
        .get(&format!("/api/v1/requests/{first}"), &app.operator)
        .await;
    assert_eq!(
        (
            view.body["status"].as_str(),
            view.body["decided_on"].as_str()
        ),
        (Some("accepted"), Some("2026-09-03"))
    );
    assert_eq!(created(&view.body, "contract_created").len(), 1);
    assert!(
        op.page("/console/queue?done=accepted")
            .await
            .contains(JA.op_done_accepted)
    );

    // Rejecting needs a reason.
    let blank = op
        .post(
            &format!("/console/queue/requests/{second}/reject"),
            &[("csrf", &csrf), ("reason", " "), ("confirm", "yes")],
        )
        .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        blank.text.contains(r#"id="reject-reason-error""#),
        "{}",
        blank.text
    );
    let rejected = op
        .post(
            &format!("/console/queue/requests/{second}/reject"),
            &[
                ("csrf", &csrf),
                ("reason", "書類の不備"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(see_other(&rejected), "/console/queue?done=rejected");
    let view = app
        .get(&format!("/api/v1/requests/{second}"), &app.operator)
        .await;
    assert_eq!(view.body["status"], "rejected");

    // A paper notice of cancellation, recorded and accepted as of its arrival.
    let management = created(
        &app.get(&format!("/api/v1/requests/{first}"), &app.operator)
            .await
            .body,
        "contract_created",
    )[0]
    .clone();
    let notice = op
        .post(
            "/console/queue/notice",
            &[
                ("csrf", &csrf),
                ("contractor_id", &k),
                ("kind", "cancel_contract"),
                ("target", &management),
                ("submitted_on", "2026-10-01"),
                ("arrived_on", "2026-10-02"),
                ("accept", "yes"),
                ("confirm", "yes"),
            ],
        )
        .await;
    let to = see_other(&notice);
    let id = to.trim_start_matches("/console/queue/requests/");
    let view = app
        .get(&format!("/api/v1/requests/{id}"), &app.operator)
        .await;
    assert_eq!(
        (
            view.body["status"].as_str(),
            view.body["decided_on"].as_str()
        ),
        (Some("accepted"), Some("2026-10-02")),
        "{}",
        view.text
    );
    let contract = app
        .get(&format!("/api/v1/contracts/{management}"), &app.operator)
        .await;
    // R13.1: the notice arrived 2026-10-02; the contract ends 14 days later at the earliest.
    assert_eq!(
        contract.body["ending"]["on"], "2026-10-16",
        "{}",
        contract.text
    );
    let unknown = op
        .post(
            "/console/queue/notice",
            &[
                ("csrf", &csrf),
                ("contractor_id", &k),
                ("kind", "cancel_contract"),
                ("target", "no-such-contract"),
                ("submitted_on", "2026-10-01"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.text.contains(JA.op_no_such_target));
}

async fn the_queue_names_devices_waiting_for_preset_parameters(db: TestDb) {
    let app = TestApp::new(db).await;
    let k = app
        .post(
            "/api/v1/contractors",
            &app.operator,
            json!({"name": "株式会社待機"}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, a) = app.eligible_setup(&k, "SEIL/X4", "2026-01-05").await;
    let csv = "X4-WAIT-0001,SEIL/X4,factory-secret-x4-wait-0001\n";
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
    let notify = json!({"kind": "notify_serial", "contract_id": a, "serial": "X4-WAIT-0001"});
    app.accepted(&k, notify, "2026-01-05").await;
    let op = sign_in(&app, "admin", false).await;
    // An internet gateway runs on its defaults: nothing waits.
    let queue = op.page("/console/queue").await;
    assert!(queue.contains(JA.op_awaiting_parameters), "{queue}");
    assert!(!queue.contains("X4-WAIT-0001"), "{queue}");

    // R8.1: remote access carries the WAN and LAN but needs a pre-shared key and users
    // nobody has set, so the device waits for them (R17.1).
    let change = json!({"kind": "change_item", "contract_id": a, "item": "remote_access"});
    app.accepted(&k, change, "2026-03-01").await;
    let queue = op.page("/console/queue").await;
    let row = &queue[queue.find(r#"id="parameters""#).unwrap()..];
    let row = &row[..row.find("</section>").unwrap()];
    assert!(
        row.contains("株式会社待機") && row.contains("X4-WAIT-0001"),
        "{row}"
    );
    assert!(
        row.contains(&format!("/console/contracts/{a}/preset")),
        "{row}"
    );
    assert!(
        row.contains(mpc_domain::catalog::Item::RemoteAccess.label_ja()),
        "{row}"
    );
    assert!(row.contains("<code>R17.1</code>"), "{row}");
    assert!(row.contains("<code>l2tp.pre_shared_key</code>"), "{row}");
    // The contract view names the same parameters.
    let view = app
        .get(&format!("/api/v1/contracts/{a}"), &app.operator)
        .await;
    assert_eq!(view.body["provisioning"]["code"], "R17.1", "{}", view.text);

    // Once the parameters are set, the device no longer waits.
    let params = json!({"preset": "remote_access",
        "wan": {"type": "dhcp"},
        "lan": {"address": "10.20.0.1", "prefix_len": 24,
                "dhcp_pool": {"start": "10.20.0.100", "end": "10.20.0.150"}},
        "dns_forwarder": true, "ntp_server": "ntp.nict.jp", "napt": true,
        "l2tp": {"pre_shared_key": "psk-secret",
                 "users": [{"name": "alice", "password": "alice-pass"}],
                 "pool": {"start": "192.168.128.1", "end": "192.168.128.20"},
                 "tunnel_address": "192.168.127.1", "max_sessions": 10}});
    let path = format!("/api/v1/contracts/{a}/preset");
    let saved = app
        .call(Method::PUT, &path, Some(&app.operator), Some(params))
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    let queue = op.page("/console/queue").await;
    assert!(!queue.contains("X4-WAIT-0001"), "{queue}");
}

/// A dump without what signing in writes (sessions, passwords and their journal rows).
fn lasting(dump: Vec<String>) -> Vec<String> {
    dump.into_iter()
        .filter(|row| {
            !row.starts_with("console_sessions:")
                && !row.starts_with("users:")
                && !row.contains("|console.sign_in|")
                && !row.contains("|user.password|")
        })
        .collect()
}

async fn the_request_page_previews_the_acceptance_and_then_shows_what_it_did(db: TestDb) {
    let app = TestApp::new(db).await;
    app.price_everything().await;
    // An internet_gateway SEIL/X4 (¥3,000/month) with send-back (¥1,500/month) billed from
    // 2026-09-15: its minimum period ends 2027-09-14 (D2).
    let (k, _, a) = app.billed_customer("Preview Works").await;
    let r = app
        .post(
            &format!("/api/v1/contractors/{k}/requests"),
            &app.operator,
            json!({"request": {"kind": "cancel_contract", "contract_id": a,
                               "requested_on": "2026-12-19"},
                   "submitted_on": "2026-12-05"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let before = lasting(app.db.store.dump().await);
    // The charges of an end on 2026-12-19 (notice 2026-12-05 + 14 days, D3, R13.1):
    //   December to the end: floor(3000 × 19 / 31) = ¥1,838 and floor(1500 × 19 / 31) = ¥919;
    //   the rest of the minimum period (R15.1): floor(3000 × 12 / 31) = ¥1,161 for Dec 20–31,
    //   8 × ¥3,000 for Jan–Aug 2027, floor(3000 × 14 / 30) = ¥1,400 for Sep 1–14;
    //   in all 1,838 + 919 + 1,161 + 24,000 + 1,400 = ¥29,318.
    for english in [false, true] {
        let op = sign_in(&app, "admin", english).await;
        let t = if english { &EN } else { &JA };
        let path = format!("/console/queue/requests/{id}");
        let page = op.page(&path).await;
        assert!(page.contains(t.pv_heading), "{page}");
        assert!(
            page.contains(r#"hx-get="/console/queue/requests/"#),
            "{page}"
        );
        let (end, total, later) = if english {
            ("19 Dec 2026", "¥29,318", "24 Dec 2026")
        } else {
            ("2026年12月19日", "29,318円", "2026年12月24日")
        };
        assert!(page.contains(end) && page.contains(total), "{page}");
        assert!(page.contains("<code>R15.1</code>"), "{page}");
        // Left without a send-back adapter, the contractor misses R6.1 (b).
        assert!(page.contains(t.pv_ineligible), "{page}");
        // A later arrival, as htmx asks when the date changes: 2026-12-10 + 14 days.
        let fragment = op
            .page(&format!("{path}/preview?on=2026-12-10&termination=notice"))
            .await;
        assert!(
            fragment.starts_with(r#"<section id="preview""#),
            "{fragment}"
        );
        assert!(fragment.contains(later), "{fragment}");
        // A date that is no date is named, not accepted.
        let bad = op.page(&format!("{path}/preview?on=2026-02-30")).await;
        assert!(bad.contains(t.pv_refused), "{bad}");
        if english {
            no_japanese(&path, &page);
            no_japanese(&path, &fragment);
        } else {
            no_english_phrases(&path, &page);
            no_english_phrases(&path, &fragment);
        }
    }
    assert_eq!(
        lasting(app.db.store.dump().await),
        before,
        "previews write nothing"
    );

    let op = sign_in(&app, "admin", false).await;
    let csrf = op.csrf().await;
    let accepted = op
        .post(
            &format!("/console/queue/requests/{id}/accept"),
            &[
                ("csrf", &csrf),
                ("on", "2026-12-05"),
                ("termination", "notice"),
                ("confirm", "yes"),
            ],
        )
        .await;
    let done = see_other(&accepted);
    assert_eq!(done, format!("/console/queue/requests/{id}?done=accepted"));
    for english in [false, true] {
        let op = sign_in(&app, "admin", english).await;
        let t = if english { &EN } else { &JA };
        let page = op.page(&done).await;
        let total = if english { "¥29,318" } else { "29,318円" };
        assert!(
            page.contains(t.op_done_accepted) && page.contains(t.pv_result),
            "{page}"
        );
        assert!(page.contains(total), "{page}");
        assert!(!page.contains(t.pv_heading), "{page}");
    }
}

/// The requests a queue page lists, in its order (each row links its number to the request).
fn listed_requests(html: &str) -> Vec<String> {
    html.split(r#"<td><a href="/console/queue/requests/"#)
        .skip(1)
        .filter_map(|rest| {
            let end = rest.find('"')?;
            rest[end..]
                .starts_with(r#"">"#)
                .then(|| rest[..end].to_owned())
        })
        .collect()
}

/// The devices a queue page lists awaiting return, in its order (each row has its return form).
fn listed_devices(html: &str) -> Vec<String> {
    html.split(r#"action="/console/queue/devices/"#)
        .skip(1)
        .filter_map(|rest| rest.split_once("/return\"").map(|(s, _)| s.to_owned()))
        .collect()
}

async fn the_queue_pages_its_requests_in_the_query_with_counts(db: TestDb) {
    let app = TestApp::new(db).await;
    // Nine contractors, created out of their names' order, so that neither creation nor ids
    // give the order by name.
    let mut contractors = Vec::new();
    for letter in ["E", "C", "I", "A", "G", "B", "H", "D", "F"] {
        let name = format!("株式会社待ち{letter}");
        let id = app
            .post(
                "/api/v1/contractors",
                &app.operator,
                json!({ "name": name }),
            )
            .await
            .body["id"]
            .as_str()
            .unwrap()
            .to_owned();
        contractors.push((id, name));
    }
    // 45 pending requests, five each, submitted on 45 different days out of their numbers'
    // order: (id, number, contractor's name, submitted on).
    let mut all = Vec::new();
    for i in 0..45 {
        let (k, name) = &contractors[i % 9];
        let on = jiff::civil::date(2026, 8, 1)
            .checked_add(jiff::Span::new().days(((i * 17) % 45) as i64))
            .unwrap()
            .to_string();
        let r = app
            .post(
                &format!("/api/v1/contractors/{k}/requests"),
                &app.operator,
                json!({
                    "request": {"kind": "apply_contract", "contract_kind": "management"},
                    "submitted_on": on,
                }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let number: i64 = r.body["number"].as_str().unwrap()[4..].parse().unwrap();
        all.push((
            r.body["id"].as_str().unwrap().to_owned(),
            number,
            name.clone(),
            on,
        ));
    }
    let ids = |rows: &[&(String, i64, String, String)]| -> Vec<String> {
        rows.iter().map(|r| r.0.clone()).collect()
    };
    let mut by_submitted: Vec<_> = all.iter().collect();
    by_submitted.sort_by_key(|r| (r.3.clone(), r.1));
    let mut by_number: Vec<_> = all.iter().collect();
    by_number.sort_by_key(|r| r.1);
    let mut by_contractor: Vec<_> = all.iter().collect();
    by_contractor.sort_by_key(|r| (r.2.clone(), r.3.clone(), r.1));
    assert_ne!(ids(&by_submitted), ids(&by_number));

    let op = sign_in(&app, "admin", false).await;
    // The queue's own order: the earliest submitted first, 20 a page.
    let first = op.page("/console/queue").await;
    assert_eq!(listed_requests(&first), ids(&by_submitted[..20]));
    assert!(first.contains("45件中 1–20件"), "{first}");
    assert!(
        first.contains(&format!(
            r#"<div class="value">45</div>{}"#,
            JA.op_card_pending
        )),
        "{first}"
    );
    assert!(
        first.contains(r#"<a href="/console/queue?page=2#requests" rel="next">"#),
        "{first}"
    );
    assert!(!first.contains(r#"rel="prev""#), "{first}");
    let last = op.page("/console/queue?page=3").await;
    assert_eq!(listed_requests(&last), ids(&by_submitted[40..]));
    assert!(last.contains("45件中 41–45件"), "{last}");
    assert!(
        last.contains(r#"<a href="/console/queue?page=2#requests" rel="prev">"#),
        "{last}"
    );
    assert!(!last.contains(r#"rel="next""#), "{last}");
    // A page that is not one is the first.
    let odd = op.page("/console/queue?page=zero").await;
    assert_eq!(listed_requests(&odd), ids(&by_submitted[..20]));

    // Sorted in the query, the order runs on across the pages: the 21st is first on page 2,
    // and the pages' links keep the order.
    for (sort, expected) in [("number", &by_number), ("contractor", &by_contractor)] {
        let mut shown = Vec::new();
        for page in 1..=3 {
            let html = op
                .page(&format!("/console/queue?sort={sort}&page={page}"))
                .await;
            let rows = listed_requests(&html);
            if page == 2 {
                assert_eq!(rows[0], expected[20].0, "{sort}");
                assert!(
                    html.contains(&format!(
                        r#"<a href="/console/queue?sort={sort}&#38;page=3#requests" rel="next">"#
                    )),
                    "{html}"
                );
            }
            shown.extend(rows);
        }
        assert_eq!(shown, ids(expected), "{sort}");
    }
    // Descending is the ascending order backwards.
    let desc = op.page("/console/queue?sort=-contractor").await;
    let mut backwards = ids(&by_contractor);
    backwards.reverse();
    assert_eq!(listed_requests(&desc), backwards[..20]);

    // In English too.
    let en = sign_in(&app, "admin", true).await;
    assert!(
        en.page("/console/queue?page=2")
            .await
            .contains("21–40 of 45")
    );
}

async fn the_queue_pages_devices_awaiting_return_in_the_query(db: TestDb) {
    let app = TestApp::new(db).await;
    let k = app
        .post(
            "/api/v1/contractors",
            &app.operator,
            json!({"name": "株式会社返却"}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, adapter) = app.eligible_setup(&k, "SEIL/X4", "2026-04-01").await;
    // 25 devices the adapter served until 2026-05-15, written directly (through the API each
    // would take a contract of its own): every fifth without a deadline; of the others, the
    // first eight were due in June 2026 and are overdue, the rest are due in 2099.
    let mut dated = Vec::new();
    let mut undated = Vec::new();
    {
        let mut conn = app.db.store.pool().acquire().await.unwrap();
        for i in 1..=25 {
            let serial = format!("RET-{i:02}");
            let due = if i % 5 == 0 {
                undated.push(serial.clone());
                None
            } else {
                let due = if dated.len() < 8 {
                    format!("2026-06-{:02}", 30 - dated.len())
                } else {
                    format!("2099-01-{:02}", 30 - dated.len())
                };
                dated.push((due.clone(), serial.clone()));
                Some(due)
            };
            sqlx::query(
                "INSERT INTO devices (serial, device_type, contractor_id, return_due) \
                 VALUES ($1, 'SEIL/X4', $2, $3)",
            )
            .bind(serial.clone())
            .bind(k.clone())
            .bind(due)
            .execute(&mut *conn)
            .await
            .unwrap();
            sqlx::query(
                "INSERT INTO device_assignments (serial, contract_id, from_on, until_on) \
                 VALUES ($1, $2, '2026-04-01', '2026-05-15')",
            )
            .bind(serial)
            .bind(adapter.clone())
            .execute(&mut *conn)
            .await
            .unwrap();
        }
    }
    // By deadline, the earliest first and those without one last (on both backends), then
    // by serial.
    dated.sort();
    let by_due: Vec<String> = dated.into_iter().map(|(_, s)| s).chain(undated).collect();
    let by_serial: Vec<String> = (1..=25).map(|i| format!("RET-{i:02}")).collect();

    let op = sign_in(&app, "admin", false).await;
    let first = op.page("/console/queue").await;
    assert_eq!(listed_devices(&first), by_due[..20]);
    assert!(first.contains("25件中 1–20件"), "{first}");
    for (value, card) in [(25, JA.op_card_awaiting), (8, JA.op_card_overdue)] {
        assert!(
            first.contains(&format!(r#"<div class="value">{value}</div>{card}"#)),
            "{card}: {first}"
        );
    }
    assert!(
        first.contains(r#"<a href="/console/queue?dpage=2#returns" rel="next">"#),
        "{first}"
    );
    let second = op.page("/console/queue?dpage=2").await;
    assert_eq!(listed_devices(&second), by_due[20..]);
    assert!(second.contains("25件中 21–25件"), "{second}");
    assert!(
        second.contains(r#"<a href="/console/queue?dpage=1#returns" rel="prev">"#),
        "{second}"
    );
    // By serial across the pages, and backwards.
    let mut shown = listed_devices(&op.page("/console/queue?dsort=serial").await);
    let page2 = op.page("/console/queue?dsort=serial&dpage=2").await;
    assert_eq!(listed_devices(&page2)[0], by_serial[20]);
    shown.extend(listed_devices(&page2));
    assert_eq!(shown, by_serial);
    let desc = op.page("/console/queue?dsort=-serial").await;
    assert_eq!(listed_devices(&desc)[0], "RET-25");
}

backend_tests!(
    accepting_and_rejecting_from_the_queue,
    the_queue_names_devices_waiting_for_preset_parameters,
    the_request_page_previews_the_acceptance_and_then_shows_what_it_did,
    the_queue_pages_its_requests_in_the_query_with_counts,
    the_queue_pages_devices_awaiting_return_in_the_query,
);
