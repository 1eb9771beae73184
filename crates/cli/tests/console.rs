//! The web console as people use it: a real `mpc serve` on the demo data, driven in headless
//! Chromium (Debian's `chromium` and `chromedriver`) through WebDriver, in Japanese and in
//! English; and a crawler that follows every console link from both dashboards.
//!
//! Screenshots of the main pages land in `target/console-screenshots/` for review.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use mpc_server::web::i18n::{EN, JA};

/// A server on a fresh SQLite database holding the demo data, and the passwords it printed.
struct Deployment {
    _dir: tempfile::TempDir,
    server: Child,
    url: String,
    passwords: HashMap<String, String>,
}

impl Drop for Deployment {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

fn mpc(db: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mpc"));
    c.env("MPC_DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("RUST_LOG", "warn");
    c
}

fn deploy() -> Deployment {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mpc.db");
    let seed = mpc(&db).args(["demo", "seed"]).output().unwrap();
    assert!(
        seed.status.success(),
        "{}",
        String::from_utf8_lossy(&seed.stderr)
    );
    let mut passwords = HashMap::new();
    for line in String::from_utf8_lossy(&seed.stdout).lines() {
        let cols: Vec<&str> = line.trim().split('\t').collect();
        if cols.len() == 3 {
            let user = cols[0].split_whitespace().next().unwrap().to_owned();
            passwords.insert(user, cols[1].to_owned());
        }
    }
    assert_eq!(passwords.len(), 3, "demo users: {passwords:?}");
    let mut server = mpc(&db)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let (mut url, mut admin) = (None, None);
    while url.is_none() || admin.is_none() {
        let line = lines.next().expect("server output").unwrap();
        if let Some(rest) = line.split(" serving on ").nth(1) {
            url = rest.split_whitespace().next().map(str::to_owned);
        }
        if let Some(p) = line.split("(change it after signing in): ").nth(1) {
            admin = Some(p.trim().to_owned());
        }
    }
    std::thread::spawn(move || for _ in lines {});
    passwords.insert("admin".into(), admin.unwrap());
    Deployment {
        _dir: dir,
        server,
        url: url.unwrap(),
        passwords,
    }
}

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/console-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// chromedriver on a free port, stopped when dropped.
struct Driver(Child, u16);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn chromedriver() -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut driver = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect(
            "chromedriver is missing: install Debian's chromium and chromium-driver \
             (scripts/test does it)",
        );
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Driver(driver, port);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = driver.kill();
    let _ = driver.wait();
    panic!("chromedriver did not start");
}

async fn browser(driver: &Driver, width: u32, height: u32) -> Client {
    let profile = tempfile::tempdir().unwrap().keep();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            // A browser in Japan: the console answers in Japanese until switched.
            "prefs": {"intl.accept_languages": "ja,en-US"},
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--lang=ja", format!("--window-size={width},{height}"),
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.1))
        .await
        .expect("start chromium")
}

async fn shot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
}

/// The text of the page's `main`, read again while a navigation replaces the page.
async fn text(client: &Client) -> String {
    for _ in 0..50 {
        if let Ok(main) = client.find(Locator::Css("main")).await
            && let Ok(text) = main.text().await
        {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no page");
}

/// Waits (up to 10 s) until the page's text holds `needle`; returns that text.
async fn until_text(client: &Client, needle: &str) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        last = text(client).await;
        if last.contains(needle) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page never showed {needle:?}: {last}");
}

async fn sign_in(client: &Client, d: &Deployment, user: &str) {
    client
        .goto(&format!("{}/console/login", d.url))
        .await
        .unwrap();
    client
        .find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys(user)
        .await
        .unwrap();
    client
        .find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(&d.passwords[user])
        .await
        .unwrap();
    client
        .find(Locator::Css("form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_url(&format!("{}/console/dashboard", d.url).parse().unwrap())
        .await
        .unwrap();
}

async fn sign_out(client: &Client) {
    client
        .find(Locator::Css("header form[action='/console/logout'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// The ids of the demo contractor's active service adapters, from its contract list.
async fn adapters(client: &Client, d: &Deployment) -> Vec<String> {
    client
        .goto(&format!("{}/console/contracts", d.url))
        .await
        .unwrap();
    let mut ids = Vec::new();
    for row in client.find_all(Locator::Css("tbody tr")).await.unwrap() {
        let cells = row.text().await.unwrap();
        let link = row.find(Locator::Css("a")).await.unwrap();
        let href = link.attr("href").await.unwrap().unwrap();
        let id = href
            .trim_start_matches("/console/contracts/")
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        let active = cells.contains(JA.status_active) || cells.contains(EN.status_active);
        if active && (cells.contains("SEIL") || cells.contains("SA-W2L")) && cells.contains('—') {
            ids.push(id);
        }
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contractor_and_operator_flows_in_both_languages() {
    let d = deploy();
    let driver = chromedriver();
    let client = browser(&driver, 1280, 900).await;

    // Japanese by default; the sign-in page says so.
    client.goto(&format!("{}/console", d.url)).await.unwrap();
    until_text(&client, JA.sign_in).await;
    shot(&client, "ja-login").await;

    // A wrong password is refused next to the form, in Japanese.
    client
        .find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys("minato")
        .await
        .unwrap();
    client
        .find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys("not the password")
        .await
        .unwrap();
    client
        .find(Locator::Css("form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until_text(&client, JA.bad_credentials).await;

    sign_in(&client, &d, "minato").await;
    until_text(&client, JA.coming_dates).await;
    shot(&client, "ja-dashboard").await;

    let ids = adapters(&client, &d).await;
    assert!(
        ids.len() >= 2,
        "active adapters without an end date: {ids:?}"
    );
    shot(&client, "ja-contracts").await;

    for (lang, id) in [("ja", &ids[0]), ("en", &ids[1])] {
        let t = if lang == "ja" { &JA } else { &EN };
        if lang == "en" {
            // The switch in the header keeps the page and remembers the choice.
            client
                .goto(&format!("{}/console/dashboard", d.url))
                .await
                .unwrap();
            client
                .find(Locator::LinkText(JA.switch_language))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            until_text(&client, EN.coming_dates).await;
            shot(&client, "en-dashboard").await;
        }

        // The contract and its timeline.
        client
            .goto(&format!("{}/console/contracts/{id}", d.url))
            .await
            .unwrap();
        until_text(&client, t.timeline).await;
        shot(&client, &format!("{lang}-contract")).await;

        // Cancellation: the quote with yen comes first; submitting needs the confirmation.
        client
            .find(Locator::LinkText(t.cancel_contract))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let quote = until_text(&client, t.early_termination_charge).await;
        assert!(
            quote.contains('円') || quote.contains('¥'),
            "the quote shows yen: {quote}"
        );
        shot(&client, &format!("{lang}-cancel-quote")).await;
        client
            .find(Locator::Css("input[name=understood]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        client
            .find(Locator::Css("form[method=post] button.danger"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let requests = until_text(&client, t.request_submitted).await;
        assert!(requests.contains(t.kind_cancel_contract), "{requests}");
        shot(&client, &format!("{lang}-requests")).await;

        // Preset parameters: two saves make two revisions; the diff shows the change.
        client
            .goto(&format!("{}/console/contracts/{id}/preset", d.url))
            .await
            .unwrap();
        for ntp in ["ntp1.example.jp", "ntp2.example.jp"] {
            // A remote-access router needs its IPsec key before anything saves (R17.1).
            if let Ok(psk) = client.find(Locator::Id("p-l2tp.pre_shared_key")).await {
                psk.send_keys("demo pre-shared key").await.unwrap();
            }
            let field = client.find(Locator::Id("p-ntp_server")).await.unwrap();
            field.clear().await.unwrap();
            field.send_keys(ntp).await.unwrap();
            client
                .find(Locator::Css("#preset-form form button[type=submit]"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            if client
                .wait()
                .at_most(Duration::from_secs(10))
                .for_element(Locator::Css("p.notice"))
                .await
                .is_err()
            {
                shot(&client, "failed-preset").await;
                panic!("no notice after saving: {}", text(&client).await);
            }
        }
        let diff = client
            .find(Locator::Css("pre.diff"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            diff.contains("ntp1.example.jp") && diff.contains("ntp2.example.jp"),
            "{diff}"
        );
        shot(&client, &format!("{lang}-preset")).await;

        // A bad address is named next to its field, with the rule.
        let field = client.find(Locator::Id("p-lan.address")).await;
        if let Ok(field) = field {
            field.clear().await.unwrap();
            field.send_keys("192.168.0.300").await.unwrap();
            client
                .find(Locator::Css("#preset-form form button[type=submit]"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            until_text(&client, "R17.1").await;
            let error = client.find(Locator::Css("#e-lan\\.address")).await.unwrap();
            assert!(!error.text().await.unwrap().is_empty());
        }
    }

    sign_out(&client).await;

    // The operator (still in English) runs last month's billing and opens an invoice.
    sign_in(&client, &d, "admin").await;
    until_text(&client, EN.nav_dashboard).await;
    shot(&client, "en-operator-dashboard").await;
    for (page, name) in [
        ("queue", "en-queue"),
        ("contractors", "en-contractors"),
        ("prices", "en-prices"),
        ("fleet", "en-fleet"),
        ("journal", "en-journal"),
        ("sla", "en-sla"),
        ("inventory", "en-inventory"),
    ] {
        client
            .goto(&format!("{}/console/{page}", d.url))
            .await
            .unwrap();
        text(&client).await;
        shot(&client, name).await;
    }
    client
        .goto(&format!("{}/console/billing", d.url))
        .await
        .unwrap();
    let today = mpc_domain::calendar::tokyo_date(jiff::Timestamp::now());
    let last_month = today
        .first_of_month()
        .checked_sub(jiff::ToSpan::months(1))
        .unwrap();
    let month = last_month.strftime("%Y-%m").to_string();
    client
        .execute(
            "document.getElementById('run-month').value = arguments[0]",
            vec![serde_json::json!(month)],
        )
        .await
        .unwrap();
    client
        .find(Locator::Css(
            "form[action='/console/billing/runs'] button[type=submit]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let invoice = client
        .wait()
        .for_element(Locator::Css("a[href^='/console/invoices/']"))
        .await
        .unwrap();
    shot(&client, "en-billing-month").await;
    invoice.click().await.unwrap();
    let page = until_text(&client, EN.total_with_tax).await;
    assert!(page.contains('¥'), "{page}");
    shot(&client, "en-invoice").await;
    // The same invoice in Japanese, through the header's switch.
    client
        .find(Locator::LinkText(EN.switch_language))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let page = until_text(&client, JA.total_with_tax).await;
    assert!(page.contains('円'), "{page}");
    shot(&client, "ja-invoice").await;
    let print = client
        .find(Locator::LinkText(JA.print_invoice))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    client.goto(&format!("{}{print}", d.url)).await.unwrap();
    let printed = client
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        printed.contains("適格請求書") && printed.contains("T1234567890123"),
        "{printed}"
    );
    shot(&client, "ja-printed-invoice").await;

    // A tablet-width look at the dashboard, in Japanese.
    let tablet = browser(&driver, 820, 1180).await;
    sign_in(&tablet, &d, "hokkai").await;
    shot(&tablet, "ja-dashboard-tablet").await;
    tablet.close().await.unwrap();

    client.close().await.unwrap();
}
/// Text nodes of a page that are exactly a message of the other language's catalog: UI text
/// left untranslated. (Data such as contractor names may be in either language.)
fn untranslated(html: &str, other: &[&'static str], own: &[&'static str]) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(close) = rest.find('>') {
        rest = &rest[close + 1..];
        let end = rest.find('<').unwrap_or(rest.len());
        let node = rest[..end].trim();
        // Messages made only of punctuation (a closing bracket) say nothing of a language.
        if node.chars().any(char::is_alphanumeric) && other.contains(&node) && !own.contains(&node)
        {
            found.push(node.to_owned());
        }
        rest = &rest[end..];
    }
    found
}

fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(|h| h.replace("&amp;", "&"))
        .filter(|h| {
            h.starts_with("/console")
                && !h.starts_with("/console/lang/")
                && !h.starts_with("/console/assets/")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_console_link_from_both_dashboards_answers_in_the_right_language() {
    let d = deploy();
    for user in ["minato", "admin"] {
        for (lang, own, other) in [("ja", JA.all(), EN.all()), ("en", EN.all(), JA.all())] {
            let http = reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::limited(5))
                .build()
                .unwrap();
            http.get(format!("{}/console/lang/{lang}", d.url))
                .send()
                .await
                .unwrap();
            let signed_in = http
                .post(format!("{}/console/login", d.url))
                .form(&[("username", user), ("password", d.passwords[user].as_str())])
                .send()
                .await
                .unwrap();
            assert_eq!(signed_in.status(), 200);
            let mut queue = VecDeque::from(["/console/dashboard".to_owned()]);
            let mut seen = BTreeSet::new();
            while let Some(path) = queue.pop_front() {
                if !seen.insert(path.clone()) || seen.len() > 400 {
                    continue;
                }
                let response = http.get(format!("{}{path}", d.url)).send().await.unwrap();
                let status = response.status();
                let html = response.text().await.unwrap();
                assert_eq!(status, 200, "{user} {lang} GET {path}: {html}");
                let wrong = untranslated(&html, &other, &own);
                assert!(
                    wrong.is_empty(),
                    "{user} {lang} {path} shows text of the other language: {wrong:?}"
                );
                if !path.ends_with("/print") {
                    queue.extend(links(&html));
                }
            }
            assert!(seen.len() > 8, "{user} {lang}: only {} pages", seen.len());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contracts_show_their_numbers_and_site_labels_in_both_languages() {
    let d = deploy();
    let driver = chromedriver();
    let client = browser(&driver, 1280, 900).await;
    sign_in(&client, &d, "minato").await;

    // The list: a number column and a site-name column, in Japanese.
    client
        .goto(&format!("{}/console/contracts", d.url))
        .await
        .unwrap();
    let list = until_text(&client, "C-000001").await;
    for shown in [
        JA.contract_number,
        JA.contract_label,
        "C-000003",
        "本社",
        "大阪支店",
    ] {
        assert!(list.contains(shown), "{shown}: {list}");
    }
    shot(&client, "ja-contracts-numbers").await;

    // A contract page asked for by number: its number and label head it.
    client
        .goto(&format!("{}/console/contracts/c-3", d.url))
        .await
        .unwrap();
    let page = until_text(&client, "C-000003").await;
    assert!(page.contains("大阪支店"), "{page}");

    // The holder renames the site on the page.
    let input = client.find(Locator::Id("label")).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys("大阪第二支店").await.unwrap();
    client
        .find(Locator::Css("form[action$='/label'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until_text(&client, "大阪第二支店").await;
    shot(&client, "ja-contract-label").await;

    // In English: the same number and label, English headings.
    client
        .goto(&format!("{}/console/lang/en", d.url))
        .await
        .unwrap();
    client
        .goto(&format!("{}/console/contracts", d.url))
        .await
        .unwrap();
    let list = until_text(&client, EN.contract_number).await;
    for shown in [EN.contract_label, "C-000003", "大阪第二支店"] {
        assert!(list.contains(shown), "{shown}: {list}");
    }
    client
        .goto(&format!("{}/console/contracts/C-000003", d.url))
        .await
        .unwrap();
    let page = until_text(&client, EN.contract_label_save).await;
    assert!(
        page.contains("C-000003") && page.contains("大阪第二支店"),
        "{page}"
    );
    shot(&client, "en-contract-label").await;
    client.close().await.unwrap();
}
