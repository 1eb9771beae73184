//! The qualified invoice (適格請求書, B3) as it is handed to a customer: one Japanese model of
//! the printed page, rendered as HTML (the print view) and as an A4 PDF with the Japanese font
//! embedded.
//!
//! The PDF is laid out here, line by line: the header (title, number, recipient, issuer) is
//! repeated on every page, every page is numbered `n / N`, and the totals block (totals and
//! tax per rate, grand total, bank account) is never split: when it does not fit under the
//! last line it starts a page of its own.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use krilla::Document;
use krilla::geom::{PathBuilder, Point};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, TextDirection};
use mpc_api_types::billing::{InvoiceView, LineView};
use skrifa::MetadataProvider;
use skrifa::instance::{LocationRef, Size};

/// How an invoice line names its contract: the contract number (`C-000123`), which the
/// contractor also sees in the console and says on the phone; the tail of the id for a line
/// of no numbered contract.
pub fn contract_label(line: &LineView) -> String {
    match line.contract_number {
        Some(n) => n.to_string(),
        None => crate::web::short(&line.contract_id),
    }
}

/// `2026/12/19` from `2026-12-19`.
fn slashed(date: &str) -> String {
    date.replace('-', "/")
}

/// `2026年10月1日` from `2026-10-01`.
fn japanese_date(s: &str) -> String {
    match mpc_domain::calendar::parse_date(s) {
        Ok(d) => format!("{}年{}月{}日", d.year(), d.month(), d.day()),
        Err(_) => s.to_owned(),
    }
}

/// One line as printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintedLine {
    pub description: String,
    pub contract: String,
    /// `2026/12/01` or `2026/12/19〜2027/06/03`.
    pub period: String,
    pub unit: String,
    /// `10%`.
    pub rate: String,
    pub amount: String,
}

/// The totals of one tax rate (B3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintedRate {
    pub rate: i64,
    pub taxable: String,
    pub tax: String,
}

/// Everything a qualified invoice shows (B3), in Japanese, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintedInvoice {
    /// A draft is marked 下書き and has neither number nor issue date.
    pub draft: bool,
    pub number: Option<String>,
    pub recipient: String,
    /// `2026年10月`.
    pub month_label: String,
    pub issue_date: Option<String>,
    pub due_date: String,
    pub issuer_name: String,
    pub issuer_registration: String,
    pub issuer_address: String,
    pub issuer_phone: String,
    pub bank_account: String,
    pub lines: Vec<PrintedLine>,
    pub rates: Vec<PrintedRate>,
    pub subtotal: String,
    pub tax: String,
    pub total: String,
}

fn printed_line(l: &LineView, rate: i64) -> PrintedLine {
    PrintedLine {
        description: l.description.clone(),
        contract: contract_label(l),
        period: if l.period_from == l.period_to {
            slashed(&l.period_from)
        } else {
            format!("{}〜{}", slashed(&l.period_from), slashed(&l.period_to))
        },
        unit: l.unit_amount.to_string(),
        rate: format!("{rate}%"),
        amount: l.amount.to_string(),
    }
}

impl PrintedInvoice {
    /// The printed form of `view`.
    pub fn of(view: &InvoiceView) -> Self {
        let inv = &view.summary;
        let draft = inv.status == "draft";
        let rate = view
            .totals_by_rate
            .first()
            .map_or(mpc_domain::invoice::STANDARD_RATE_PERCENT, |r| {
                r.rate_percent
            });
        PrintedInvoice {
            draft,
            number: inv.number.clone(),
            recipient: inv.recipient_name.clone(),
            month_label: match inv.month.split_once('-') {
                Some((y, m)) => format!("{y}年{}月", m.trim_start_matches('0')),
                None => inv.month.clone(),
            },
            issue_date: (!draft).then(|| japanese_date(&inv.issue_date)),
            due_date: japanese_date(&inv.due_date),
            issuer_name: view.issuer.name.clone(),
            issuer_registration: view.issuer.registration_number.clone(),
            issuer_address: view.issuer.address.clone(),
            issuer_phone: view.issuer.phone.clone(),
            bank_account: view.issuer.bank_account.clone(),
            lines: view.lines.iter().map(|l| printed_line(l, rate)).collect(),
            rates: view
                .totals_by_rate
                .iter()
                .map(|r| PrintedRate {
                    rate: r.rate_percent,
                    taxable: r.taxable.to_string(),
                    tax: r.tax.to_string(),
                })
                .collect(),
            subtotal: inv.subtotal.to_string(),
            tax: inv.tax.to_string(),
            total: inv.total.to_string(),
        }
    }

    /// `請求書 I-000123`, or `請求書（下書き）`: the title of the page and the PDF.
    pub fn title(&self) -> String {
        match (&self.number, self.draft) {
            (Some(n), false) => format!("請求書 {n}"),
            _ => "請求書（下書き）".to_owned(),
        }
    }

    /// The file name of the PDF: `invoice-I-000123.pdf`, `invoice-draft-<month>.pdf`.
    pub fn file_name(&self, id: &str) -> String {
        match &self.number {
            Some(n) if !self.draft => format!("invoice-{n}.pdf"),
            _ => format!("invoice-draft-{id}.pdf"),
        }
    }
}

// ---------------------------------------------------------------------------------------
// The font

/// Where Debian's `fonts-ipaexfont-gothic` installs IPAexGothic.
pub const DEFAULT_FONT: &str = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf";

/// Why no PDF could be made.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error(
        "the Japanese font for invoice PDFs is missing at {path}: install Debian's fonts-ipaexfont-gothic \
         (apt-get install fonts-ipaexfont-gothic) or point MPC_INVOICE_FONT at a TrueType/OpenType \
         Japanese font ({reason})"
    )]
    FontMissing { path: String, reason: String },
    #[error("the PDF could not be written: {0}")]
    Write(String),
}

/// The font file: `MPC_INVOICE_FONT`, else [`DEFAULT_FONT`].
pub fn font_path() -> PathBuf {
    std::env::var_os("MPC_INVOICE_FONT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_FONT))
}

/// The font's bytes, read once per path.
fn font_bytes(path: &Path) -> Result<Arc<Vec<u8>>, PdfError> {
    static CACHE: Mutex<Option<(PathBuf, Arc<Vec<u8>>)>> = Mutex::new(None);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((p, bytes)) = cache.as_ref()
        && *p == path
    {
        return Ok(bytes.clone());
    }
    let missing = |reason: String| PdfError::FontMissing {
        path: path.display().to_string(),
        reason,
    };
    let bytes = Arc::new(std::fs::read(path).map_err(|e| missing(e.to_string()))?);
    skrifa::FontRef::new(&bytes).map_err(|e| missing(format!("not a font: {e}")))?;
    *cache = Some((path.to_owned(), bytes.clone()));
    Ok(bytes)
}

/// Measures text in the invoice font.
struct Metrics<'a> {
    font: skrifa::FontRef<'a>,
}

impl Metrics<'_> {
    /// The width of `text` at `size` points.
    fn width(&self, text: &str, size: f32) -> f32 {
        let charmap = self.font.charmap();
        let glyphs = self
            .font
            .glyph_metrics(Size::new(size), LocationRef::default());
        text.chars()
            .map(|c| {
                charmap
                    .map(c)
                    .and_then(|g| glyphs.advance_width(g))
                    .unwrap_or(size)
            })
            .sum()
    }

    /// `text` broken into lines no wider than `max`: after a space or before an opening
    /// bracket when one is near the end of the line, else anywhere (as Japanese may break);
    /// a line never starts with a space.
    fn wrap(&self, text: &str, size: f32, max: f32) -> Vec<String> {
        const LOOK_BACK: usize = 12;
        let mut lines = Vec::new();
        let mut line: Vec<char> = Vec::new();
        for c in text.chars() {
            line.push(c);
            let width = self.width(&line.iter().collect::<String>(), size);
            if width <= max || line.len() == 1 {
                continue;
            }
            // Where to break: the last space or opening bracket near the end, else before `c`.
            let at = (line.len().saturating_sub(LOOK_BACK)..line.len())
                .rev()
                .find(|&i| i > 0 && (line[i] == '（' || line[i] == '(' || line[i - 1] == ' '))
                .unwrap_or(line.len() - 1);
            let rest: Vec<char> = line.split_off(at);
            lines.push(line.iter().collect::<String>().trim_end().to_owned());
            line = rest.into_iter().skip_while(|c| *c == ' ').collect();
        }
        if !line.is_empty() || lines.is_empty() {
            lines.push(line.into_iter().collect());
        }
        lines
    }
}

// ---------------------------------------------------------------------------------------
// The layout (points; A4, y downwards from the top edge)

const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 36.0;
const BODY: f32 = 7.5;
const LEADING: f32 = 10.0;
const ROW_PAD: f32 = 4.0;
const FOOTER: f32 = 24.0;

/// Table columns: (heading, width, right-aligned).
const COLUMNS: [(&str, f32, bool); 6] = [
    ("内容", 216.0, false),
    ("契約", 48.0, false),
    ("期間", 112.0, false),
    ("単価", 48.0, true),
    ("税率", 26.0, true),
    ("金額（税抜）", 73.28, true),
];

/// One table row as laid out.
struct Row {
    cells: Vec<Vec<String>>,
    height: f32,
}

/// What each page holds: rows, and whether the totals block follows them.
struct PageLayout {
    rows: std::ops::Range<usize>,
    totals: bool,
}

/// The invoice as an A4 PDF with the Japanese font of [`font_path`] embedded (a subset of it).
///
/// # Errors
/// [`PdfError::FontMissing`] naming the font and the Debian package when it is not installed.
pub fn pdf(invoice: &PrintedInvoice) -> Result<Vec<u8>, PdfError> {
    pdf_with_font(invoice, &font_path())
}

/// [`pdf`] with the font at `font`.
///
/// # Errors
/// As [`pdf`].
pub fn pdf_with_font(invoice: &PrintedInvoice, font: &Path) -> Result<Vec<u8>, PdfError> {
    let bytes = font_bytes(font)?;
    let metrics = Metrics {
        font: skrifa::FontRef::new(&bytes).map_err(|e| PdfError::Write(e.to_string()))?,
    };
    let font_path = font;
    let font = Font::new(bytes.clone().into(), 0).ok_or_else(|| PdfError::FontMissing {
        path: font_path.display().to_string(),
        reason: "not a usable TrueType/OpenType font".into(),
    })?;
    let rows: Vec<Row> = invoice
        .lines
        .iter()
        .map(|l| {
            let texts = [
                &l.description,
                &l.contract,
                &l.period,
                &l.unit,
                &l.rate,
                &l.amount,
            ];
            let cells: Vec<Vec<String>> = texts
                .iter()
                .zip(COLUMNS)
                .map(|(t, (_, w, _))| metrics.wrap(t, BODY, w - 2.0 * ROW_PAD))
                .collect();
            let lines = cells.iter().map(Vec::len).max().unwrap_or(1) as f32;
            Row {
                cells,
                height: lines * LEADING + ROW_PAD,
            }
        })
        .collect();
    let totals_height = totals_height(invoice);
    let body_top = MARGIN + header_height(invoice) + table_head_height();
    let body_bottom = PAGE_H - MARGIN - FOOTER;
    // Paginate: rows while they fit; the totals block whole on the last page.
    let mut pages: Vec<PageLayout> = Vec::new();
    let mut start = 0;
    let mut y = body_top;
    for (i, row) in rows.iter().enumerate() {
        if y + row.height > body_bottom && i > start {
            pages.push(PageLayout {
                rows: start..i,
                totals: false,
            });
            start = i;
            y = body_top;
        }
        y += row.height;
    }
    if y + totals_height <= body_bottom {
        pages.push(PageLayout {
            rows: start..rows.len(),
            totals: true,
        });
    } else {
        pages.push(PageLayout {
            rows: start..rows.len(),
            totals: false,
        });
        pages.push(PageLayout {
            rows: rows.len()..rows.len(),
            totals: true,
        });
    }

    let mut document = Document::new();
    let count = pages.len();
    for (n, layout) in pages.iter().enumerate() {
        let settings = PageSettings::from_wh(PAGE_W, PAGE_H)
            .ok_or_else(|| PdfError::Write("page size".into()))?;
        let mut page = document.start_page_with(settings);
        let mut s = page.surface();
        let mut pen = Pen {
            s: &mut s,
            font: font.clone(),
            metrics: &metrics,
        };
        let mut y = pen.header(invoice, n == 0);
        y = pen.table_head(y);
        for row in &rows[layout.rows.clone()] {
            y = pen.row(row, y);
        }
        if layout.totals {
            pen.totals(invoice, y + 8.0);
        }
        let footer = format!("{} / {count}", n + 1);
        let w = metrics.width(&footer, BODY);
        pen.text(&footer, (PAGE_W - w) / 2.0, PAGE_H - MARGIN, BODY);
        s.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| PdfError::Write(format!("{e:?}")))
}

/// The height [`Pen::header`] takes below the top margin.
fn header_height(invoice: &PrintedInvoice) -> f32 {
    let address = if invoice.issuer_address.is_empty() {
        0.0
    } else {
        11.0
    };
    94.0 + address
}

fn table_head_height() -> f32 {
    LEADING + ROW_PAD + 2.0
}

fn totals_height(invoice: &PrintedInvoice) -> f32 {
    // Subtotal, two rows per rate, total; then the bank account and the note.
    let rows = 2 + 2 * invoice.rates.len();
    rows as f32 * 13.0 + 8.0 + 14.0 * 2.0 + 24.0
}

/// Draws on one page.
struct Pen<'p, 's, 'm> {
    s: &'p mut krilla::surface::Surface<'s>,
    font: Font,
    metrics: &'m Metrics<'m>,
}

impl Pen<'_, '_, '_> {
    fn text(&mut self, text: &str, x: f32, baseline: f32, size: f32) {
        if text.is_empty() {
            return;
        }
        self.s.set_fill(Some(Fill::default()));
        self.s.draw_text(
            Point::from_xy(x, baseline),
            self.font.clone(),
            size,
            text,
            false,
            TextDirection::Auto,
        );
    }

    fn right(&mut self, text: &str, right: f32, baseline: f32, size: f32) {
        let w = self.metrics.width(text, size);
        self.text(text, right - w, baseline, size);
    }

    fn rule(&mut self, x1: f32, x2: f32, y: f32, width: f32) {
        let mut pb = PathBuilder::new();
        pb.move_to(x1, y);
        pb.line_to(x2, y);
        if let Some(path) = pb.finish() {
            self.s.set_fill(None);
            self.s.set_stroke(Some(Stroke {
                width,
                ..Stroke::default()
            }));
            self.s.draw_path(&path);
            self.s.set_stroke(None);
        }
    }

    /// The header every page repeats: title, number and dates, recipient, issuer (B3), and on
    /// every page the amount due. Returns where the table starts.
    fn header(&mut self, inv: &PrintedInvoice, _first: bool) -> f32 {
        let right = PAGE_W - MARGIN;
        let mut y = MARGIN + 16.0;
        let title = if inv.draft {
            "請求書（適格請求書）　下書き"
        } else {
            "請求書（適格請求書）"
        };
        self.text(title, MARGIN, y, 16.0);
        let number = match &inv.number {
            Some(n) if !inv.draft => format!("請求書番号 {n}"),
            _ => "下書き（未確定のため請求書番号なし）".to_owned(),
        };
        self.right(&number, right, y - 6.0, 8.5);
        if let Some(issued) = &inv.issue_date {
            self.right(&format!("発行日 {issued}"), right, y + 5.0, 8.5);
        }
        y += 12.0;
        self.rule(MARGIN, right, y, 0.8);
        y += 16.0;
        self.text(&format!("{} 御中", inv.recipient), MARGIN, y, 12.0);
        self.text(
            &format!("{}分 ご利用料金", inv.month_label),
            MARGIN,
            y + 14.0,
            8.5,
        );
        let mut iy = y;
        self.right(&inv.issuer_name, right, iy, 10.0);
        iy += 11.0;
        self.right(
            &format!("登録番号 {}", inv.issuer_registration),
            right,
            iy,
            8.5,
        );
        if !inv.issuer_address.is_empty() {
            iy += 11.0;
            self.right(&inv.issuer_address, right, iy, 8.5);
        }
        iy += 11.0;
        if !inv.issuer_phone.is_empty() {
            self.right(&format!("TEL {}", inv.issuer_phone), right, iy, 8.5);
        }
        y = iy + 20.0;
        self.text(
            &format!("ご請求金額（税込） {}", inv.total),
            MARGIN,
            y,
            12.0,
        );
        self.right(&format!("お支払期限 {}", inv.due_date), right, y, 8.5);
        y + 8.0
    }

    fn table_head(&mut self, y: f32) -> f32 {
        self.rule(MARGIN, PAGE_W - MARGIN, y, 0.6);
        let baseline = y + LEADING;
        let mut x = MARGIN;
        for (heading, w, right) in COLUMNS {
            if right {
                self.right(heading, x + w - ROW_PAD, baseline, BODY);
            } else {
                self.text(heading, x + ROW_PAD, baseline, BODY);
            }
            x += w;
        }
        let y = y + table_head_height();
        self.rule(MARGIN, PAGE_W - MARGIN, y, 0.6);
        y
    }

    fn row(&mut self, row: &Row, y: f32) -> f32 {
        let mut x = MARGIN;
        for (cell, (_, w, right)) in row.cells.iter().zip(COLUMNS) {
            for (i, line) in cell.iter().enumerate() {
                let baseline = y + LEADING * (i as f32 + 1.0) - 1.0;
                if right {
                    self.right(line, x + w - ROW_PAD, baseline, BODY);
                } else {
                    self.text(line, x + ROW_PAD, baseline, BODY);
                }
            }
            x += w;
        }
        let y = y + row.height;
        self.rule(MARGIN, PAGE_W - MARGIN, y, 0.2);
        y
    }

    /// Totals per tax rate with the tax of each (B3), the grand total, where to pay.
    fn totals(&mut self, inv: &PrintedInvoice, mut y: f32) {
        let right = PAGE_W - MARGIN;
        let label_x = PAGE_W - MARGIN - 230.0;
        let line = |pen: &mut Self, label: &str, value: &str, y: f32, size: f32| {
            pen.text(label, label_x, y, size);
            pen.right(value, right, y, size);
        };
        y += 11.0;
        line(self, "小計（税抜）", &inv.subtotal, y, 9.0);
        for r in &inv.rates {
            y += 13.0;
            line(
                self,
                &format!("{}%対象 合計（税抜）", r.rate),
                &r.taxable,
                y,
                9.0,
            );
            y += 13.0;
            line(self, &format!("消費税（{}%）", r.rate), &r.tax, y, 9.0);
        }
        y += 5.0;
        self.rule(label_x, right, y, 0.8);
        y += 13.0;
        line(self, "合計（税込）", &inv.total, y, 11.0);
        y += 22.0;
        if !inv.bank_account.is_empty() {
            self.text(&format!("振込先 {}", inv.bank_account), MARGIN, y, 9.0);
        }
        y += 14.0;
        self.text(
            "消費税は税率ごとの合計額に対して計算し、1円未満を切り捨てています。減額の行は適格返還請求書を兼ねます。",
            MARGIN,
            y,
            7.0,
        );
    }
}

#[derive(askama::Template)]
#[template(path = "invoice.html")]
struct PrintPage<'a> {
    title: String,
    inv: &'a PrintedInvoice,
}

/// The printable qualified invoice of `view`, in Japanese (B3): the print view of the API and
/// the console.
///
/// # Errors
/// 500 when the template fails.
pub(crate) fn printed(view: &InvoiceView) -> crate::error::ApiResult<axum::response::Html<String>> {
    use askama::Template as _;
    let inv = PrintedInvoice::of(view);
    let page = PrintPage {
        title: inv.title(),
        inv: &inv,
    };
    let html = page.render().map_err(|e| {
        tracing::error!(error = %e, "invoice template failed");
        crate::error::ApiError::internal()
    })?;
    Ok(axum::response::Html(html))
}
