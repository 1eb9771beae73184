//! Monthly billing on a real database: runs, re-runs, finalization, payments and defaults.

use jiff::civil::{Date, date};
use mpc_domain::book::Effect;
use mpc_domain::calendar::Month;
use mpc_domain::catalog::{ContractKind, DeviceType, Item, MobileUsageType, NetworkType};
use mpc_domain::contract::set_billing_start;
use mpc_domain::money::Yen;
use mpc_domain::price::{Price, PriceKey};
use mpc_domain::request::{Acceptance, Request};
use mpc_storage::billing::{self, BillingError, Issuer};
use mpc_storage::contracts::{parties, requests};
use mpc_storage::testing::TestDb;
use mpc_storage::{JournalEntry, Store, accounts, backend_tests};

async fn contractor(store: &Store, name: &str) -> String {
    let mut tx = store.write().await.unwrap();
    let c = accounts::create_contractor(&mut tx, name).await.unwrap();
    tx.commit(JournalEntry::new("test", "contractor.create"))
        .await
        .unwrap();
    c.id
}

async fn accepted(store: &Store, k: &str, request: Request, on: Date) -> Vec<Effect> {
    let acceptance = Acceptance {
        on: Some(on),
        ..Default::default()
    };
    requests::submit(
        store,
        k,
        &request,
        on,
        "test",
        Some(&acceptance),
        JournalEntry::new("test", "req"),
    )
    .await
    .unwrap()
    .1
    .unwrap()
    .effects
}

fn created(effects: &[Effect]) -> String {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::ContractCreated(c) => Some(c.id.clone()),
            _ => None,
        })
        .unwrap()
}

async fn start_billing(store: &Store, k: &str, contract: &str, on: Date) {
    requests::record(store, k, JournalEntry::new("test", "billing_start"), |b| {
        set_billing_start(b, contract, on)
    })
    .await
    .unwrap();
}

/// The sample price book of `mpc_storage::testing` and an issuer.
async fn price_everything(store: &Store) {
    let prices = mpc_storage::testing::sample_prices();
    let mut tx = store.write().await.unwrap();
    billing::upsert_prices(&mut tx, &prices).await.unwrap();
    billing::set_issuer(
        &mut tx,
        &Issuer {
            name: "株式会社テスト通信".into(),
            registration_number: "T1234567890123".into(),
            address: "東京都千代田区".into(),
            contact: String::new(),
        },
    )
    .await
    .unwrap();
    tx.commit(JournalEntry::new("test", "prices"))
        .await
        .unwrap();
}

/// A management (billed from 2026-09-01) and an internet_gateway SEIL/X4 with send-back
/// (billed from 2026-09-15).
async fn setup(store: &Store) -> (String, String, String) {
    let k = contractor(store, "株式会社請求").await;
    let m = created(
        &accepted(
            store,
            &k,
            Request::ApplyContract {
                contract_kind: ContractKind::Management,
                item: None,
                device_type: None,
                management_id: None,
                label: None,
            },
            date(2026, 9, 1),
        )
        .await,
    );
    start_billing(store, &k, &m, date(2026, 9, 1)).await;
    let a = created(
        &accepted(
            store,
            &k,
            Request::ApplyContract {
                contract_kind: ContractKind::ServiceAdapter,
                item: Some(Item::InternetGateway),
                device_type: Some(DeviceType::SeilX4),
                management_id: Some(m.clone()),
                label: None,
            },
            date(2026, 9, 10),
        )
        .await,
    );
    accepted(
        store,
        &k,
        Request::AddOption {
            contract_id: a.clone(),
            option_kind: mpc_domain::catalog::OptionKind::UltraSendback,
            install_address: Some("東京都".into()),
            usage_type: None,
            network_type: None,
            group: None,
        },
        date(2026, 9, 10),
    )
    .await;
    start_billing(store, &k, &a, date(2026, 9, 15)).await;
    (k, m, a)
}

async fn snapshot(store: &Store, month: &str) -> String {
    let mut conn = store.conn().await.unwrap();
    let mut out = String::new();
    for inv in billing::list_invoices(&mut conn, Some(month), None)
        .await
        .unwrap()
    {
        out.push_str(&format!("{inv:?}\n"));
        for l in billing::invoice_lines(&mut conn, &inv).await.unwrap() {
            out.push_str(&format!("  {l:?}\n"));
        }
    }
    out
}

fn noop(_: usize, _: usize) {}

/// September billed and finalized for the contractor of [`setup`], then a backdated agreement:
/// management ¥9,000 from 2026-09-01 instead of ¥10,000. Returns (contractor, September).
async fn september_finalized_then_repriced(store: &Store) -> (String, Month) {
    price_everything(store).await;
    let (k, _, _) = setup(store).await;
    let sept: Month = "2026-09".parse().unwrap();
    billing::run_month(store, sept, &noop, JournalEntry::new("test", "billing.run"))
        .await
        .unwrap();
    billing::finalize(store, sept, JournalEntry::new("test", "finalize"))
        .await
        .unwrap();
    let agreement = Price {
        key: PriceKey::ManagementMonthly,
        contractor_id: Some(k.clone()),
        effective_from: date(2026, 9, 1),
        amount: Yen(9_000),
    };
    let mut tx = store.write().await.unwrap();
    billing::upsert_prices(&mut tx, &[agreement]).await.unwrap();
    tx.commit(JournalEntry::new("test", "prices"))
        .await
        .unwrap();
    (k, sept)
}

async fn a_month_is_billed_and_a_rerun_gives_the_same_invoices(db: TestDb) {
    let store = &db.store;
    price_everything(store).await;
    let (k, _, _) = setup(store).await;
    let sept = billing::run_month(
        store,
        "2026-09".parse().unwrap(),
        &noop,
        JournalEntry::new("test", "billing.run"),
    )
    .await
    .unwrap();
    // September: initial fees 20,000 + 10,000 + 5,000 = ¥35,000;
    // management 09-01…30 whole: ¥10,000; adapter ¥3,000 × 16/30 (09-15…30) = ¥1,600;
    // send-back ¥1,500 × 16/30 = ¥800 (its billing start is the contract's, R9.1).
    // Subtotal ¥47,400; tax floor(4,740) = ¥4,740; total ¥52,140.
    assert_eq!(
        (sept.invoices, sept.subtotal, sept.tax, sept.total),
        (1, Yen(47_400), Yen(4_740), Yen(52_140))
    );
    let mut conn = store.conn().await.unwrap();
    let inv = &billing::list_invoices(&mut conn, Some("2026-09"), Some(&k))
        .await
        .unwrap()[0];
    assert_eq!(
        (inv.issue_date.as_str(), inv.due_date.as_str()),
        ("2026-10-01", "2026-10-31")
    );
    assert_eq!(inv.issuer_registration, "T1234567890123");
    let lines = billing::invoice_lines(&mut conn, inv).await.unwrap();
    assert_eq!(lines.len(), 6);
    drop(conn);

    let first = snapshot(store, "2026-09").await;
    billing::run_month(
        store,
        "2026-09".parse().unwrap(),
        &noop,
        JournalEntry::new("test", "billing.run"),
    )
    .await
    .unwrap();
    assert_eq!(
        snapshot(store, "2026-09").await,
        first,
        "a re-run gives the same invoices, no duplicate lines"
    );

    // October: ¥10,000 + ¥3,000 + ¥1,500 = ¥14,500; tax ¥1,450.
    let oct = billing::run_month(
        store,
        "2026-10".parse().unwrap(),
        &noop,
        JournalEntry::new("test", "billing.run"),
    )
    .await
    .unwrap();
    assert_eq!(
        (oct.subtotal, oct.tax, oct.total),
        (Yen(14_500), Yen(1_450), Yen(15_950))
    );
}

async fn a_missing_price_names_itself_and_changes_nothing(db: TestDb) {
    let store = &db.store;
    price_everything(store).await;
    setup(store).await;
    // A plan_30gb SIM on an SA-W2L … but mobile prices for fixed_ip are removed.
    let k2 = contractor(store, "株式会社欠落").await;
    let m2 = created(
        &accepted(
            store,
            &k2,
            Request::ApplyContract {
                contract_kind: ContractKind::Management,
                item: None,
                device_type: None,
                management_id: None,
                label: None,
            },
            date(2026, 9, 1),
        )
        .await,
    );
    let w = created(
        &accepted(
            store,
            &k2,
            Request::ApplyContract {
                contract_kind: ContractKind::ServiceAdapter,
                item: Some(Item::RemoteAccess),
                device_type: Some(DeviceType::SaW2l),
                management_id: Some(m2),
                label: None,
            },
            date(2026, 9, 1),
        )
        .await,
    );
    accepted(
        store,
        &k2,
        Request::AddOption {
            contract_id: w.clone(),
            option_kind: mpc_domain::catalog::OptionKind::MobileAccess,
            install_address: None,
            usage_type: Some(MobileUsageType::Plan30gb),
            network_type: Some(NetworkType::FixedIp),
            group: None,
        },
        date(2026, 9, 2),
    )
    .await;
    start_billing(store, &k2, &w, date(2026, 9, 2)).await;
    let mut tx = store.write().await.unwrap();
    for key in [
        PriceKey::MobileMonthly(NetworkType::FixedIp, None),
        PriceKey::MobileMonthly(NetworkType::FixedIp, Some(MobileUsageType::Plan30gb)),
    ] {
        billing::delete_price(&mut tx, key, None, date(2020, 1, 1))
            .await
            .unwrap();
    }
    tx.commit(JournalEntry::new("test", "prices"))
        .await
        .unwrap();
    let before = store.dump().await;
    let err = billing::run_month(
        store,
        "2026-09".parse().unwrap(),
        &noop,
        JournalEntry::new("test", "billing.run"),
    )
    .await
    .unwrap_err();
    let BillingError::MissingPrices(missing) = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        missing[0].key,
        PriceKey::MobileMonthly(NetworkType::FixedIp, Some(MobileUsageType::Plan30gb))
    );
    assert!(
        missing[0]
            .to_string()
            .contains("mobile_access.monthly.fixed_ip.plan_30gb")
    );
    assert_eq!(
        store.dump().await,
        before,
        "nothing is billed without its price"
    );
}

async fn finalized_months_are_immutable_and_defaults_move_management_fees_back(db: TestDb) {
    let store = &db.store;
    price_everything(store).await;
    let (k, m, _) = setup(store).await;
    // A rider with an adapter receives k's management invoices from 2026-10-01 (R6.3).
    let rider = contractor(store, "株式会社送付先").await;
    let mut tx = store.write().await.unwrap();
    let d = parties::create_designation(&mut tx, &rider, &m, date(2026, 9, 20))
        .await
        .unwrap();
    parties::consent_designation(&mut tx, &d.id, date(2026, 9, 21))
        .await
        .unwrap();
    tx.commit(JournalEntry::new("test", "designation"))
        .await
        .unwrap();
    accepted(
        store,
        &rider,
        Request::ApplyContract {
            contract_kind: ContractKind::ServiceAdapter,
            item: Some(Item::PppoeTermination),
            device_type: Some(DeviceType::SeilCa10),
            management_id: Some(m.clone()),
            label: None,
        },
        date(2026, 9, 22),
    )
    .await;
    let mut tx = store.write().await.unwrap();
    let r = parties::create_redirect(&mut tx, &m, &rider, date(2026, 9, 25))
        .await
        .unwrap();
    parties::consent_redirect(&mut tx, &r.id, date(2026, 9, 26))
        .await
        .unwrap();
    parties::approve_redirect(&mut tx, &r.id, date(2026, 10, 1))
        .await
        .unwrap();
    tx.commit(JournalEntry::new("test", "redirect"))
        .await
        .unwrap();

    let month = "2026-10".parse().unwrap();
    billing::run_month(
        store,
        month,
        &noop,
        JournalEntry::new("test", "billing.run"),
    )
    .await
    .unwrap();
    let mut conn = store.conn().await.unwrap();
    let rider_invoice = billing::list_invoices(&mut conn, Some("2026-10"), Some(&rider))
        .await
        .unwrap()
        .remove(0);
    // The rider's October invoice: k's management fee ¥10,000 (its own adapter, accepted in
    // September, has no billing start yet); tax ¥1,000.
    assert_eq!((rider_invoice.subtotal, rider_invoice.tax), (10_000, 1_000));
    drop(conn);

    billing::finalize(store, month, JournalEntry::new("test", "finalize"))
        .await
        .unwrap();
    let again = billing::run_month(
        store,
        month,
        &noop,
        JournalEntry::new("test", "billing.run"),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(again, BillingError::Refused(ref r) if r.rule == "B4"),
        "{again:?}"
    );

    // The rider pays nothing; marked defaulted on 2026-12-05, the ¥10,000 moves to k (R6.4).
    // Two operators mark it at once: one moves the amount, the other is told it is marked.
    let mark = || async {
        let mut tx = store.write().await.unwrap();
        let moved = billing::mark_defaulted(&mut tx, &rider_invoice.id, date(2026, 12, 5)).await;
        if moved.is_ok() {
            tx.commit(JournalEntry::new("test", "default"))
                .await
                .unwrap();
        }
        moved
    };
    let (first, second) = tokio::join!(mark(), mark());
    let (moved, refused): (Vec<_>, Vec<_>) = [first, second].into_iter().partition(Result::is_ok);
    assert_eq!(moved.len(), 1, "exactly one default wins");
    assert!(
        matches!(refused[0], Err(BillingError::Refused(ref r)) if r.rule == "R6.4"),
        "{:?}",
        refused[0]
    );
    let moved = moved.into_iter().next().unwrap().unwrap();
    assert_eq!(moved, vec![(k.clone(), Yen(10_000))]);
    billing::run_month(
        store,
        "2026-11".parse().unwrap(),
        &noop,
        JournalEntry::new("test", "billing.run"),
    )
    .await
    .unwrap();
    let mut conn = store.conn().await.unwrap();
    let k_nov = billing::list_invoices(&mut conn, Some("2026-11"), Some(&k))
        .await
        .unwrap()
        .remove(0);
    let lines = billing::invoice_lines(&mut conn, &k_nov).await.unwrap();
    let moved_line = lines
        .iter()
        .find(|l| l.kind == "moved_unpaid")
        .expect("moved line");
    assert_eq!(
        (moved_line.amount, moved_line.rule.as_str()),
        (10_000, "R6.4")
    );
    // B2: the moved line names the period of the unpaid invoice, not the day of the default.
    assert_eq!(
        (
            moved_line.period_from.as_str(),
            moved_line.period_to.as_str()
        ),
        ("2026-10-01", "2026-10-31")
    );
    assert_eq!(
        moved_line.refers_to.as_deref(),
        Some(rider_invoice.id.as_str())
    );
    // k's November: adapter ¥3,000 + send-back ¥1,500 + moved ¥10,000 = ¥14,500 (management
    // goes to the rider).
    assert_eq!(k_nov.subtotal, 14_500);
}

async fn corrections_of_a_finalized_month_go_on_the_next_invoice_once(db: TestDb) {
    let store = &db.store;
    let (k, sept) = september_finalized_then_repriced(store).await;

    let oct = "2026-10".parse().unwrap();
    billing::run_month(store, oct, &noop, JournalEntry::new("test", "billing.run"))
        .await
        .unwrap();
    let mut conn = store.conn().await.unwrap();
    let inv = billing::list_invoices(&mut conn, Some("2026-10"), Some(&k))
        .await
        .unwrap()
        .remove(0);
    let lines = billing::invoice_lines(&mut conn, &inv).await.unwrap();
    let adj: Vec<_> = lines.iter().filter(|l| l.kind == "adjustment").collect();
    // September's management fee was ¥10,000 for the whole month; it should have been
    // ¥9,000: an adjustment of −¥1,000 citing the September invoice.
    assert_eq!(adj.len(), 1, "{lines:?}");
    assert_eq!(adj[0].amount, -1_000);
    let sept_invoice = billing::list_invoices(&mut conn, Some("2026-09"), Some(&k))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(adj[0].refers_to.as_deref(), Some(sept_invoice.id.as_str()));
    // B2, B4: it names the month it corrects, whatever day the correction was computed.
    assert_eq!(
        (adj[0].period_from.as_str(), adj[0].period_to.as_str()),
        ("2026-09-01", "2026-09-30")
    );
    // October itself bills ¥9,000: 9,000 + 3,000 + 1,500 − 1,000 = ¥12,500.
    assert_eq!(inv.subtotal, 12_500);
    drop(conn);

    // Running October again or correcting September again adds nothing.
    billing::run_month(store, oct, &noop, JournalEntry::new("test", "billing.run"))
        .await
        .unwrap();
    assert!(
        billing::correct(store, sept, JournalEntry::new("test", "correct"))
            .await
            .unwrap()
            .is_empty()
    );
    let mut conn = store.conn().await.unwrap();
    let inv = billing::list_invoices(&mut conn, Some("2026-10"), Some(&k))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(inv.subtotal, 12_500);
}

async fn b4_a_live_run_holds_its_month_and_a_dead_one_is_taken_over(db: TestDb) {
    let store = &db.store;
    price_everything(store).await;
    setup(store).await;
    let oct: Month = "2026-10".parse().unwrap();
    billing::run_month(store, oct, &noop, JournalEntry::new("test", "billing.run"))
        .await
        .unwrap();
    let mut conn = store.conn().await.unwrap();
    let done = billing::lines_csv(&mut conn, oct).await.unwrap();
    drop(conn);
    // Another process is running October: its lease is live, and it has written lines.
    let now = jiff::Timestamp::now().as_microsecond();
    let mut conn = store.conn().await.unwrap();
    sqlx::query(
        "INSERT INTO billing_leases (month, run_id, started_by, started_at, expires_at) \
         VALUES ('2026-10', 'other-run', 'node-2', $1, $2)",
    )
    .bind(now)
    .bind(now + 60_000_000)
    .execute(&mut *conn)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO invoice_lines (run_id, month, account_id, contractor_id, seq, contract_id, \
         subject_id, kind, rule, description, period_from, period_to, unit_amount, amount) \
         SELECT 'other-run', month, account_id, contractor_id, seq, contract_id, subject_id, \
         kind, rule, description, period_from, period_to, unit_amount, amount \
         FROM invoice_lines WHERE month = '2026-10'",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    drop(conn);
    let during = store.dump().await;
    for attempt in [
        billing::run_month(store, oct, &noop, JournalEntry::new("test", "billing.run"))
            .await
            .map(|_| ()),
        billing::finalize(store, oct, JournalEntry::new("test", "finalize"))
            .await
            .map(|_| ()),
    ] {
        let Err(BillingError::RunInProgress(running)) = attempt else {
            panic!("{attempt:?}")
        };
        assert_eq!(
            (
                running.run_id.as_str(),
                running.started_by.as_str(),
                running.started_at
            ),
            ("other-run", "node-2", now)
        );
    }
    assert_eq!(
        store.dump().await,
        during,
        "a refused run or finalize changes nothing"
    );
    let mut conn = store.conn().await.unwrap();
    assert!(billing::abandoned_lines(&mut conn, oct).await.unwrap() > 0);
    // The other process died: its lease expired. The next run takes over, and its lines go.
    sqlx::query("UPDATE billing_leases SET expires_at = $1")
        .bind(now - 1)
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    billing::run_month(store, oct, &noop, JournalEntry::new("test", "billing.run"))
        .await
        .unwrap();
    let mut conn = store.conn().await.unwrap();
    assert_eq!(billing::abandoned_lines(&mut conn, oct).await.unwrap(), 0);
    let leases: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM billing_leases")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(leases, 0, "a completed run gives its month back");
    assert_eq!(billing::lines_csv(&mut conn, oct).await.unwrap(), done);
}

async fn b4_runs_of_one_month_at_once_leave_the_invoices_of_one_run(db: TestDb) {
    let store = &db.store;
    price_everything(store).await;
    setup(store).await;
    let oct: Month = "2026-10".parse().unwrap();
    billing::run_month(store, oct, &noop, JournalEntry::new("test", "billing.run"))
        .await
        .unwrap();
    let mut conn = store.conn().await.unwrap();
    let want = billing::lines_csv(&mut conn, oct).await.unwrap();
    drop(conn);
    // A second node on the same database where there can be one (PostgreSQL).
    let other = match store.backend() {
        mpc_storage::Backend::Postgres => Store::connect(&db.url).await.unwrap(),
        mpc_storage::Backend::Sqlite => store.clone(),
    };
    for n in [2usize, 4, 8] {
        let mut runs = tokio::task::JoinSet::new();
        for i in 0..n {
            let node = if i % 2 == 0 {
                store.clone()
            } else {
                other.clone()
            };
            runs.spawn(async move {
                billing::run_month(&node, oct, &noop, JournalEntry::new("test", "billing.run"))
                    .await
                    .map(|_| ())
            });
        }
        let results = runs.join_all().await;
        assert!(results.iter().any(Result::is_ok), "{results:?}");
        for r in &results {
            assert!(
                matches!(r, Ok(()) | Err(BillingError::RunInProgress(_))),
                "{r:?}"
            );
        }
        let mut conn = store.conn().await.unwrap();
        assert_eq!(billing::abandoned_lines(&mut conn, oct).await.unwrap(), 0);
        assert_eq!(
            billing::lines_csv(&mut conn, oct).await.unwrap(),
            want,
            "after {n} runs at once"
        );
    }
}

async fn b4_two_months_correcting_the_same_finalized_month_at_once_correct_it_once(db: TestDb) {
    let store = &db.store;
    september_finalized_then_repriced(store).await;
    let other = match store.backend() {
        mpc_storage::Backend::Postgres => Store::connect(&db.url).await.unwrap(),
        mpc_storage::Backend::Sqlite => store.clone(),
    };
    // October and November are run at once; both correct September first.
    let (a, b) = tokio::join!(
        billing::run_month(
            store,
            "2026-10".parse().unwrap(),
            &noop,
            JournalEntry::new("test", "billing.run")
        ),
        billing::run_month(
            &other,
            "2026-11".parse().unwrap(),
            &noop,
            JournalEntry::new("test", "billing.run")
        ),
    );
    a.unwrap();
    b.unwrap();
    let mut conn = store.conn().await.unwrap();
    let corrections: Vec<(i64,)> =
        sqlx::query_as("SELECT amount FROM pending_adjustments WHERE kind = 'adjustment'")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    // September's management: ¥10,000 invoiced, ¥9,000 owed: one correction of −¥1,000.
    assert_eq!(corrections, [(-1_000,)]);
}

backend_tests!(
    a_month_is_billed_and_a_rerun_gives_the_same_invoices,
    a_missing_price_names_itself_and_changes_nothing,
    finalized_months_are_immutable_and_defaults_move_management_fees_back,
    corrections_of_a_finalized_month_go_on_the_next_invoice_once,
    b4_a_live_run_holds_its_month_and_a_dead_one_is_taken_over,
    b4_runs_of_one_month_at_once_leave_the_invoices_of_one_run,
    b4_two_months_correcting_the_same_finalized_month_at_once_correct_it_once
);
