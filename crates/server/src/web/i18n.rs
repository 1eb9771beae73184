//! The console's words in Japanese and English.
//!
//! One typed catalog: every message is a field of [`Msgs`], written once with both its
//! translations, so a message without a translation does not compile. Japanese is the default;
//! English on request (a switch in the page, or `Accept-Language`).

use mpc_domain::book::{DeviceState, EndReason, Status};
use mpc_domain::money::Yen;
use mpc_domain::monitoring::ConnectionState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Ja,
    En,
}

/// The label of a revision's cause.
pub fn revision_cause(lang: Lang, cause: &str) -> &str {
    let t = lang.t();
    match cause {
        "edit" => t.cause_edit,
        "rollback" => t.cause_rollback,
        "item_change" => t.cause_item_change,
        other => other,
    }
}

/// Which rows of a list a page shows: `41–60 of 312` (`312件中 41–60件`); `0 of 312` past
/// the last page.
pub fn range_of(lang: Lang, first: i64, last: i64, total: i64) -> String {
    match (lang, first <= last) {
        (Lang::Ja, true) => format!("{total}件中 {first}–{last}件"),
        (Lang::En, true) => format!("{first}–{last} of {total}"),
        (Lang::Ja, false) => format!("{total}件中 0件"),
        (Lang::En, false) => format!("0 of {total}"),
    }
}

/// The label of a contract kind (its wire name).
pub fn contract_kind(lang: Lang, kind: &str) -> &str {
    use mpc_domain::catalog::ContractKind;
    match mpc_storage::contracts::from_wire::<ContractKind>(kind) {
        Ok(k) => lang.pick(k.label_ja(), k.label_en()),
        Err(_) => kind,
    }
}

/// The label of a request kind (its wire name).
pub fn request_kind(lang: Lang, kind: &str) -> &str {
    let t = lang.t();
    match kind {
        "apply_contract" => t.kind_apply_contract,
        "change_item" => t.kind_change_item,
        "add_option" => t.kind_add_option,
        "change_usage_type" => t.kind_change_usage_type,
        "change_network_type" => t.kind_change_network_type,
        "change_pack" => t.kind_change_pack,
        "cancel_contract" => t.kind_cancel_contract,
        "stop_option" => t.kind_stop_option,
        "stop_group" => t.kind_stop_group,
        "notify_serial" => t.kind_notify_serial,
        "report_failure" => t.kind_report_failure,
        "report_loss" => t.kind_report_loss,
        other => other,
    }
}

/// What a quoted effect means to the contractor; `None` for effects not worth listing.
pub fn effect(lang: Lang, effect: &mpc_domain::book::Effect) -> Option<&'static str> {
    use mpc_domain::book::Effect;
    let t = lang.t();
    Some(match effect {
        Effect::ContractEnds { .. } => t.effect_contract_ends,
        Effect::OptionEnds { .. } => t.effect_option_ends,
        Effect::GroupEnds { .. } => t.effect_group_ends,
        Effect::MemberLeft { .. } => t.effect_member_left,
        Effect::DeviceReleased { .. } => t.effect_device_released,
        _ => return None,
    })
}

/// A journal operation as a line of a timeline; requests name their kind.
pub fn operation(lang: Lang, operation: &str, request_kind: Option<&str>) -> String {
    let t = lang.t();
    let label = match operation {
        "request.submit" => t.op_request_submit,
        "request.accept" => t.op_request_accept,
        "request.reject" => t.op_request_reject,
        "request.withdraw" => t.op_request_withdraw,
        "preset.update" => t.op_preset_update,
        "preset.rollback" => t.op_preset_rollback,
        "preset.item_change" => t.op_preset_item_change,
        "contract.billing_start" => t.op_billing_start,
        "sla_claim.submit" => t.op_sla_claim,
        "mobile.sim_bind" => t.op_sim_bind,
        other => other,
    };
    match request_kind {
        Some(kind) => format!("{label}: {}", request_kind_label(lang, kind)),
        None => label.to_owned(),
    }
}

fn request_kind_label(lang: Lang, kind: &str) -> String {
    request_kind(lang, kind).to_owned()
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

    /// `1,234円` or `¥1,234`: [`super::format::yen`], for pages that format through `Lang`.
    pub fn yen(self, amount: Yen) -> String {
        super::format::yen(self, amount)
    }

    /// A `YYYY-MM-DD` text as people read it: [`super::format::date_text`], for pages that
    /// format through `Lang`.
    pub fn date(self, iso: &str) -> String {
        super::format::date_text(self, iso)
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

    /// A device's connection state as a badge reads it.
    pub fn connection_state(self, s: ConnectionState) -> &'static str {
        let t = self.t();
        match s {
            ConnectionState::InStock => t.conn_in_stock,
            ConnectionState::NeverConnected => t.conn_never_connected,
            ConnectionState::Up => t.up,
            ConnectionState::Down => t.down,
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
    set_own_password: "ご自身のパスワードの設定", "Set your own password";
    temporary_password: "一時パスワード", "Temporary password";
    password_change_required: "このパスワードは運用者が発行した一時的なものです。コンソールを使う前に、ご自身のパスワードを設定してください。", "Your password was set for you and is temporary. Set your own before using the console.";
    password_changed: "パスワードを変更しました。他の端末のログインは終了しました。", "Password changed. Sessions on other devices were signed out.";
    password_mismatch: "確認用のパスワードが一致しません", "The two new passwords differ";
    wrong_password: "現在のパスワードが正しくありません", "The current password is wrong";
    bad_credentials: "ユーザー名またはパスワードが正しくありません", "Wrong username or password";
    too_many_sign_ins: "ログインの失敗が続いたため、この接続元からのログインを一時的に受け付けていません。次に試せるまでの秒数：", "Too many failed sign-ins from your address. Seconds until you may try again: ";
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
    nav_consents: "同意", "Consents";
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
    accepted_on: "承諾日", "Accepted on";
    actions: "操作", "Actions";
    active_contracts: "利用中の契約", "Active contracts";
    amount: "金額", "Amount";
    applied_on: "申込日", "Applied on";
    apply_contract: "新規申込", "Apply for a contract";
    availability_week: "直近7日間の稼働", "Availability, last 7 days";
    billing_start: "課金開始日", "Billing start";
    cancel_contract: "解約", "Cancel the contract";
    cancel_from_contract: "（契約の画面から、料金の見積もりを確認して申し込みます）", "(from the contract's page, after reading the quote)";
    cancel_understood: "上記の終了日と早期解約金を確認しました", "I have read the last day and the early-termination charge above";
    coming_contract_end: "契約終了", "Contract ends";
    consented: "同意済み", "Consented on";
    awaiting_consent: "同意待ち", "Awaiting consent";
    designation: "管理契約の指定（R6.2）", "Management designation (R6.2)";
    invoice_redirect: "請求先の変更（R6.3）", "Invoice redirect (R6.3)";
    give_consent: "同意する", "Consent";
    coming_claim_deadline: "料金の減額（SLA）の請求期限", "Last day to claim an SLA fee reduction";
    coming_dates: "今後の予定", "Coming dates";
    withheld_devices: "設定を受け取れない機器", "Devices that cannot fetch their configuration";
    reason: "理由", "Reason";
    coming_item_change: "品目変更", "Item changes";
    coming_minimum_period_end: "最低利用期間の満了", "Minimum period ends";
    coming_option_end: "オプション終了", "Option ends";
    coming_option_minimum_end: "オプションの最低利用期間の満了", "Option's minimum period ends";
    coming_return_due: "機器の返却期限", "Device return deadline";
    coming_usage_type_change: "利用種別の変更", "Usage type changes";
    confirm_required: "確認のチェックを入れてください", "Tick the confirmation first";
    contract: "契約", "Contract";
    custody: "機器の貸与状況", "Devices in custody";
    date: "日付", "Date";
    details: "詳細", "Details";
    devices_down: "停止中の機器", "Devices DOWN";
    devices_up: "正常な機器", "Devices UP";
    due_date: "支払期限", "Due date";
    early_termination_charge: "早期解約金（税抜）", "Early-termination charge (tax excluded)";
    eligibility_warning: "この解約により、次の契約の利用条件を満たさなくなります：", "This cancellation leaves these without what they require:";
    ends_on: "終了日", "Last day";
    ends_with_it: "同時に終了するもの", "What ends with it";
    exempt: "早期解約金の対象外", "exempt from the early-termination charge";
    field_contract: "対象の契約", "Contract";
    field_contract_kind: "契約種別", "Contract kind";
    field_description: "状況の説明", "Description";
    field_device_type: "機器種別", "Device type";
    field_group: "パケットシェアグループ", "Packet share group";
    field_install_address: "設置場所の住所", "Installation address";
    field_item: "品目", "Item";
    field_join_group: "参加するグループ", "Group to join";
    field_management: "管理契約", "Management contract";
    field_network_type: "ネットワークタイプ", "Network type";
    field_new_group_pack: "新しいグループのパック容量（GB）", "Pack of a new group (GB)";
    field_option: "対象のオプション", "Option";
    field_option_kind: "オプション種別", "Option kind";
    field_pack_gb: "パック容量（GB）", "Pack size (GB)";
    field_requested_on: "希望日", "Requested day";
    field_serial: "製造番号", "Serial number";
    field_usage_type: "利用種別", "Usage type";
    field_whole_number: "整数で入力してください", "Enter a whole number";
    firmware: "ファームウェア", "Firmware";
    invoice: "請求書", "Invoice";
    invoice_draft: "下書き", "Draft";
    invoice_number: "請求書番号", "Invoice number";
    issue_date: "発行日", "Issued on";
    issuer: "発行者", "Issuer";
    last_day: "最終利用日", "Last day of service";
    last_heartbeat: "最終通信", "Last heartbeat";
    minimum_period_end: "最低利用期間の満了日", "Minimum period ends";
    mobile_cap: "上限", "Cap";
    mobile_pack: "パック容量", "Pack";
    group_members: "メンバー", "Members";
    mobile_use_chart: "当月の累積通信量", "Data used this month, cumulative";
    monitoring: "稼働状況", "Monitoring";
    month: "対象月", "Month";
    new_request: "申込・届出をする", "Make a request";
    note: "備考", "Note";
    notice_arrives: "通知の到達日", "Notice arrives on";
    options: "オプション", "Options";
    overdue: "期限超過", "Overdue";
    pages: "ページ", "Pages";
    pending_requests: "処理待ちの申込・届出", "Pending requests";
    period: "期間", "Period";
    preset_editor: "設定の編集", "Edit the configuration";
    price_missing: "料金表に価格がないため計算できません", "Cannot be computed: a price is missing from the price book";
    print_invoice: "印刷用の適格請求書を開く", "Open the printable qualified invoice";
    invoice_pdf: "PDFをダウンロード", "Download the PDF";
    invoice_breakdown: "月別の内訳", "Month by month";
    invoice_no_number: "（確定時に採番）", "(numbered when finalized)";
    invoice_not_issued: "（確定時に発行）", "(issued when finalized)";
    provisioning: "設定の配信", "Configuration delivery";
    quote: "解約した場合", "If you cancel";
    recalculate: "再計算", "Recalculate";
    recipient: "宛先", "Recipient";
    registration_number: "登録番号", "Registration number";
    request_accepted: "承諾済み", "Accepted";
    request_kind: "種類", "Kind";
    request_pending: "処理待ち", "Pending";
    request_rejected: "不承諾", "Rejected";
    request_submitted: "申込・届出を受け付けました。", "Your request was received.";
    request_withdrawn: "取下げ", "Withdrawn";
    requested_on_hint: "空欄の場合、通知の到達日から規定の期間で終了します（R13.1）。", "Leave empty to end after the period the rules give from the notice's arrival (R13.1).";
    return_due: "返却期限", "Return by";
    subject: "対象", "Subject";
    submit_cancellation: "解約を申し込む", "Submit the cancellation";
    submitted_on: "申込日", "Submitted on";
    subtotal: "小計（税抜）", "Subtotal (tax excluded)";
    tax_at: "消費税", "Consumption tax";
    tax_excluded: "金額は税抜です。消費税は請求書でまとめて計算します。", "Amounts exclude tax; the invoice adds consumption tax once per rate.";
    taxable: "対象", "on";
    throttled: "速度制限あり", "Throttled";
    timeline: "経緯", "Timeline";
    total_with_tax: "合計（税込）", "Total (tax included)";
    unpaid_invoices: "未払いの請求書", "Unpaid invoices";
    used: "使用量", "Used";
    what: "内容", "What";
    withdraw: "取下げ", "Withdraw";
    kind_apply_contract: "新規申込", "Application for a contract";
    kind_change_item: "品目変更", "Item change";
    kind_add_option: "オプション追加", "Add an option";
    kind_change_usage_type: "利用種別の変更", "Usage type change";
    kind_change_network_type: "ネットワークタイプの変更", "Network type change";
    kind_change_pack: "パック容量の変更", "Pack size change";
    kind_cancel_contract: "解約", "Cancellation";
    kind_stop_option: "オプションの廃止", "Stop an option";
    kind_stop_group: "グループの廃止", "Stop a share group";
    kind_notify_serial: "製造番号の通知", "Serial number notice";
    kind_report_failure: "故障の届出", "Failure report";
    kind_report_loss: "亡失の届出", "Loss report";
    effect_contract_ends: "契約の終了", "The contract ends";
    effect_option_ends: "オプションの終了", "An option ends";
    effect_group_ends: "シェアグループの終了", "A share group ends";
    effect_member_left: "シェアグループからの脱退", "Leaves a share group";
    effect_device_released: "機器の返却", "A device to return";
    op_request_submit: "申込・届出", "Request submitted";
    op_request_accept: "承諾", "Request accepted";
    op_request_reject: "不承諾", "Request rejected";
    op_request_withdraw: "取下げ", "Request withdrawn";
    op_preset_update: "設定の変更", "Configuration changed";
    op_preset_rollback: "設定の巻き戻し", "Configuration rolled back";
    op_preset_item_change: "品目変更による設定の更新", "Configuration re-rendered for the new item";
    op_billing_start: "課金開始日の記録", "Billing start recorded";
    op_sla_claim: "SLA請求", "SLA claim";
    op_sim_bind: "SIMの登録", "SIM registered";
    revision: "リビジョン", "Revision";
    preset_saved: "設定を新しいリビジョンとして保存しました。機器は次回の取得で反映します。", "Saved as a new revision; devices take it at their next poll.";
    preset_valid: "入力内容に誤りはありません。", "These settings are valid.";
    preset_invalid: "設定に誤りがあります。各項目の表示を確認してください。", "Some settings are invalid; see the messages next to the fields.";
    secret_unchanged: "空欄なら変更しません", "Leave empty to keep";
    pppoe_id: "PPPoE 認証ID", "PPPoE user ID";
    pppoe_password: "PPPoE パスワード", "PPPoE password";
    lan_network: "グローバルアドレスブロックの先頭", "First address of the global block";
    lan_address: "LAN 側アドレス", "LAN address";
    wan_type: "WAN 接続方式", "WAN connection";
    wan_dhcp: "DHCP（IPoE）", "DHCP (IPoE)";
    prefix_len: "プレフィックス長", "Prefix length";
    dhcp_server: "DHCP サーバーを使う", "Run a DHCP server";
    dhcp_start: "DHCP 配布開始アドレス", "DHCP pool start";
    dhcp_end: "DHCP 配布終了アドレス", "DHCP pool end";
    dns_forwarder: "DNS フォワーダーを使う", "Forward DNS queries";
    napt: "NAPT を使う", "Use NAPT";
    ntp_server: "NTP サーバー", "NTP server";
    pre_shared_key: "IPsec 事前共有鍵", "IPsec pre-shared key";
    l2tp_pool_start: "リモート端末への配布開始アドレス", "Client pool start";
    l2tp_pool_end: "リモート端末への配布終了アドレス", "Client pool end";
    tunnel_address: "トンネルのルーター側アドレス", "Tunnel address of the router";
    max_sessions: "最大同時接続数", "Most sessions at once";
    l2tp_users: "リモートアクセスのユーザー", "Remote-access users";
    new_user: "ユーザーを追加", "Add a user";
    save_revision: "保存して新しいリビジョンにする", "Save as a new revision";
    rendered_config: "生成された設定（秘密情報は伏せています）", "Rendered configuration (secrets masked)";
    revisions: "リビジョン履歴", "Revisions";
    diff_from: "比較元", "From";
    diff_to: "比較先", "To";
    show_diff: "差分を表示", "Show the diff";
    cause: "理由", "Cause";
    by: "実行者", "By";
    rollback_to: "この内容に戻す", "Roll back to this";
    cause_edit: "編集", "Edit";
    cause_rollback: "巻き戻し", "Rollback";
    cause_item_change: "品目変更", "Item change";
    // Operator pages.
    op_check_fields: "入力内容を確認してください。", "Please check the fields marked below.";
    op_confirm_required: "確認のチェックを入れてください", "Tick the box to confirm";
    op_confirm_box: "内容を確認しました（取り消せません）", "I have checked this (it cannot be undone)";
    op_invalid_date: "日付を YYYY-MM-DD 形式で入力してください", "Enter a date as YYYY-MM-DD";
    op_invalid_datetime: "日時を正しく入力してください", "Enter a date and time";
    op_required: "入力してください", "Required";
    op_choose_from_list: "一覧から選んでください", "Choose one of the list";
    op_pages: "ページ", "Pages";
    op_first_page: "最初のページ", "First page";
    op_sorted_in_page: "並べ替えは表示中のページ内で行います。", "Sorting applies to the rows of this page.";
    op_no_match: "該当するものはありません。", "Nothing matches.";
    op_id: "ID", "ID";
    op_any: "すべて", "Any";
    op_details: "内容", "Details";
    op_action: "操作", "Action";
    op_at: "日時", "When";
    op_since: "開始日時", "Since";
    op_reason: "理由", "Reason";
    op_description: "説明", "Description";
    op_name: "名称", "Name";
    op_amount: "金額", "Amount";
    op_paren_open: "（", " (";
    op_paren_close: "）", ")";
    op_colon: "：", ": ";
    op_dashboard_intro: "対応待ちの件数です。カードから各作業キューへ進めます。", "What waits for you; each card leads to its queue.";
    op_card_pending: "処理待ちの申込・届出", "Requests to decide";
    op_card_overdue: "返却期限切れの機器", "Overdue returns";
    op_card_awaiting: "返却待ちの機器", "Devices awaiting return";
    op_card_down: "停止中の機器（契約中）", "Devices DOWN (in service)";
    op_card_claims: "判断待ちのSLA請求", "SLA claims to decide";
    op_card_latest_month: "最新の請求処理月", "Latest billing month";
    op_pending_requests: "処理待ちの申込・届出", "Pending requests";
    op_nothing_waiting: "対応待ちはありません。", "Nothing is waiting.";
    op_record_notice: "書面の届出を登録", "Record a paper notice";
    op_notice: "届出", "Notice";
    op_decide: "承諾・不承諾", "Accept or reject";
    op_kind: "種別", "Kind";
    op_request_id: "申込・届出ID", "Request ID";
    op_contractor: "契約者", "Contractor";
    op_contractor_id: "契約者ID", "Contractor ID";
    op_contract: "契約", "Contract";
    op_contract_kind: "契約の種類", "Contract kind";
    op_item: "品目", "Item";
    op_device_type: "機器種別", "Device type";
    op_management: "マネージメント", "Management";
    op_management_id: "マネージメントの契約", "Management contract";
    op_option: "オプション", "Option";
    op_option_kind: "オプションの種類", "Option";
    op_options: "オプション数", "Options";
    op_install_address: "設置場所", "Installation address";
    op_usage_type: "利用種別", "Usage type";
    op_network_type: "ネットワークタイプ", "Network type";
    op_group: "パケットシェアグループ", "Packet share group";
    op_pack: "パケットパック", "Packet pack";
    op_serial: "シリアルナンバー", "Serial number";
    op_requested_on: "希望日", "Requested date";
    op_submitted_on: "申込日", "Submitted";
    op_submitted_by: "申込者", "Submitted by";
    op_decided_on: "判断日", "Decided on";
    op_decided_by: "判断者", "Decided by";
    op_decision: "判断の内容", "Decision";
    op_back_to_queue: "作業キューへ戻る", "Back to the work queue";
    op_accept: "承諾する", "Accept";
    op_reject: "承諾しない", "Reject";
    op_arrived_on: "届出の到達日", "Day the notice arrived";
    op_arrival_hint: "届出は到達日から効力を生じます。", "A notice takes effect from the day it arrived.";
    op_termination: "解約の区分", "Cancellation by";
    op_replacement_serial: "代替機のシリアルナンバー", "Replacement serial number";
    op_replaced_on: "代替機への切替日", "Replacement takes over on";
    op_replacement_not_spare: "契約と同じ機種の在庫の機器から選んでください（R11.1）。", "Choose a unit in stock of the contract's device type (R11.1).";
    op_contractor_caused: "契約者の責による故障", "Caused by the contractor";
    op_done_accepted: "承諾しました。", "The request was accepted.";
    op_done_rejected: "不承諾としました。", "The request was rejected.";
    op_done_returned: "返却を記録しました。", "The return was recorded.";
    op_done_found: "発見を記録しました。", "The find was recorded.";
    op_done_swept: "返却期限切れの機器を亡失として処理しました。", "Overdue devices were treated as lost.";
    op_notice_title: "書面の届出の登録", "Record a paper notice";
    op_notice_intro: "書面で届いた解約・廃止の届出を契約者に代わって登録します。届出日と到達日を記録し、そのまま受け付けることもできます。", "Record a cancellation or stop that arrived on paper, on the contractor's behalf, with the day it was written and the day it arrived; you may accept it at once.";
    op_target: "対象のID", "What it names (ID)";
    op_target_hint: "契約番号、またはオプション・グループのID。契約者を表示すると、届出の対象にできるものが候補に出ます。", "The contract number, or the option or group ID; show the contractor first to pick from what a notice may name.";
    op_notice_dated: "届出日", "Date of the notice";
    op_accept_now: "到達日で承諾する", "Accept it now, as of the day it arrived";
    op_no_such_contractor: "この契約者は見つかりません", "No such contractor";
    op_no_such_target: "この契約者の、この届出の対象にできる契約・オプション・グループではありません（終了したものは対象外です）", "Not a contract, option or group of this contractor that this notice may name (nothing ended)";
    op_awaiting_return: "返却待ちの機器", "Devices awaiting return";
    op_awaiting_hint: "契約の終了などで返却を待っている機器です。期限を過ぎた機器は次回の処理で亡失扱いになります。", "Devices released from their contracts and not back yet; overdue ones become lost at the next sweep.";
    op_awaiting_parameters: "プリセットのパラメータ待ちの機器", "Devices waiting for preset parameters";
    op_awaiting_parameters_hint: "プリセットに必要なパラメータが未設定のため、設定を受け取れない機器です (R17.1)。品目変更の後によく起こります。", "These devices cannot fetch their configuration until the parameters named are set (R17.1), often after an item change.";
    op_preset: "プリセット", "Preset";
    op_missing_parameters: "未設定のパラメータ", "Parameters to set";
    op_return_due: "返却期限", "Return by";
    op_overdue: "期限切れ", "Overdue";
    op_returned_on: "返却日", "Returned on";
    op_record_return: "返却を記録", "Record the return";
    op_record_found: "亡失機器の発見を記録", "Record a lost device found";
    op_found_hint: "亡失として処理済みの機器が見つかった場合に記録します。発見された機器は再利用されず、亡失負担金もそのままです。", "For a device already treated as lost: it never serves again and its loss fee stands.";
    op_found_on: "発見日", "Found on";
    op_found_not_lost: "亡失中の機器から選んでください（R12.3）。", "Choose one of the devices that are lost (R12.3).";
    op_sweep: "返却期限切れを亡失として処理", "Treat overdue returns as lost";
    op_sweep_hint: "毎日自動で行われる処理を今すぐ行います。", "Runs now what the server does by itself every day.";
    op_sweep_on: "処理日", "Day of the sweep";
    op_users: "ユーザー", "Users";
    op_new_user: "ユーザーの追加", "Add a user";
    op_create_user: "ユーザーを追加", "Add the user";
    op_display_name: "表示名", "Display name";
    op_username_hint: "英小文字・数字・「.」「_」「-」の3〜64文字", "3 to 64 of a-z, 0-9, '.', '_', '-'";
    op_user_created: "ユーザーを追加しました：", "User added: ";
    op_password_once: "コンソールの一時パスワード（この画面でのみ表示します。次のログインでご本人のパスワードに変更していただきます）：", "Temporary console password (shown this once; the user sets their own at the next sign-in): ";
    op_new_contractor: "契約者の登録", "Register a contractor";
    op_register: "登録", "Register";
    op_registered: "登録日時", "Registered";
    op_back_to_contractors: "契約者一覧へ戻る", "Back to contractors";
    op_eligibility: "契約資格", "Eligibility";
    op_eligible: "資格あり", "Eligible";
    op_not_eligible: "資格なし", "Not eligible";
    op_billing_start_on: "課金開始日", "Billing start";
    op_ends_on: "終了日", "Ends on";
    op_prices_intro: "料金はすべて運用者が設定します。変更した金額だけが、指定した適用開始日から保存されます。", "Every price is set by the operator; only amounts you change are saved, from the day you choose.";
    op_list_prices: "標準料金", "List prices";
    op_price_key: "料金キー", "Price key";
    op_price_label: "料金項目", "What it prices";
    op_current_price: "現在の金額", "Current price";
    op_scheduled: "予定の変更", "Scheduled";
    op_from_date: "{date}から", "from {date}";
    op_new_amount: "金額（円・税抜）", "Amount (yen, before tax)";
    op_unpriced: "未設定", "Not set";
    op_effective_from: "適用開始日", "Effective from";
    op_effective_from_hint: "同じ料金キー・同じ日の金額は置き換えられます。", "An amount of the same key and day is replaced.";
    op_whole_yen: "0以上の整数（円）で入力してください", "Enter whole yen, 0 or more";
    op_prices_saved: "料金を保存しました。件数：", "Prices saved: ";
    op_prices_unchanged: "変更された料金はありませんでした。", "No price was changed.";
    op_prices_imported: "CSVから料金を取り込みました。件数：", "Prices imported from CSV: ";
    op_agreements: "契約者別の料金", "Contractors' agreements";
    op_agreements_hint: "契約者別の料金はCSVの取込で設定します。", "Agreements are set by importing CSV.";
    op_import_csv: "CSVの取込", "Import CSV";
    op_prices_csv_hint: "すべて取り込むか、何も取り込まないかのどちらかです。1行目は見出し行：", "All or nothing. First line is the header:";
    op_csv_text: "CSVの内容", "CSV text";
    op_csv_file: "CSVファイルを選ぶ", "Choose a CSV file";
    op_import: "取り込む", "Import";
    op_start_run: "請求処理の実行", "Bill a month";
    op_run_hint: "その月の請求書をすべて作成します。確定前なら何度でもやり直せ、同じ請求書になります。件数が多いと時間がかかります。", "Makes every invoice of the month. Until the month is finalized a run may be repeated and gives the same invoices. A large run takes a while.";
    op_month: "対象月", "Month";
    op_run: "実行", "Run";
    op_run_again: "再実行", "Run again";
    op_runs: "実行履歴", "Runs";
    op_run_at: "実行日時", "Run at";
    op_actor: "実行者", "By";
    op_invoices: "請求書", "Invoices";
    op_lines: "明細行数", "Lines";
    op_subtotal: "小計（税抜）", "Subtotal";
    op_tax: "消費税", "Tax";
    op_total: "合計（税込）", "Total";
    op_finalized: "確定済み", "Finalized";
    op_open: "未確定", "Open";
    op_missing_prices: "料金表に不足している料金", "Prices missing from the price book";
    op_run_done: "請求処理が完了しました。", "The run is done.";
    op_month_finalized: "この月を確定しました。", "The month is finalized.";
    op_last_run: "最終実行", "Last run";
    op_lines_csv: "明細CSVをダウンロード", "Download the lines CSV";
    op_finalize: "この月を確定する", "Finalize this month";
    op_finalize_hint: "確定した月の請求書は変更できません。以後の訂正は次回以降の請求書に記載されます。", "A finalized month's invoices never change; later corrections go on a following invoice.";
    op_back_to_billing: "請求処理へ戻る", "Back to billing runs";
    op_invoice_number: "請求書番号", "Invoice number";
    op_recipient: "宛先", "Addressed to";
    op_issuer: "請求書の発行者", "Invoice issuer";
    op_issuer_hint: "請求処理の前に設定が必要です（適格請求書発行事業者の登録番号）。", "Required before billing (the qualified-invoice registration number).";
    op_issuer_saved: "発行者を保存しました。", "The issuer was saved.";
    op_registration_number: "登録番号", "Registration number";
    op_address: "所在地", "Address";
    op_contact: "連絡先", "Contact";
    op_phone: "電話番号（請求書に記載）", "Phone (printed on invoices)";
    op_bank_account: "振込先（請求書に記載）", "Bank account for payment (printed on invoices)";
    op_bank_account_example: "〇〇銀行 〇〇支店 普通 1234567 カ）〇〇", "Bank, branch, account type and number, holder";
    op_fee_initial: "初期費用", "initial fee";
    op_fee_monthly: "月額費用", "monthly fee";
    op_fee_pack_per_gb: "パケットパック（1GBあたり）", "packet pack (per GB)";
    op_fee_item_change: "品目変更 一時費用", "Item change, one-time fee";
    op_fee_to_fixed: "ネットワークタイプ変更（動的→固定） 一時費用", "Network type change (dynamic to fixed), one-time fee";
    op_fee_failure: "サービスアダプタの故障等 一時費用", "Service adapter failure, one-time fee";
    op_fee_loss: "亡失負担金", "Loss fee";
    op_sla_claims: "SLA請求", "SLA claims";
    op_claims_hint: "障害による利用不能時間の請求です。承認した減額はその月の請求書に記載されます。", "Claims for outages; an approved fee reduction is on the invoice of the month of approval.";
    op_my_claims: "SLA請求の状況", "Your SLA claims";
    op_claimed_on: "請求日", "Claimed on";
    op_outage: "障害", "Outage";
    op_claim_pending: "判断待ち", "Pending";
    op_claim_approved: "承認", "Approved";
    op_claim_refused: "不承認", "Refused";
    op_approve: "承認する", "Approve";
    op_refuse: "承認しない", "Refuse";
    op_claim_done_approved: "SLA請求を承認しました。", "The claim was approved.";
    op_claim_done_refused: "SLA請求を承認しませんでした。", "The claim was refused.";
    op_claim_done_submitted: "SLA請求を受け付けました。", "Your claim was submitted.";
    op_outages: "障害", "Outages";
    op_record_outage: "障害を記録", "Record an outage";
    op_outage_hint: "日時は日本時間で入力します。", "Times are Japan time.";
    op_outage_recorded: "障害を記録しました。", "The outage was recorded.";
    op_learned_at: "障害を認知した日時", "Learned of it at";
    op_restored_at: "復旧日時", "Restored at";
    op_operator_caused: "当社の責による障害", "Caused by the operator";
    op_affected: "影響範囲", "Affected";
    op_scope_contracts: "指定した契約", "The contracts listed";
    op_scope_management: "マネージメント配下のすべて", "Everything under a management";
    op_contract_ids: "対象契約", "Contracts";
    op_contract_ids_hint: "契約番号（C-000123）を候補から選ぶか、空白・カンマで区切って入力します。", "Pick contract numbers (C-000123) from the list, or type them separated by spaces or commas.";
    op_full_days: "24時間単位の日数", "Full days";
    op_qualifies: "SLA対象", "Qualifies";
    op_claim_window: "請求期間", "Claim window";
    op_claim_hint: "対象となる障害について、期限までに契約ごとに請求できます。", "For a qualifying outage you may claim per contract, by the deadline.";
    op_claim_for: "請求する契約", "Contract to claim for";
    op_claim: "請求する", "Claim";
    op_inventory_now: "在庫の状況", "Inventory now";
    op_in_inventory: "登録台数", "In inventory";
    op_assigned: "契約に割当て済み", "Serving a contract";
    op_import_devices: "機器の取込", "Import devices";
    op_inventory_hint: "すべて取り込むか、何も取り込まないかのどちらかです。1行に1台：", "All or nothing. One device a line:";
    op_inventory_imported: "在庫に取り込みました。台数：", "Devices imported: ";
    op_refused_lines: "取り込めなかった行", "Refused lines";
    op_line: "行", "Line";
    op_firmware: "ファームウェア", "Firmware";
    op_assigned_only: "契約に割当て済みの機器のみ", "Only devices serving a contract";
    op_devices_shown: "該当台数：", "Devices: ";
    op_last_heartbeat: "最終ハートビート", "Last heartbeat";
    op_revision: "適用リビジョン", "Applied revision";
    op_back_to_fleet: "機器監視へ戻る", "Back to the fleet";
    op_custody: "機器の状態", "Custody";
    op_availability_7d: "直近7日間の稼働状況", "Availability over the last 7 days";
    op_availability_hint: "緑は正常、赤は停止、灰色は記録のない時間です。割合は記録のある時間に対するものです。", "Green UP, red DOWN, grey unknown; the share counts known time only.";
    op_state_history: "状態の変化", "State changes";
    op_no_heartbeat_yet: "まだ状態の記録がありません。", "No state recorded yet.";
    op_smfv2_events: "SMFv2 の応答（新しい順）", "SMFv2 answers (latest first)";
    op_smfv2_ls_accepted: "LS: RS の場所を通知", "LS: RS location sent";
    op_smfv2_ls_refused: "LS: 拒否", "LS: refused";
    op_smfv2_rs_accepted: "RS: 設定を配信", "RS: configuration delivered";
    op_smfv2_rs_refused: "RS: 拒否", "RS: refused";
    op_smfv2_push_confirmed: "プッシュ: トンネルで確認", "Push: confirmed over the tunnel";
    op_smfv2_push_pull_config: "プッシュ: 設定の再取得を要求", "Push: asked to pull again";
    op_smfv2_push_answered: "プッシュ: 機器が応答", "Push: device answered";
    op_smfv2_push_closed: "プッシュ: トンネルを切断", "Push: tunnel closed";
    op_smfv2_push_refused: "プッシュ: 拒否", "Push: refused";
    op_smfv2_push_failed: "プッシュ: 確認に失敗", "Push: confirmation failed";
    op_smfv2_push_withdrawn: "プッシュ: 拒否のため再取得を要求", "Push: refused, asked to pull";
    op_smfv2_heartbeat_refused: "ハートビート: 拒否（監視しない）", "Heartbeat: refused, not monitored";
    op_rule: "規定", "Rule";
    op_detail: "詳細", "Detail";
    op_operation: "操作", "Operation";
    op_subject: "対象", "Subject";
    op_journal_hint: "新しい順に表示します。", "Newest first.";
    op_journal_request: "リクエスト", "Request";
    op_journal_outcome: "結果", "Outcome";
    op_request_id_header: "リクエストID", "Request ID";
    // ids-contracts: contract numbers and site labels
    field_site_label: "拠点名（任意・60文字以内）", "Site name (optional, up to 60 characters)";
    contract_number: "契約番号", "Contract number";
    contract_label: "拠点名", "Site name";
    contract_label_save: "拠点名を保存", "Save the site name";
    contract_label_hint: "請求書や一覧で契約番号の横に表示されます。空欄で削除します。", "Shown beside the contract number in lists and invoices. Leave empty to remove it.";
    // money: payments, invoice states, price agreements, the grouped price book
    money_state_draft: "下書き", "Draft";
    money_state_unpaid: "未入金", "Unpaid";
    money_state_partly_paid: "一部入金", "Partly paid";
    money_state_paid: "入金済み", "Paid";
    money_state_overdue: "支払期限超過", "Overdue";
    money_state_defaulted: "不払い（付替え済み）", "Defaulted";
    money_paid_so_far: "入金済み額", "Paid so far";
    money_balance: "未入金残高", "Balance due";
    money_payments: "入金履歴", "Payments";
    money_paid_on: "入金日", "Paid on";
    money_record_payment: "入金を記録", "Record a payment";
    money_record_payment_hint: "確定済みの請求書に、1円以上1,000,000,000,000円以下の整数で記録します。記録は取り消せません。二重に記録しないよう、上の入金履歴を確認してください。", "On a finalized invoice, whole yen from 1 to 1,000,000,000,000. A payment cannot be taken back: check the payments above so as not to record one twice.";
    money_amount_yen: "金額（円）", "Amount (yen)";
    money_payment_limit: "1円以上1,000,000,000,000円以下の整数で入力してください（B5）", "Whole yen from 1 to 1,000,000,000,000 (B5)";
    money_payment_recorded: "入金を記録しました。", "The payment was recorded.";
    money_record_default: "不払いとして処理", "Mark as defaulted";
    money_default_hint: "請求書送付先の変更（R6.3）で届いた管理料金が支払われなかったとき、その額をマネージメント契約者の次の請求書へ付け替えます。確定済みで、付替え分を含む請求書のみ処理できます。", "When the management fees redirected to this payer (R6.3) are not paid, they move to the management contractor's next invoice. Only a finalized invoice carrying redirected fees can default.";
    money_default_on: "不払いとした日", "Defaulted on";
    money_defaulted_done: "不払いとして処理しました。", "The invoice was marked as defaulted.";
    money_invoice_states: "請求書の状況（確定済みのみ）", "Invoices by state (finalized only)";
    money_all_states: "すべて", "All";
    money_agreements: "個別の価格合意", "Price agreements";
    money_agreements_hint: "この契約者にだけ適用する価格です。適用開始日以降、同じ項目の定価に代わって請求されます（R14.1）。", "Prices for this contractor only: from their first day they replace the list price of the same item (R14.1).";
    money_agreement_item: "項目", "Item";
    money_list_price: "定価（本日）", "List price today";
    money_set_agreement: "価格合意を設定・変更", "Set or change an agreed price";
    money_agreement_saved: "価格合意を保存しました。", "The agreed price was saved.";
    money_agreement_removed: "価格合意を削除しました。", "The agreed price was removed.";
    money_remove: "削除", "Remove";
    money_choose_item: "項目を選択", "Choose an item";
    money_amount_limit: "0円以上100,000,000円以下の整数で入力してください（R14.1）。", "Whole yen from 0 to 100,000,000 (R14.1).";
    money_group_one_time: "一時費用", "One-time fees";
    // ids-records: record numbers and who did what
    record_number: "番号", "No.";
    actor_cli: "コマンドライン", "Command line";
    actor_system: "システム（自動処理）", "System (automatic)";
    actor_demo: "デモデータ", "Demo data";
    actor_placeholder: "ユーザー名", "username";
    // monitoring: connection states, dated charts
    conn_in_stock: "在庫", "In stock";
    conn_never_connected: "未接続", "Never connected";
    op_card_never_connected: "未接続の機器（契約中）", "Devices never connected (in service)";
    op_card_up: "正常な機器（契約中）", "Devices UP (in service)";
    op_card_in_stock: "在庫の機器", "Devices in stock";
    conn_hint: "在庫は契約に割り当てられていない機器、未接続は割当て済みで一度も接続していない機器です。停止は接続していた機器が一定時間応答しないことを示します。", "In stock: serving no contract. Never connected: assigned, never heard from. DOWN: heard from once, silent since.";
    chart_day: "%-m/%-d", "%-d %b";
    chart_instant: "%-m/%-d %H:%M", "%-d %b %H:%M";
    unit_mb: "MB", "MB";
    unit_gb: "GB", "GB";
    chart_daily: "日別", "Per day";
    chart_cumulative: "月初からの累計", "Month so far";
    chart_throttled_from: "速度制限開始", "Throttled from";
    chart_numbers: "数値で見る", "The numbers";
    chart_day_col: "日付", "Day";
    chart_used_col: "当日の使用量", "Used that day";
    chart_cumulative_col: "累計", "Month so far";
    // language: one language a page, the regulation's words, the contract timeline
    error_code: "エラーコード", "Error code";
    timeline_hint: "効力の生じた日（または生じる日）の古い順です。", "Oldest first, by the day each takes (or took) effect.";
    tl_applied: "申込", "Application submitted";
    tl_accepted: "承諾", "Accepted";
    tl_billing_start: "課金開始", "Billing started";
    tl_item_changed: "品目変更", "Item changed";
    tl_option_added: "オプション追加", "Option added";
    tl_option_ended: "オプション終了", "Option ended";
    tl_usage_type_changed: "利用種別の変更", "Usage type changed";
    tl_network_type_changed: "ネットワークタイプの変更", "Network type changed";
    tl_serial_notified: "シリアルナンバーの通知", "Serial number notified";
    tl_failure_replaced: "故障交換", "Failure replacement";
    tl_lost: "亡失", "Loss";
    tl_cancellation_notified: "解約の通知", "Cancellation notice";
    tl_ended: "契約終了", "Contract ends";
    tl_by: "実施者", "By";
    // preview: the acceptance preview and result, request forms that check as they are filled
    pv_heading: "承諾した場合の内容", "What accepting would do";
    pv_result: "承諾の結果", "What the acceptance did";
    pv_hint: "承諾フォームの日付や選択を変えると、この内容が更新されます。まだ何も登録されていません。", "This updates as the acceptance form changes. Nothing has been recorded yet.";
    pv_refused: "この日付では承諾できません", "Accepting on this date would be refused";
    pv_on: "承諾日（通知の到達日）", "Acceptance date (notice arrival)";
    pv_charges_total: "発生する料金（税抜）", "Charges (tax excluded)";
    pv_effects: "変更内容", "Changes";
    pv_charges: "料金の明細", "Charges, line by line";
    pv_day: "日付", "Date";
    pv_days: "日割", "Days";
    pv_from: "適用日", "from";
    pv_ineligible: "利用条件（第6条）を満たさなくなる契約者：", "Contractors left without what Art. 6 requires:";
    pv_contract_created: "契約の開始", "A contract starts";
    pv_billing_start_set: "課金開始日の設定", "Billing start date set";
    pv_item_changed: "品目の変更", "The item changes";
    pv_option_created: "オプションの開始", "An option starts";
    pv_usage_type_changed: "利用種別の変更", "The usage type changes";
    pv_network_type_changed: "ネットワークタイプの変更", "The network type changes";
    pv_group_created: "シェアグループの開始", "A share group starts";
    pv_pack_changed: "パケットパックの変更", "The packet pack changes";
    pv_member_joined: "シェアグループへの参加", "Joins a share group";
    pv_one_time_fee: "一時費用", "A one-time fee";
    pv_device_assigned: "機器の割り当て", "A device starts serving";
    pv_device_returned: "機器の返却", "A device is returned";
    pv_device_lost: "機器の亡失", "A device is lost";
    pv_device_found: "亡失機器の発見", "A lost device is found";
    pv_notification_withdrawn: "製造番号の届出の取り消し", "A serial notification is withdrawn";
    pv_line_initial: "初期費用", "Initial fee";
    pv_line_monthly: "月額費用", "Monthly fee";
    pv_line_one_time: "一時費用", "One-time fee";
    pv_line_early_termination: "最低利用期間内解除調定金", "Early-termination charge";
    pv_line_credit: "SLA返金", "SLA credit";
    pv_line_other: "調整", "Adjustment";
    rf_kind: "申込みの種類", "Kind of request";
    rf_choose: "この種類で入力する", "Fill in this kind";
    rf_check: "入力内容の確認", "Checking the request";
    rf_ready: "ここまでの入力で申し込めます。", "Nothing stops this request so far.";
    // records: contractors' records, users disabled, unlocked and given new passwords
    rec_account_disabled: "このアカウントは無効にされています。オペレーターにお問い合わせください。", "This account is disabled. Please contact the operator.";
    rec_record: "契約者情報", "Contractor record";
    rec_name: "契約者名", "Name";
    rec_postal_code: "郵便番号", "Postal code";
    rec_address: "住所", "Address";
    rec_contact_name: "担当者", "Contact person";
    rec_phone: "電話番号", "Phone";
    rec_billing_email: "請求書送付先メールアドレス", "Billing e-mail";
    rec_not_set: "未設定", "Not set";
    rec_edit: "契約者情報の変更", "Edit the record";
    rec_save: "保存", "Save";
    rec_saved: "契約者情報を保存しました。", "The record is saved.";
    rec_blank_clears: "空欄にすると未設定に戻ります。", "Leave a field blank to clear it.";
    rec_postal_code_hint: "例：100-0001", "e.g. 100-0001";
    rec_name_by_operator: "契約者名は契約の当事者名・請求書の宛名です。変更はオペレーターにご依頼ください。", "The name is the party to your contracts and the addressee of your invoices; ask the operator to change it.";
    rec_state: "状態", "State";
    rec_active: "有効", "Active";
    rec_disabled: "無効", "Disabled";
    rec_locked: "ログイン制限中", "Locked by failed sign-ins";
    rec_locked_until: "{time}まで", "until {time}";
    rec_disable: "無効にする", "Disable";
    rec_enable: "有効にする", "Enable";
    rec_unlock: "ログイン制限を解除", "Unlock";
    rec_reset_password: "パスワードを再発行", "Reset password";
    rec_disable_hint: "無効にしたユーザーはログインできず、ログイン中の画面とAPIトークンも使えなくなります。", "A disabled user cannot sign in; its open sessions end and its API tokens stop working.";
    rec_password_reset: "パスワードを再発行しました：", "New password for: ";
    rec_nav: "契約者情報", "Our record";
    // search: the search box, its results, list filters and page ranges
    search_label: "検索", "Search";
    search_placeholder: "契約・シリアル・ICCID・契約者・請求書番号", "Contract, serial, ICCID, contractor, invoice no.";
    search_button: "検索", "Search";
    search_title: "検索", "Search";
    search_hint: "契約番号（C-000123）、拠点名の一部、契約IDの先頭か末尾、機器のシリアル、SIMのICCID、契約者名、請求書番号（I-000123）の一部を入力してください。大文字と小文字は区別しません。", "Type a contract number (C-000123), part of a site label, part of a contract id (its start or end), a device serial, a SIM's ICCID, a contractor's name or an invoice number (I-000123). Letter case does not matter.";
    search_nothing: "一致するものはありません。", "Nothing matches.";
    search_contracts: "契約", "Contracts";
    search_devices: "機器", "Devices";
    search_sims: "SIM", "SIMs";
    search_contractors: "契約者", "Contractors";
    search_invoices: "請求書", "Invoices";
    search_in_inventory: "在庫", "In inventory";
    search_more: "すべて表示", "Show all";
    search_back: "すべての種類の結果へ戻る", "Back to all kinds";
    filter_all: "すべて", "All";
    filter_from: "開始日", "From";
    filter_to: "終了日", "To";
    filter_kind: "種類", "Kind";
    // names:
    contract_id: "契約ID", "Contract ID";
    op_no_such_contract: "該当する契約がありません", "No contract by that name";
    // language:
    op_figures: "稼働指標（SMFv2 ハートビート）", "Figures (SMFv2 heartbeats)";
    op_figures_cpu: "CPU使用率", "CPU use";
    op_figures_memory: "メモリ使用率", "Memory use";
    op_figures_in: "受信（バイト/秒）", "In (bytes/s)";
    op_figures_out: "送信（バイト/秒）", "Out (bytes/s)";
    op_figures_hint: "直近のハートビート（5分間隔で最大1日分）が送った値です。CPU使用率は全CPUの平均、メモリ使用率は使用量÷（使用量＋空き容量）、通信量は全インタフェースの毎秒平均の合計で、いずれも小数点以下を切り捨てています。値を送らなかったハートビートは「—」で、グラフの線はそこで途切れます。", "What the latest heartbeats sent (at most a day at five-minute heartbeats). CPU use is the mean over the CPUs, memory use is used ÷ (used + available), traffic is the sum of the interfaces' per-second averages, all rounded down. A heartbeat that did not send a figure shows a dash, and the line breaks there.";
    op_figures_none: "この機器からはSMFv2の稼働指標がまだ届いていません。", "No SMFv2 figures have been received from this device.";
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
