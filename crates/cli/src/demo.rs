//! `mpc demo seed`: a small living system for newcomers — three contractors, a management
//! another contractor rides on, service adapters of all nine item × device-type combinations,
//! options, a packet share group, SIMs with daily use (one of them over its cap), a cancellation
//! in progress, a replaced device, requests waiting in the queue, and the devices in the
//! inventory with a week of heartbeats (UP, DOWN, never connected, in stock). Everything goes
//! through the same rules as the API.
//!
//! It seeds storage directly rather than through [`mpc_server::app`]: it writes a back-dated
//! history (requests decided on past days, consents given weeks ago) that no use case, which
//! acts today as its caller, offers, and its journal rows name `demo` as their actor.

use anyhow::{anyhow, bail};
use jiff::ToSpan;
use jiff::civil::Date;
use mpc_domain::access::Role;
use mpc_domain::book::Effect;
use mpc_domain::calendar::{first_of_next_month, is_last_day_of_month, tokyo_start_of_day};
use mpc_domain::catalog::DeviceType;
use mpc_domain::contract::set_billing_start;
use mpc_domain::request::{Acceptance, Request};
use mpc_storage::accounts::{self, NewUser};
use mpc_storage::contracts::{parties, requests};
use mpc_storage::controller::{self, InventoryRecord, SecretKey};
use mpc_storage::{JournalEntry, Store, mobile};
use serde_json::json;

use crate::contracts::{engine_error, refusal};

const HOST: &str = "株式会社みなと商事";

struct Seeder<'a> {
    store: &'a Store,
}

impl Seeder<'_> {
    /// A contractor with one user; returns its id, the user's API token and console password.
    async fn contractor(
        &self,
        name: &str,
        username: &str,
    ) -> anyhow::Result<(String, String, String)> {
        let mut tx = self.store.write().await?;
        let c = accounts::create_contractor(&mut tx, name).await?;
        let user = accounts::create_user(
            &mut tx,
            &NewUser {
                username,
                display_name: name,
                role: Role::Contractor,
                contractor_id: Some(&c.id),
            },
        )
        .await?;
        let (_, secret) = accounts::issue_token(&mut tx, &user.id, "demo").await?;
        tx.commit(
            JournalEntry::new("demo", "demo.contractor")
                .contractor(Some(&c.id))
                .subject(&c.id),
        )
        .await?;
        let password = accounts::generate_password()?;
        // The demo's passwords are handed out to try the console with: they stay.
        accounts::reset_password(
            self.store,
            &user.id,
            &password,
            accounts::PasswordLife::Kept,
            JournalEntry::new("demo", "demo.password").contractor(Some(&c.id)),
        )
        .await?;
        Ok((c.id, secret, password))
    }

    /// A list price for every key of the catalog and the issuer of the invoices, so quotes and
    /// billing runs show yen. The amounts are the demo's own, not a real tariff.
    async fn price_book(&self, today: Date) -> anyhow::Result<()> {
        use mpc_domain::catalog::{DeviceType, Item, NetworkType};
        use mpc_domain::money::Yen;
        use mpc_domain::price::{Price, PriceKey};
        let from = today.first_of_year().checked_sub(1.year())?;
        let prices: Vec<Price> = PriceKey::all()
            .into_iter()
            .map(|key| {
                let amount = match key {
                    PriceKey::ManagementInitial => 30_000,
                    PriceKey::ManagementMonthly => 12_000,
                    PriceKey::AdapterInitial(..) => 15_000,
                    PriceKey::AdapterMonthly(item, device) => {
                        let by_item = match item {
                            Item::InternetGateway => 4_000,
                            Item::RemoteAccess => 6_000,
                            Item::PppoeTermination => 5_000,
                        };
                        let by_device = match device {
                            DeviceType::SeilX4 => 2_000,
                            DeviceType::SaW2l => 0,
                            DeviceType::SeilCa10 => 1_000,
                        };
                        by_item + by_device
                    }
                    PriceKey::SendbackInitial => 5_000,
                    PriceKey::SendbackMonthly => 1_500,
                    PriceKey::MobileInitial(_) => 3_000,
                    PriceKey::MobileMonthly(NetworkType::DynamicIp, _) => 1_200,
                    PriceKey::MobileMonthly(NetworkType::FixedIp, _) => 2_000,
                    PriceKey::GroupInitial => 0,
                    PriceKey::GroupMonthlyBase => 2_000,
                    PriceKey::GroupMonthlyPerGb => 150,
                    PriceKey::ItemChangeFee => 8_000,
                    PriceKey::NetworkTypeToFixedFee => 2_000,
                    PriceKey::ContractorCausedFailureFee => 30_000,
                    PriceKey::LossFee(_) => 60_000,
                };
                Price {
                    key,
                    contractor_id: None,
                    effective_from: from,
                    amount: Yen(amount),
                }
            })
            .collect();
        let mut tx = self.store.write().await?;
        mpc_storage::billing::upsert_prices(&mut tx, &prices).await?;
        mpc_storage::billing::set_issuer(
            &mut tx,
            &mpc_storage::billing::Issuer {
                name: "デモ通信株式会社".into(),
                registration_number: "T1234567890123".into(),
                address: "東京都千代田区大手町一丁目1番1号".into(),
                contact: "03-0000-0000".into(),
            },
        )
        .await?;
        tx.commit(JournalEntry::new("demo", "demo.prices")).await?;
        Ok(())
    }

    /// Binds SIM `iccid` to `option` from `from`, with `daily` bytes a day from `since` until
    /// the day before `today`.
    async fn sim(
        &self,
        iccid: &str,
        option: &str,
        from: Date,
        since: Date,
        today: Date,
        daily: i64,
    ) -> anyhow::Result<()> {
        mobile::bind_sim(
            self.store,
            iccid,
            option,
            from,
            JournalEntry::new("demo", "demo.sim"),
        )
        .await?
        .map_err(refusal)?;
        let mut records = Vec::new();
        let mut day = since;
        while day < today {
            let next = day.tomorrow()?;
            records.push(mobile::Incoming {
                line: records.len() + 1,
                record_id: format!("demo-{iccid}-{day}"),
                iccid: iccid.to_owned(),
                start: tokyo_start_of_day(day)?.as_microsecond(),
                end: tokyo_start_of_day(next)?.as_microsecond(),
                bytes_up: daily / 10,
                bytes_down: daily - daily / 10,
            });
            day = next;
        }
        mobile::ingest(
            self.store,
            records,
            Vec::new(),
            JournalEntry::new("demo", "demo.usage"),
        )
        .await?;
        Ok(())
    }

    /// Submits and accepts on `on`; returns the effects.
    async fn accept(
        &self,
        contractor: &str,
        request: serde_json::Value,
        on: Date,
    ) -> anyhow::Result<Vec<Effect>> {
        self.accept_with(
            contractor,
            request,
            on,
            Acceptance {
                on: Some(on),
                ..Default::default()
            },
        )
        .await
    }

    async fn accept_with(
        &self,
        contractor: &str,
        request: serde_json::Value,
        submitted_on: Date,
        acceptance: Acceptance,
    ) -> anyhow::Result<Vec<Effect>> {
        let parsed: Request = serde_json::from_value(request.clone())?;
        let (_, decision) = requests::submit(
            self.store,
            contractor,
            &parsed,
            submitted_on,
            "demo",
            Some(&acceptance),
            JournalEntry::new("demo", "request.submit").request(request),
        )
        .await
        .map_err(engine_error)?;
        Ok(decision.map(|d| d.effects).unwrap_or_default())
    }

    async fn pending(
        &self,
        contractor: &str,
        request: serde_json::Value,
        on: Date,
    ) -> anyhow::Result<()> {
        let parsed: Request = serde_json::from_value(request.clone())?;
        requests::submit(
            self.store,
            contractor,
            &parsed,
            on,
            "demo",
            None,
            JournalEntry::new("demo", "request.submit").request(request),
        )
        .await
        .map_err(engine_error)?;
        Ok(())
    }

    async fn contract(
        &self,
        contractor: &str,
        request: serde_json::Value,
        on: Date,
    ) -> anyhow::Result<String> {
        self.accept(contractor, request, on)
            .await?
            .iter()
            .find_map(|e| match e {
                Effect::ContractCreated(c) => Some(c.id.clone()),
                _ => None,
            })
            .ok_or_else(|| anyhow!("no contract created"))
    }

    async fn billing_start(
        &self,
        contractor: &str,
        contract: &str,
        on: Date,
    ) -> anyhow::Result<()> {
        requests::record(
            self.store,
            contractor,
            JournalEntry::new("demo", "contract.billing_start").subject(contract),
            |book| set_billing_start(book, contract, on),
        )
        .await
        .map_err(engine_error)?;
        Ok(())
    }

    /// A service adapter under `management`, billed from `on`, with its serial notified when
    /// given, at the site named `site`.
    #[allow(clippy::too_many_arguments)]
    async fn adapter(
        &self,
        contractor: &str,
        management: &str,
        item: &str,
        device_type: &str,
        on: Date,
        serial: Option<&str>,
        site: &str,
    ) -> anyhow::Result<String> {
        let a = self
            .contract(
                contractor,
                json!({"kind": "apply_contract", "contract_kind": "service_adapter", "item": item,
                       "device_type": device_type, "management_id": management, "label": site}),
                on,
            )
            .await?;
        if let Some(serial) = serial {
            self.accept(
                contractor,
                json!({"kind": "notify_serial", "contract_id": a, "serial": serial}),
                on,
            )
            .await?;
            self.billing_start(contractor, &a, on.checked_add(2.days())?)
                .await?;
        }
        Ok(a)
    }

    async fn sendback(
        &self,
        contractor: &str,
        contract: &str,
        address: &str,
        on: Date,
    ) -> anyhow::Result<()> {
        self.accept(
            contractor,
            json!({"kind": "add_option", "contract_id": contract, "option_kind": "ultra_sendback", "install_address": address}),
            on,
        )
        .await?;
        Ok(())
    }
}

/// The demo's devices in the inventory, each with the story its monitoring tells.
const LIVE: [&str; 8] = [
    "X4-24A0-00102",
    "CA10-24B1-00201",
    "W2L-24C2-00301",
    "W2L-24C2-00302",
    "X4-24A0-00188",
    "CA10-24B1-00401",
    "CA10-24B1-00403",
    "X4-24A0-00501",
];
/// UP now, after half a day DOWN three days ago.
const RECOVERED: &str = "W2L-24C2-00302";
/// Also an SMFv2 unit: its heartbeats carry figures (CPU, memory, traffic).
const SMFV2: &str = "CA10-24B1-00201";
const SMFV2_DISTRIBUTION_ID: &str = "DE30-0000-0000-0000-0000-0000-0000-0201";
/// A day of five-minute SMFv2 heartbeats.
const FIGURES_SEEDED: i64 = 288;
const FIVE_MINUTES: i64 = 300_000_000;
/// DOWN for the past five hours.
const SILENT: &str = "CA10-24B1-00403";
/// Assigned to a contract, never connected.
const NEVER_CONNECTED: &str = "W2L-24C2-00402";
/// In stock: the failed unit released from its contract, one whose serial is still to be
/// accepted (a pending request) and a spare.
const IN_STOCK: [&str; 3] = ["X4-24A0-00101", "W2L-24C2-00599", "X4-24A0-00900"];

impl Seeder<'_> {
    /// Puts the demo's devices in the inventory and gives them a week of heartbeats: most UP,
    /// one with a DOWN stretch three days ago, one DOWN now, one never connected and three in
    /// stock, so the fleet page and its charts have something to show.
    async fn monitoring(&self, key: &SecretKey) -> anyhow::Result<()> {
        let serials = LIVE
            .iter()
            .chain([NEVER_CONNECTED].iter())
            .chain(IN_STOCK.iter());
        let rows: Vec<InventoryRecord> = serials
            .enumerate()
            .map(|(i, serial)| {
                Ok(InventoryRecord {
                    line: i + 1,
                    serial: (*serial).to_owned(),
                    model: model_of(serial)?,
                    factory_secret: format!("demo-factory-secret-{serial}"),
                    smfv2: (*serial == SMFV2)
                        .then(|| mpc_storage::smfv2::Identity::generate(SMFV2_DISTRIBUTION_ID)),
                })
            })
            .collect::<anyhow::Result<_>>()?;
        controller::import_inventory(
            self.store,
            key,
            &rows,
            JournalEntry::new("demo", DEMO_INVENTORY),
        )
        .await?
        .map_err(|e| anyhow!("demo inventory refused: {e:?}"))?;

        const HOUR: i64 = 3_600_000_000;
        let down_after =
            i64::try_from(mpc_domain::monitoring::DOWN_AFTER.as_micros()).unwrap_or(i64::MAX);
        let now = mpc_storage::now_micros();
        let beat = |serial: &str, at: i64| {
            let store = self.store;
            let serial = serial.to_owned();
            async move {
                let firmware = if serial.starts_with("W2L") {
                    "4.12"
                } else {
                    "3.80"
                };
                controller::heartbeat(
                    store,
                    &serial,
                    &controller::Heartbeat {
                        firmware: firmware.into(),
                        uptime_seconds: (at - now + 7 * 24 * HOUR).max(0) / 1_000_000,
                        applied_revision: Some(1),
                    },
                    at,
                )
                .await
            }
        };
        // Everyone calls home a week ago; three days ago all but one keep calling, and the
        // monitor marks that one DOWN; half a day later it is back.
        let (week_ago, dip, back, silent_from) = (
            now - 156 * HOUR,
            now - 72 * HOUR,
            now - 60 * HOUR,
            now - 5 * HOUR,
        );
        for serial in LIVE {
            beat(serial, week_ago).await?;
        }
        for serial in LIVE.iter().filter(|s| **s != RECOVERED) {
            beat(serial, dip - 60_000_000).await?;
        }
        controller::mark_silent_down(self.store, dip, down_after).await?;
        beat(RECOVERED, back).await?;
        // SILENT's last call is 20 minutes before the sweep that marks it DOWN; the others'
        // one minute before it.
        for serial in LIVE {
            beat(serial, silent_from - HOUR / 3).await?;
        }
        for serial in LIVE.iter().filter(|s| **s != SILENT) {
            beat(serial, silent_from - 60_000_000).await?;
        }
        controller::mark_silent_down(self.store, silent_from, down_after).await?;
        for serial in LIVE.iter().filter(|s| **s != SILENT) {
            beat(serial, now).await?;
        }
        // The SMFv2 unit's last day of five-minute heartbeats, with their figures.
        for i in (0..FIGURES_SEEDED).rev() {
            let at = now - i * FIVE_MINUTES;
            controller::heard(self.store, SMFV2, at, &demo_figures(at / FIVE_MINUTES)).await?;
        }
        Ok(())
    }
}

/// The model a demo serial names by its prefix.
fn model_of(serial: &str) -> anyhow::Result<DeviceType> {
    let name = match serial.split('-').next() {
        Some("X4") => "SEIL/X4",
        Some("W2L") => "SA-W2L",
        Some("CA10") => "SEIL CA10",
        _ => bail!("no model for the demo serial {serial}"),
    };
    Ok(name.parse()?)
}

fn created_option(effects: &[Effect]) -> Option<String> {
    effects.iter().find_map(|e| match e {
        Effect::OptionCreated(o) => Some(o.id.clone()),
        _ => None,
    })
}

fn created_group(effects: &[Effect]) -> Option<String> {
    effects.iter().find_map(|e| match e {
        Effect::GroupCreated(g) => Some(g.id.clone()),
        _ => None,
    })
}

/// Loads the demo data set, dated around `today`; prints the contractors' API tokens.
/// The demo's devices go in the inventory, with a week of heartbeats, when `key` (the secret
/// key `mpc serve` seals factory secrets with) is given.
pub async fn seed(store: &Store, key: Option<&SecretKey>, today: Date) -> anyhow::Result<()> {
    let existing = accounts::list_contractors(
        store,
        None,
        Some(HOST),
        &accounts::Page {
            after: None,
            limit: 1,
        },
    )
    .await?;
    if !existing.is_empty() {
        bail!("the demo data is already loaded (contractor {HOST} exists)");
    }
    let s = Seeder { store };
    s.price_book(today).await?;
    // Everything starts on the first day of the month six months ago.
    let start = today.first_of_month().checked_sub(6.months())?;
    let day = |n: i64| start.checked_add(n.days());

    let (minato, minato_token, minato_password) = s.contractor(HOST, "minato").await?;
    let (hokkai, hokkai_token, hokkai_password) =
        s.contractor("北海ロジスティクス株式会社", "hokkai").await?;
    let (sakura, sakura_token, sakura_password) =
        s.contractor("有限会社さくら薬局", "sakura").await?;

    let mut tx = store.write().await?;
    for (c, reference) in [
        (&minato, "IIJ-SVC-100234"),
        (&hokkai, "IIJ-SVC-100871"),
        (&sakura, "IIJ-SVC-101502"),
    ] {
        parties::add_designated_service(&mut tx, c, reference, start)
            .await
            .map_err(engine_error)?;
    }
    tx.commit(JournalEntry::new("demo", "designated_service.add"))
        .await?;

    // みなと商事: its own management, which 北海ロジスティクス rides on (R6.2).
    let m1 = s
        .contract(
            &minato,
            json!({"kind": "apply_contract", "contract_kind": "management", "label": "本社"}),
            start,
        )
        .await?;
    s.billing_start(&minato, &m1, start).await?;
    let ig_x4 = s
        .adapter(
            &minato,
            &m1,
            "internet_gateway",
            "SEIL/X4",
            day(1)?,
            Some("X4-24A0-00101"),
            "本社",
        )
        .await?;
    s.sendback(
        &minato,
        &ig_x4,
        "東京都港区海岸1-2-3 みなと商事本社",
        day(1)?,
    )
    .await?;
    s.adapter(
        &minato,
        &m1,
        "remote_access",
        "SEIL/X4",
        day(1)?,
        Some("X4-24A0-00102"),
        "大阪支店",
    )
    .await?;
    s.adapter(
        &minato,
        &m1,
        "pppoe_termination",
        "SEIL CA10",
        day(2)?,
        Some("CA10-24B1-00201"),
        "名古屋営業所",
    )
    .await?;
    let ig_w2l = s
        .adapter(
            &minato,
            &m1,
            "internet_gateway",
            "SA-W2L",
            day(3)?,
            Some("W2L-24C2-00301"),
            "福岡支店",
        )
        .await?;
    let ra_w2l = s
        .adapter(
            &minato,
            &m1,
            "remote_access",
            "SA-W2L",
            day(3)?,
            Some("W2L-24C2-00302"),
            "横浜倉庫",
        )
        .await?;
    let founder = s
        .accept(&minato, json!({"kind": "add_option", "contract_id": ig_w2l, "option_kind": "mobile_access",
            "usage_type": "packet_share", "network_type": "dynamic_ip", "group": {"new_group_pack_gb": 100}}), day(5)?)
        .await?;
    let group = created_group(&founder).ok_or_else(|| anyhow!("no group"))?;
    let member = s
        .accept(&minato, json!({"kind": "add_option", "contract_id": ra_w2l, "option_kind": "mobile_access",
            "usage_type": "packet_share", "network_type": "fixed_ip", "group": {"group_id": group}}), day(5)?)
        .await?;
    let founder_sim = created_option(&founder).ok_or_else(|| anyhow!("no SIM"))?;
    let member_sim = created_option(&member).ok_or_else(|| anyhow!("no SIM"))?;
    // The pack grows from next month (R9.6).
    s.accept(
        &minato,
        json!({"kind": "change_pack", "group_id": group, "pack_gb": 150}),
        today,
    )
    .await?;
    // A replaced device: the SEIL/X4 failed 40 days ago; staff brought a new one on site (R11).
    let failed_on = today.checked_sub(40.days())?;
    s.accept_with(
        &minato,
        json!({"kind": "report_failure", "contract_id": ig_x4, "description": "電源が入らない"}),
        failed_on,
        Acceptance {
            on: Some(failed_on),
            replacement_serial: Some("X4-24A0-00188".into()),
            replaced_on: Some(failed_on.checked_add(1.day())?),
            ..Default::default()
        },
    )
    .await?;

    // 北海ロジスティクス: rides on みなと商事's management once it consents.
    let mut tx = store.write().await?;
    let designation = parties::create_designation(&mut tx, &hokkai, &m1, day(2)?)
        .await
        .map_err(engine_error)?;
    parties::consent_designation(&mut tx, &designation.id, day(3)?)
        .await
        .map_err(engine_error)?;
    tx.commit(
        JournalEntry::new("demo", "designation.create")
            .contractor(Some(&hokkai))
            .subject(&designation.id),
    )
    .await?;
    let ig_ca10 = s
        .adapter(
            &hokkai,
            &m1,
            "internet_gateway",
            "SEIL CA10",
            day(4)?,
            Some("CA10-24B1-00401"),
            "札幌本店",
        )
        .await?;
    s.sendback(
        &hokkai,
        &ig_ca10,
        "北海道札幌市中央区北1条西2-1 物流センター",
        day(4)?,
    )
    .await?;
    let pt_w2l = s
        .adapter(
            &hokkai,
            &m1,
            "pppoe_termination",
            "SA-W2L",
            day(4)?,
            Some("W2L-24C2-00402"),
            "函館営業所",
        )
        .await?;
    let capped = s
        .accept(
            &hokkai,
            json!({"kind": "add_option", "contract_id": pt_w2l, "option_kind": "mobile_access",
            "usage_type": "plan_10gb", "network_type": "dynamic_ip"}),
            day(6)?,
        )
        .await?;
    let capped_sim = created_option(&capped).ok_or_else(|| anyhow!("no SIM"))?;
    let ra_ca10 = s
        .adapter(
            &hokkai,
            &m1,
            "remote_access",
            "SEIL CA10",
            day(4)?,
            Some("CA10-24B1-00403"),
            "旭川倉庫",
        )
        .await?;
    // A cancellation in progress: notice 5 days ago, asking for the end of next month (R13.1).
    let next_month_end = first_of_next_month(today)?.last_of_month();
    s.accept(&hokkai, json!({"kind": "cancel_contract", "contract_id": ra_ca10, "requested_on": next_month_end.to_string()}),
        today.checked_sub(5.days())?).await?;
    // みなと商事 has its management fees invoiced to 北海ロジスティクス (R6.3).
    let mut tx = store.write().await?;
    let redirect = parties::create_redirect(&mut tx, &m1, &hokkai, day(8)?)
        .await
        .map_err(engine_error)?;
    parties::consent_redirect(&mut tx, &redirect.id, day(9)?)
        .await
        .map_err(engine_error)?;
    parties::approve_redirect(&mut tx, &redirect.id, day(10)?)
        .await
        .map_err(engine_error)?;
    tx.commit(
        JournalEntry::new("demo", "invoice_redirect.create")
            .contractor(Some(&minato))
            .subject(&redirect.id),
    )
    .await?;

    // さくら薬局: its own management; one adapter still waits for its serial (R7.1).
    let m3 = s
        .contract(
            &sakura,
            json!({"kind": "apply_contract", "contract_kind": "management", "label": "京都本店"}),
            day(14)?,
        )
        .await?;
    s.billing_start(&sakura, &m3, day(14)?).await?;
    let pt_x4 = s
        .adapter(
            &sakura,
            &m3,
            "pppoe_termination",
            "SEIL/X4",
            day(15)?,
            Some("X4-24A0-00501"),
            "京都本店",
        )
        .await?;
    s.sendback(
        &sakura,
        &pt_x4,
        "神奈川県横浜市中区本町4-5 さくら薬局",
        day(15)?,
    )
    .await?;
    let w2l = s
        .adapter(
            &sakura,
            &m3,
            "internet_gateway",
            "SA-W2L",
            today.checked_sub(3.days())?,
            None,
            "神戸支店",
        )
        .await?;
    let backup = s
        .accept(
            &sakura,
            json!({"kind": "add_option", "contract_id": w2l, "option_kind": "mobile_access",
            "usage_type": "backup", "network_type": "dynamic_ip"}),
            today.checked_sub(3.days())?,
        )
        .await?;
    let backup_sim = created_option(&backup).ok_or_else(|| anyhow!("no SIM"))?;

    // SIMs with one record a day since the 1st of last month: the group's two members pool
    // 3.6 GB a day against its 100 GB pack, the plan_10gb SIM uses 480 MB a day and goes over
    // its cap on the 21st (R9.6, R9.9).
    let since = today.first_of_month().checked_sub(1.month())?;
    for (n, option, from, daily) in [
        (1, &founder_sim, day(5)?, 1_800_000_000),
        (2, &member_sim, day(5)?, 1_800_000_000),
        (3, &capped_sim, day(6)?, 480_000_000),
        (4, &backup_sim, today.checked_sub(3.days())?, 30_000_000),
    ] {
        s.sim(
            &format!("898110000000000100{n}"),
            option,
            from,
            since.max(from),
            today,
            daily,
        )
        .await?;
    }

    // Requests waiting for an operator.
    let request_day = if is_last_day_of_month(today) {
        today.checked_sub(1.day())?
    } else {
        today
    };
    s.pending(
        &minato,
        json!({"kind": "change_usage_type", "option_id": member_sim, "usage_type": "plan_50gb"}),
        request_day,
    )
    .await?;
    s.pending(
        &sakura,
        json!({"kind": "change_item", "contract_id": pt_x4, "item": "internet_gateway"}),
        request_day,
    )
    .await?;
    s.pending(
        &sakura,
        json!({"kind": "notify_serial", "contract_id": w2l, "serial": "W2L-24C2-00599"}),
        request_day,
    )
    .await?;

    let devices = match key {
        Some(key) => {
            s.monitoring(key).await?;
            ", 12 devices with a week of heartbeats (one an SMFv2 unit with a day of figures)"
        }
        None => {
            ", and no devices: the inventory seals factory secrets with the server's secret \
             key, and a PostgreSQL database has none unless MPC_SECRET_KEY or \
             MPC_SECRET_KEY_FILE is set (set it, as `mpc serve` needs it too, and seed a \
             fresh database)"
        }
    };

    println!(
        "demo data loaded (dated around {today}): 3 contractors, 2 managements, 10 service adapters, 4 SIMs, 3 pending requests{devices}"
    );
    println!("contractor users (console password, then API token; shown only this once):");
    println!("  minato  {HOST}\t{minato_password}\t{minato_token}");
    println!("  hokkai  北海ロジスティクス株式会社\t{hokkai_password}\t{hokkai_token}");
    println!("  sakura  有限会社さくら薬局\t{sakura_password}\t{sakura_token}");
    Ok(())
}

/// The operation the demo's inventory is journalled under; its presence marks a demo database.
const DEMO_INVENTORY: &str = "demo.inventory";

/// The demo devices that are UP when seeding ends: every live one but [`SILENT`].
fn kept_alive() -> impl Iterator<Item = &'static str> {
    LIVE.into_iter().filter(|s| *s != SILENT)
}

/// When the database holds the demo's devices, `mpc serve` keeps them calling home: the seeded
/// heartbeats end when seeding does, and without more the whole demo fleet would turn DOWN
/// `down_after` later. The devices seeded UP beat every `down_after / 3` (at most a minute
/// apart); the one seeded DOWN stays silent and the one never connected stays so. Returns
/// `None`, and beats nothing, on a database with no demo devices.
///
/// # Errors
/// The database's, when reading whether the demo was seeded.
pub async fn spawn_keep_alive(
    store: Store,
    down_after: std::time::Duration,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    let seeded = mpc_storage::journal::count(
        &store,
        &mpc_storage::journal::JournalQuery {
            operation: Some(DEMO_INVENTORY.to_owned()),
            limit: 1,
            ..Default::default()
        },
    )
    .await?;
    if seeded == 0 {
        return Ok(None);
    }
    let every = (down_after / 3).clamp(
        std::time::Duration::from_secs(1),
        std::time::Duration::from_secs(60),
    );
    Ok(Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(e) = beat_once(&store).await {
                tracing::warn!(error = %e, "demo heartbeats");
            }
        }
    })))
}

/// One heartbeat from each demo device seeded UP that is still in the inventory, with the
/// firmware and revision it last reported and its uptime grown by the time since.
async fn beat_once(store: &Store) -> anyhow::Result<()> {
    let today = mpc_domain::calendar::tokyo_date(jiff::Timestamp::now()).to_string();
    let devices = controller::monitored(
        &mut *store.conn().await?,
        &controller::MonitorFilter::default(),
        &today,
    )
    .await?;
    let now = mpc_storage::now_micros();
    for serial in kept_alive() {
        let Some(d) = devices.iter().find(|d| d.serial == serial) else {
            continue;
        };
        let since = d
            .last_heartbeat
            .map_or(0, |at| (now - at).max(0) / 1_000_000);
        let firmware = d.firmware.clone().unwrap_or_else(|| {
            if serial.starts_with("W2L") {
                "4.12".into()
            } else {
                "3.80".into()
            }
        });
        controller::heartbeat(
            store,
            serial,
            &controller::Heartbeat {
                firmware,
                uptime_seconds: d.uptime_seconds.unwrap_or(0) + since,
                applied_revision: d.applied_revision.or(Some(1)),
            },
            now,
        )
        .await?;
        // The SMFv2 unit sends its figures every five minutes, as it did when seeded.
        if serial == SMFV2 {
            let latest = controller::figures(store, serial, 1).await?;
            if latest
                .first()
                .is_none_or(|(at, _)| now - at >= FIVE_MINUTES)
            {
                controller::heard(store, serial, now, &demo_figures(now / FIVE_MINUTES)).await?;
            }
        }
    }
    Ok(())
}

/// Plausible figures for the demo's SMFv2 unit's `n`th five-minute heartbeat: CPU use and
/// traffic that rise and fall over the day, memory that creeps up, in the shape the heartbeat
/// listener stores.
fn demo_figures(n: i64) -> String {
    // A triangle wave over a day (288 beats): 0 at midnight's beat, 144 at noon's.
    let phase = n.rem_euclid(288);
    let wave = if phase < 144 { phase } else { 288 - phase };
    let cpu = 5 + wave * 60 / 144;
    let used = 180_000_000 + (n.rem_euclid(96)) * 1_000_000;
    let (rate_in, rate_out) = (20_000 + wave * 2_000, 5_000 + wave * 500);
    json!({
        "cpus": [{"index": 0, "utilisation": cpu}],
        "cpu_details": [],
        "memory": [{"index": 0, "used": used, "available": 512_000_000 - used}],
        "disks": [],
        "traffic": [],
        "traffic_rates": [{"ifindex": 1, "in_octets": rate_in, "out_octets": rate_out,
            "in_packets": rate_in / 500, "out_packets": rate_out / 500,
            "in_errors": 0, "out_errors": 0}],
        "radios": [],
    })
    .to_string()
}
