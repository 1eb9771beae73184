//! The console's words in Japanese and English.
//!
//! One typed catalog: every message is a field of [`Msgs`], written once with both its
//! translations, so a message without a translation does not compile. Japanese is the default;
//! English on request (a switch in the page, or `Accept-Language`).

use mpc_domain::book::{DeviceState, EndReason, Status};
use mpc_domain::money::Yen;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Ja,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language a browser prefers most among the two, from `Accept-Language`; Japanese when
    /// it names neither.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(Lang, u16)> = None;
        for part in header.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .map_or(1000, |q| (q.clamp(0.0, 1.0) * 1000.0) as u16);
            let lang = match tag.split('-').next() {
                Some("ja") => Lang::Ja,
                Some("en") => Lang::En,
                _ => continue,
            };
            if best.is_none_or(|(_, bq)| q > bq) {
                best = Some((lang, q));
            }
        }
        best.map_or(Lang::Ja, |(l, _)| l)
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Ja => Lang::En,
            Lang::En => Lang::Ja,
        }
    }

    pub fn t(self) -> &'static Msgs {
        match self {
            Lang::Ja => &JA,
            Lang::En => &EN,
        }
    }

    /// Picks the text of this language from a pair.
    pub fn pick<'a>(self, ja: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }

    /// `1,234円` or `¥1,234`.
    pub fn yen(self, amount: Yen) -> String {
        let v = amount.0;
        let digits = v.unsigned_abs().to_string();
        let mut grouped = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        let sign = if v < 0 { "-" } else { "" };
        match self {
            Lang::Ja => format!("{sign}{grouped}円"),
            Lang::En => format!("{sign}¥{grouped}"),
        }
    }

    /// A `YYYY-MM-DD` date as people read it: `2026年11月24日` or `24 Nov 2026`.
    pub fn date(self, iso: &str) -> String {
        let Ok(d) = iso.parse::<jiff::civil::Date>() else {
            return iso.to_owned();
        };
        match self {
            Lang::Ja => format!("{}年{}月{}日", d.year(), d.month(), d.day()),
            Lang::En => d.strftime("%-d %b %Y").to_string(),
        }
    }

    pub fn status(self, s: Status) -> &'static str {
        let t = self.t();
        match s {
            Status::Pending => t.status_pending,
            Status::Active => t.status_active,
            Status::Ended => t.status_ended,
        }
    }

    pub fn device_state(self, s: DeviceState) -> &'static str {
        let t = self.t();
        match s {
            DeviceState::Stock => t.device_stock,
            DeviceState::InService => t.device_in_service,
            DeviceState::AwaitingReturn => t.device_awaiting_return,
            DeviceState::Returned => t.device_returned,
            DeviceState::Lost => t.device_lost,
            DeviceState::Found => t.device_found,
        }
    }

    pub fn end_reason(self, r: EndReason) -> &'static str {
        let t = self.t();
        match r {
            EndReason::Notice => t.end_notice,
            EndReason::SendbackStopped => t.end_sendback_stopped,
            EndReason::ContractEnded => t.end_contract_ended,
            EndReason::GroupStopped => t.end_group_stopped,
            EndReason::LastMemberLeft => t.end_last_member_left,
            EndReason::GeneralTermsArt28Para2 => t.end_art28_2,
            EndReason::GeneralTermsArt28Para3 => t.end_art28_3,
        }
    }
}

/// Declares [`Msgs`] with its Japanese and English instances from one table of
/// `key: "日本語", "English";` rows.
macro_rules! catalog {
    ($($key:ident: $ja:literal, $en:literal;)+) => {
        /// Every message of the console, in one language.
        pub struct Msgs {
            $(pub $key: &'static str,)+
        }

        pub static JA: Msgs = Msgs { $($key: $ja,)+ };
        pub static EN: Msgs = Msgs { $($key: $en,)+ };

        impl Msgs {
            /// Every message (for checking that a page shows no text of the other language).
            pub fn all(&self) -> Vec<&'static str> {
                vec![$(self.$key,)+]
            }
        }
    };
}

catalog! {
    app_name: "MPCサービス プリセット", "MPC Service Preset";
    console: "コンソール", "Console";
    skip_to_main: "本文へ移動", "Skip to main content";
    switch_language: "English", "日本語";
    switch_language_label: "表示言語を英語に切り替える", "Show this page in Japanese";
    sign_in: "ログイン", "Sign in";
    sign_out: "ログアウト", "Sign out";
    username: "ユーザー名", "Username";
    password: "パスワード", "Password";
    current_password: "現在のパスワード", "Current password";
    new_password: "新しいパスワード", "New password";
    confirm_password: "新しいパスワード（確認）", "New password again";
    password_hint: "10文字以上。長い文にすると覚えやすく安全です。", "At least 10 characters; a long phrase is easy to remember and hard to guess.";
    change_password: "パスワード変更", "Change password";
    password_changed: "パスワードを変更しました。他の端末のログインは終了しました。", "Password changed. Sessions on other devices were signed out.";
    password_mismatch: "確認用のパスワードが一致しません", "The two new passwords differ";
    wrong_password: "現在のパスワードが正しくありません", "The current password is wrong";
    bad_credentials: "ユーザー名またはパスワードが正しくありません", "Wrong username or password";
    account_locked: "ログインの失敗が続いたため、このアカウントは一時的にロックされています。しばらくしてからお試しください（解除予定：", "Too many failed sign-ins: this account is locked for now. Try again later (unlocks at ";
    account_locked_end: "）", ")";
    session_expired: "ログインの有効期限が切れました。もう一度ログインしてください。", "Your session has ended. Please sign in again.";
    csrf_failed: "フォームの有効期限が切れました。ページを再読み込みしてやり直してください。", "This form has expired. Reload the page and try again.";
    signed_in_as: "ログイン中：", "Signed in as ";
    role_operator: "運用者", "Operator";
    role_contractor: "契約者", "Contractor";
    nav_dashboard: "ダッシュボード", "Dashboard";
    nav_contracts: "契約", "Contracts";
    nav_requests: "申込・届出", "Requests";
    nav_invoices: "請求書", "Invoices";
    nav_devices: "機器", "Devices";
    nav_queue: "作業キュー", "Work queue";
    nav_contractors: "契約者", "Contractors";
    nav_prices: "料金表", "Price book";
    nav_billing: "請求処理", "Billing runs";
    nav_sla: "障害・SLA", "Outages & SLA";
    nav_inventory: "在庫", "Inventory";
    nav_fleet: "機器監視", "Fleet";
    nav_journal: "操作履歴", "Journal";
    nav_mobile: "モバイル通信量", "Mobile data";
    nav_main: "メインメニュー", "Main menu";
    error_title: "エラー", "Error";
    not_found: "ページが見つからないか、表示する権限がありません。", "This page does not exist, or is not yours to see.";
    forbidden: "この操作は運用者のみ行えます。", "Only operators may do this.";
    rule: "根拠規定", "Rule";
    back: "戻る", "Back";
    save: "保存", "Save";
    cancel: "取消", "Cancel";
    confirm: "確定", "Confirm";
    submit: "送信", "Submit";
    search: "検索", "Search";
    show: "表示", "Show";
    download_csv: "CSVをダウンロード", "Download CSV";
    previous_page: "前へ", "Previous";
    next_page: "次へ", "Next";
    none: "なし", "None";
    yes: "はい", "Yes";
    no: "いいえ", "No";
    as_of: "基準日", "As of";
    status: "状態", "Status";
    status_pending: "開始前", "Not yet started";
    status_active: "利用中", "Active";
    status_ended: "終了", "Ended";
    device_stock: "在庫", "In stock";
    device_in_service: "稼働中", "In service";
    device_awaiting_return: "返却待ち", "Awaiting return";
    device_returned: "返却済み", "Returned";
    device_lost: "亡失", "Lost";
    device_found: "発見（再利用不可）", "Found (never reused)";
    end_notice: "解約通知", "Notice of cancellation";
    end_sendback_stopped: "センドバックオプション廃止に伴う終了", "Ended with its send-back option";
    end_contract_ended: "契約終了に伴う終了", "Ended with its contract";
    end_group_stopped: "シェアグループ廃止に伴う終了", "Ended with its share group";
    end_last_member_left: "最後のメンバー脱退に伴う終了", "Its last member left";
    end_art28_2: "約款第28条第2項による解除", "Cancelled under Art. 28 §2";
    end_art28_3: "約款第28条第3項による解除", "Cancelled under Art. 28 §3";
    up: "正常", "UP";
    down: "停止", "DOWN";
    never_seen: "未接続", "Never seen";
    // Contractor pages.
    // Operator pages.
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_prefers_the_higher_weight() {
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Lang::En);
        assert_eq!(Lang::from_accept_language("ja,en;q=0.8"), Lang::Ja);
        assert_eq!(Lang::from_accept_language("en;q=0.5,ja;q=0.9"), Lang::Ja);
        assert_eq!(Lang::from_accept_language("fr-FR,de"), Lang::Ja);
        assert_eq!(Lang::from_accept_language(""), Lang::Ja);
    }

    #[test]
    fn yen_and_dates_read_naturally() {
        assert_eq!(Lang::Ja.yen(Yen(1_234_567)), "1,234,567円");
        assert_eq!(Lang::En.yen(Yen(-900)), "-¥900");
        assert_eq!(Lang::En.yen(Yen(0)), "¥0");
        assert_eq!(Lang::Ja.date("2026-02-03"), "2026年2月3日");
        assert_eq!(Lang::En.date("2026-02-03"), "3 Feb 2026");
    }

    #[test]
    fn every_message_is_translated() {
        let (ja, en) = (JA.all(), EN.all());
        assert_eq!(ja.len(), en.len());
        for (j, e) in ja.iter().zip(&en) {
            assert!(!j.is_empty() && !e.is_empty());
            assert!(
                !e.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c)
                    || ('\u{4e00}'..='\u{9fff}').contains(&c))
                    || *e == EN.switch_language,
                "English text with Japanese in it: {e}"
            );
        }
    }
}
