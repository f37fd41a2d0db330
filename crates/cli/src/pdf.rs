//! A4 PDFs of 納品書 and picking lists (`ichigen print`), drawn with krilla, which embeds only the
//! glyphs used (a subset) of the Japanese font read from the system at run time.
//!
//! Two steps: the content is laid out into pages of drawing operations (so a long order simply
//! continues on the next page, under a repeated header), then the pages are drawn.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use ichigen_core::Totals;
use ichigen_core::japanese::marketplace_name;
use ichigen_core::labels::slips::{PickLine, Prints, ShopBlock, Slip, SlipLine};
use krilla::Document;
use krilla::geom::{PathBuilder, Point};
use krilla::page::PageSettings;
use krilla::paint::Stroke;
use krilla::text::{Font, TextDirection};

/// Fonts looked for, in order, with the face index: Debian's `fonts-ipaexfont-gothic` (IPAexゴシック,
/// IPA Font License), then `fonts-noto-cjk` (Noto Sans CJK, SIL OFL; face 0 is the Japanese one).
pub const FONT_PATHS: [(&str, u32); 2] = [
    ("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 0),
];

/// A4 in points.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 42.0;
/// Body text size, points.
const BODY: f32 = 9.5;
/// Line advance of body text.
const LEADING: f32 = 14.0;

/// Why no PDF was made.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// No font file at the known places (nor the one given).
    #[error(
        "日本語フォントが見つかりません({0})。IPAexゴシックを入れてください(Debian/Ubuntu: apt-get install fonts-ipaexfont-gothic)。別のフォントは --font で指定できます"
    )]
    NoFont(String),
    /// The file is not a font krilla can read.
    #[error("フォントファイル {0} を読めません(TrueType/OpenType のフォントを指定してください)")]
    BadFont(PathBuf, #[source] Option<std::io::Error>),
    /// krilla could not write the document.
    #[error("PDFを作れません: {0}")]
    Write(String),
}

/// Reads the font: `path` when given, else the first of [`FONT_PATHS`] present.
pub fn load_font(path: Option<&Path>) -> Result<Font, PdfError> {
    let (path, index) = match path {
        Some(p) => (p.to_path_buf(), 0),
        None => FONT_PATHS
            .iter()
            .map(|&(p, i)| (PathBuf::from(p), i))
            .find(|(p, _)| p.is_file())
            .ok_or_else(|| PdfError::NoFont(FONT_PATHS.map(|(p, _)| p).join(", ")))?,
    };
    let data = std::fs::read(&path).map_err(|e| PdfError::BadFont(path.clone(), Some(e)))?;
    Font::new(data.into(), index).ok_or(PdfError::BadFont(path, None))
}

/// The 納品書 of every slip, each starting on its own page.
pub fn slips_pdf(prints: &Prints, font: &Font, issued: NaiveDate) -> Result<Vec<u8>, PdfError> {
    let mut pages = Pages::default();
    for slip in &prints.slips {
        slip_pages(&mut pages, &prints.shop, slip, issued);
    }
    render(&pages.done(), font)
}

/// The picking list: one row per SKU and options, with the total and the slips it goes into.
pub fn picking_pdf(prints: &Prints, font: &Font, issued: NaiveDate) -> Result<Vec<u8>, PdfError> {
    let mut pages = Pages::default();
    let parcels = prints.slips.len();
    let pieces: u64 = prints.picking.iter().map(|p| p.quantity).sum();
    let title = format!("ピッキングリスト  {issued}  {parcels}個口・{}品目・{pieces}点", prints.picking.len());
    let header = move |p: &mut Pages| {
        p.text(MARGIN, p.y, 16.0, &title);
        p.y += 24.0;
        pick_header(p);
    };
    pages.start(Box::new(header));
    for line in &prints.picking {
        pick_row(&mut pages, line);
    }
    render(&pages.done(), font)
}

/// One drawing operation, in points from the page's top left.
#[derive(Debug, Clone)]
enum Op {
    Text { x: f32, y: f32, size: f32, text: String },
    Rule { x1: f32, y: f32, x2: f32, width: f32 },
}

/// What a page the content runs on to repeats at its top.
type Header = Box<dyn Fn(&mut Pages)>;

/// Pages being laid out: the current one, where the next line goes, and what a continued page
/// repeats at its top.
#[derive(Default)]
struct Pages {
    done: Vec<Vec<Op>>,
    current: Vec<Op>,
    y: f32,
    header: Option<Header>,
}

impl Pages {
    /// A new page headed by `header` (repeated on each page it runs on to).
    fn start(&mut self, header: Header) {
        self.flush();
        self.y = MARGIN + 16.0;
        header(self);
        self.header = Some(header);
    }

    fn flush(&mut self) {
        if !self.current.is_empty() {
            self.done.push(std::mem::take(&mut self.current));
        }
    }

    /// Makes room for `height` points: a new page (with the header again) when it does not fit.
    fn room(&mut self, height: f32) {
        if self.y + height > PAGE_H - MARGIN {
            self.flush();
            self.y = MARGIN + 16.0;
            if let Some(header) = self.header.take() {
                header(self);
                self.header = Some(header);
            }
        }
    }

    fn text(&mut self, x: f32, y: f32, size: f32, text: &str) {
        if !text.is_empty() {
            self.current.push(Op::Text { x, y, size, text: text.to_string() });
        }
    }

    fn rule(&mut self, x1: f32, x2: f32, width: f32) {
        self.current.push(Op::Rule { x1, y: self.y, x2, width });
    }

    fn done(mut self) -> Vec<Vec<Op>> {
        self.flush();
        self.done
    }
}

/// Approximate advance of `c` in ems: full width 1, ASCII and half-width kana about a half
/// (IPAexゴシック's Latin is proportional; a little generous so wrapped text never overruns).
fn em(c: char) -> f32 {
    if c.is_ascii() || ('\u{ff61}'..='\u{ff9f}').contains(&c) { 0.6 } else { 1.0 }
}

/// Splits `text` into lines no wider than `width` points at `size`.
fn wrap(text: &str, width: f32, size: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut w = 0.0;
    for c in text.chars().map(|c| if c.is_control() { ' ' } else { c }) {
        let cw = em(c) * size;
        if w + cw > width && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            w = 0.0;
        }
        line.push(c);
        w += cw;
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Lines of `numbers` separated by `, `, broken between numbers only.
fn wrap_list(numbers: &[usize], width: f32, size: f32) -> Vec<String> {
    let mut lines = vec![String::new()];
    for (i, n) in numbers.iter().enumerate() {
        let token = if i + 1 < numbers.len() { format!("{n}, ") } else { n.to_string() };
        let last = lines.last_mut().map(|l| l.as_str()).unwrap_or_default();
        if !last.is_empty() && width_of(last.trim_end(), size) + width_of(token.trim_end(), size) > width {
            lines.push(String::new());
        }
        if let Some(l) = lines.last_mut() {
            l.push_str(&token);
        }
    }
    lines.into_iter().map(|l| l.trim_end().to_string()).collect()
}

fn width_of(text: &str, size: f32) -> f32 {
    text.chars().map(|c| em(c) * size).sum()
}

/// Draws `text` ending at `right`.
fn right(p: &mut Pages, right: f32, y: f32, size: f32, text: &str) {
    p.text(right - width_of(text, size), y, size, text);
}

fn yen(v: i64) -> String {
    let digits = v.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{}{out}円", if v < 0 { "-" } else { "" })
}

fn postal(code: &str) -> String {
    let digits: String = code.chars().filter(char::is_ascii_digit).collect();
    if digits.len() == 7 { format!("〒{}-{}", &digits[..3], &digits[3..]) } else { format!("〒{}", code.trim()) }
}

// Column x positions of a slip's item table.
const COL_SKU: f32 = MARGIN;
const COL_NAME: f32 = MARGIN + 92.0;
const COL_QTY_R: f32 = PAGE_W - MARGIN - 150.0;
const COL_PRICE_R: f32 = PAGE_W - MARGIN - 75.0;
const COL_AMOUNT_R: f32 = PAGE_W - MARGIN;

fn slip_pages(pages: &mut Pages, shop: &ShopBlock, slip: &Slip, issued: NaiveDate) {
    let order = format!("{} {}", marketplace_name(slip.order.marketplace), slip.order.order_id);
    let (number, gift) = (slip.number, slip.gift);
    let continued = order.clone();
    let mut first = true;
    // The first page has the whole head; a page the items run on to names the order again.
    let head = move |p: &mut Pages| {
        if first {
            first = false;
            return;
        }
        p.text(MARGIN, p.y, 11.0, &format!("納品書(続き)  No.{number}  {continued}"));
        p.y += 20.0;
        table_header(p, gift);
    };
    let head = std::cell::RefCell::new(head);
    pages.start(Box::new(move |p| (head.borrow_mut())(p)));

    // Title, number and date.
    pages.text(MARGIN, pages.y + 6.0, 22.0, "納品書");
    right(pages, PAGE_W - MARGIN, pages.y - 4.0, BODY, &format!("No.{}", slip.number));
    right(pages, PAGE_W - MARGIN, pages.y + 10.0, BODY, &format!("発行日 {issued}"));
    pages.y += 34.0;

    // The destination on the left, the shop on the right.
    let top = pages.y;
    let to = &slip.ship_to;
    let mut y = top;
    pages.text(MARGIN, y, BODY, "お届け先");
    y += LEADING;
    pages.text(MARGIN, y, BODY, &postal(&to.postal_code));
    y += LEADING;
    let address = format!("{}{}{}", to.prefecture.trim(), to.city.trim(), to.address1.trim());
    for l in wrap(&address, 270.0, BODY).iter().chain(wrap(to.address2.trim(), 270.0, BODY).iter()) {
        pages.text(MARGIN, y, BODY, l);
        y += LEADING;
    }
    let recipient = if to.name.trim().is_empty() { slip.buyer_name.as_str() } else { to.name.trim() };
    pages.text(MARGIN, y + 4.0, 13.0, &format!("{recipient} 様"));
    y += 22.0;
    if slip.gift && recipient != slip.buyer_name {
        pages.text(MARGIN, y, BODY, &format!("ご注文者: {} 様", slip.buyer_name));
        y += LEADING;
    }
    let sx = PAGE_W / 2.0 + 40.0;
    let mut sy = top;
    pages.text(sx, sy, BODY, "差出人");
    sy += LEADING;
    if let Some(name) = &shop.shop_name {
        pages.text(sx, sy, 11.0, name);
        sy += LEADING;
    }
    pages.text(sx, sy, 11.0, &shop.name);
    sy += LEADING;
    if !shop.postal_code.is_empty() {
        pages.text(sx, sy, BODY, &postal(&shop.postal_code));
        sy += LEADING;
    }
    for l in wrap(&shop.address, PAGE_W - MARGIN - sx, BODY) {
        pages.text(sx, sy, BODY, &l);
        sy += LEADING;
    }
    for (label, value) in [("TEL ", &shop.phone), ("", &shop.email)] {
        if !value.is_empty() {
            pages.text(sx, sy, BODY, &format!("{label}{value}"));
            sy += LEADING;
        }
    }
    pages.y = y.max(sy) + 8.0;

    // The order.
    let (d, of) = slip.destination;
    let mut facts = vec![
        format!("ご注文番号: {order}"),
        format!("ご注文日: {}", slip.ordered_at.format("%Y-%m-%d")),
        format!("お客様管理番号: {}", slip.key),
    ];
    if of > 1 {
        facts.push(format!("送付先 {d} / {of}"));
    }
    match (&slip.date, &slip.slot) {
        (None, None) => {}
        (date, slot) => facts.push(format!(
            "お届け希望: {}{}",
            date.map(|d| d.to_string()).unwrap_or_default(),
            slot.as_deref().map(|s| format!(" {s}")).unwrap_or_default()
        )),
    }
    for f in facts {
        pages.text(MARGIN, pages.y, BODY, &f);
        pages.y += LEADING;
    }
    pages.y += 4.0;
    pages.text(
        MARGIN,
        pages.y,
        BODY,
        if slip.gift {
            "この度はご利用ありがとうございます。下記の商品をお届けします。"
        } else {
            "この度はご注文ありがとうございます。下記の通り納品いたします。"
        },
    );
    pages.y += LEADING + 6.0;
    table_header(pages, gift);

    item_rows(pages, &slip.lines);
    // Money: on the order's first parcel, when it is not a gift.
    if let Some(t) = &slip.totals {
        money(pages, t);
        if of > 1 {
            pages.text(MARGIN, pages.y, BODY - 1.5, "金額はご注文全体のものです(複数のお届け先があります)。");
            pages.y += LEADING;
        }
    }
    // 同梱: each other order in the box, under its own number, with its own money.
    for b in &slip.bundled {
        pages.room(3.0 * LEADING + 20.0);
        pages.y += 8.0;
        let heading = format!(
            "同梱 ご注文番号: {} {}  ご注文日: {}",
            marketplace_name(b.order.marketplace),
            b.order.order_id,
            b.ordered_at.format("%Y-%m-%d")
        );
        pages.text(MARGIN, pages.y, BODY, &heading);
        pages.y += LEADING + 2.0;
        table_header(pages, gift);
        item_rows(pages, &b.lines);
        if let Some(t) = &b.totals {
            money(pages, t);
        }
    }
}

/// A slip's item rows: SKU, name with options, quantity, and prices when the slip has them.
fn item_rows(pages: &mut Pages, lines: &[SlipLine]) {
    for line in lines {
        let name = wrap(&line.name, COL_QTY_R - 40.0 - COL_NAME, BODY);
        let options = wrap(&line.options, COL_QTY_R - 40.0 - COL_NAME, BODY - 1.5);
        let sku = wrap(&line.sku, COL_NAME - COL_SKU - 6.0, BODY - 1.0);
        let rows = name.len() + if line.options.is_empty() { 0 } else { options.len() };
        pages.room(rows.max(sku.len()) as f32 * LEADING + 4.0);
        let y0 = pages.y;
        for (i, l) in sku.iter().enumerate() {
            pages.text(COL_SKU, y0 + i as f32 * LEADING, BODY - 1.0, l);
        }
        let mut y = y0;
        for l in &name {
            pages.text(COL_NAME, y, BODY, l);
            y += LEADING;
        }
        if !line.options.is_empty() {
            for l in &options {
                pages.text(COL_NAME + 8.0, y, BODY - 1.5, l);
                y += LEADING;
            }
        }
        right(pages, COL_QTY_R, y0, BODY, &line.quantity.to_string());
        if let Some(price) = line.unit_price {
            right(pages, COL_PRICE_R, y0, BODY, &yen(price));
            right(pages, COL_AMOUNT_R, y0, BODY, &yen(price * i64::from(line.quantity)));
        }
        pages.y = y.max(y0 + sku.len() as f32 * LEADING) - LEADING + 5.0;
        pages.rule(MARGIN, PAGE_W - MARGIN, 0.3);
        pages.y += LEADING;
    }
}

/// An order's money under its items.
fn money(pages: &mut Pages, t: &Totals) {
    let mut rows = vec![("商品合計", t.goods), ("送料", t.shipping)];
    if t.fee != 0 {
        rows.push(("手数料", t.fee));
    }
    if t.discount != 0 {
        rows.push(("割引・ポイント", -t.discount));
    }
    rows.push(("ご請求金額", t.total));
    pages.room(rows.len() as f32 * LEADING + 20.0);
    pages.y += 4.0;
    for (label, v) in rows {
        pages.text(COL_PRICE_R - 70.0, pages.y, BODY, label);
        right(pages, COL_AMOUNT_R, pages.y, BODY, &yen(v));
        pages.y += LEADING;
    }
}

fn table_header(p: &mut Pages, gift: bool) {
    p.text(COL_SKU, p.y, BODY, "SKU");
    p.text(COL_NAME, p.y, BODY, "商品名・オプション");
    right(p, COL_QTY_R, p.y, BODY, "数量");
    if !gift {
        right(p, COL_PRICE_R, p.y, BODY, "単価");
        right(p, COL_AMOUNT_R, p.y, BODY, "金額");
    }
    p.y += 5.0;
    p.rule(MARGIN, PAGE_W - MARGIN, 0.8);
    p.y += LEADING;
}

// Column x positions of the picking list.
const PICK_NAME: f32 = MARGIN + 100.0;
const PICK_QTY_R: f32 = MARGIN + 320.0;
const PICK_SLIPS: f32 = MARGIN + 335.0;

fn pick_header(p: &mut Pages) {
    p.text(MARGIN, p.y, BODY, "SKU");
    p.text(PICK_NAME, p.y, BODY, "商品名・オプション");
    right(p, PICK_QTY_R, p.y, BODY, "数量");
    p.text(PICK_SLIPS, p.y, BODY, "納品書No.");
    p.y += 5.0;
    p.rule(MARGIN, PAGE_W - MARGIN, 0.8);
    p.y += LEADING;
}

fn pick_row(p: &mut Pages, line: &PickLine) {
    let width = PICK_QTY_R - 36.0 - PICK_NAME;
    let mut text = wrap(&line.name, width, BODY);
    if !line.options.is_empty() {
        text.extend(wrap(&line.options, width, BODY));
    }
    let sku = wrap(&line.sku, PICK_NAME - MARGIN - 6.0, BODY);
    let slips = wrap_list(&line.slips, PAGE_W - MARGIN - PICK_SLIPS, BODY);
    let rows = text.len().max(sku.len()).max(slips.len());
    p.room(rows as f32 * LEADING + 4.0);
    let y0 = p.y;
    for (col, lines) in [(MARGIN, &sku), (PICK_NAME, &text), (PICK_SLIPS, &slips)] {
        for (i, l) in lines.iter().enumerate() {
            p.text(col, y0 + i as f32 * LEADING, BODY, l);
        }
    }
    right(p, PICK_QTY_R, y0, BODY + 1.0, &line.quantity.to_string());
    p.y = y0 + (rows as f32 - 1.0) * LEADING + 5.0;
    p.rule(MARGIN, PAGE_W - MARGIN, 0.3);
    p.y += LEADING;
}

/// Draws the laid-out pages.
fn render(pages: &[Vec<Op>], font: &Font) -> Result<Vec<u8>, PdfError> {
    let mut doc = Document::new();
    let settings = || PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| PdfError::Write("page size".into()));
    for ops in pages {
        let mut page = doc.start_page_with(settings()?);
        let mut surface = page.surface();
        for op in ops {
            match op {
                Op::Text { x, y, size, text } => {
                    surface.draw_text(Point::from_xy(*x, *y), font.clone(), *size, text, false, TextDirection::Auto);
                }
                Op::Rule { x1, y, x2, width } => {
                    let mut pb = PathBuilder::new();
                    pb.move_to(*x1, *y);
                    pb.line_to(*x2, *y);
                    if let Some(path) = pb.finish() {
                        surface.set_fill(None);
                        surface.set_stroke(Some(Stroke { width: *width, ..Stroke::default() }));
                        surface.draw_path(&path);
                        surface.set_stroke(None);
                    }
                }
            }
        }
        surface.finish();
        page.finish();
    }
    if pages.is_empty() {
        // An empty list still makes a valid one-page PDF.
        let page = doc.start_page_with(settings()?);
        page.finish();
    }
    doc.finish().map_err(|e| PdfError::Write(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use ichigen_core::labels::ParcelKey;
    use ichigen_core::labels::slips::SlipLine;
    use ichigen_core::pipeline::OrderKey;
    use ichigen_core::{Address, Marketplace, Totals};

    /// A gift slip of `lines` item lines, and a priced one of three.
    fn prints(lines: usize) -> Prints {
        let slip = |n: usize, id: &str, lines: usize, gift: bool| Slip {
            number: n,
            order: OrderKey { shop_id: "demo".into(), marketplace: Marketplace::Rakuten, order_id: id.into() },
            ordered_at: chrono::DateTime::parse_from_rfc3339("2026-11-27T10:00:00+09:00").unwrap(),
            key: ParcelKey::new("demo", Marketplace::Rakuten, id, 1).unwrap(),
            destination: (1, 1),
            buyer_name: "山田 太郎".into(),
            ship_to: Address {
                country: "JP".into(),
                postal_code: "1500002".into(),
                prefecture: "東京都".into(),
                city: "渋谷区".into(),
                address1: "渋谷2丁目21-1".into(),
                address2: String::new(),
                name: if gift { "佐藤 花子".into() } else { "山田 太郎".into() },
                phone: None,
            },
            lines: (1..=lines)
                .map(|i| SlipLine {
                    sku: format!("SKU-{i:03}"),
                    name: format!("長い名前の商品 その{i}"),
                    options: if i % 2 == 0 { "色:赤 / サイズ:L".into() } else { String::new() },
                    quantity: 2,
                    unit_price: (!gift).then_some(1_200),
                })
                .collect(),
            totals: (!gift).then_some(Totals { goods: 3_600, shipping: 600, total: 4_200, ..Totals::default() }),
            gift,
            date: None,
            slot: None,
            bundled: Vec::new(),
        };
        Prints {
            shop: ShopBlock {
                name: "株式会社いちげん".into(),
                shop_name: None,
                postal_code: "150-0002".into(),
                address: "東京都渋谷区渋谷2丁目21-1".into(),
                phone: "03-0000-0000".into(),
                email: "shop@example.jp".into(),
            },
            slips: vec![slip(1, "100-1", lines, true), slip(2, "100-2", 3, false)],
            picking: Vec::new(),
            not_ready: Vec::new(),
            skipped: Vec::new(),
        }
    }

    #[test]
    fn a_long_order_runs_on_to_the_next_pages_under_its_header() {
        let font = load_font(None).expect("scripts/test installs fonts-ipaexfont-gothic");
        let pdf = slips_pdf(&prints(90), &font, NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("long.pdf");
        std::fs::write(&path, &pdf).unwrap();
        let out = std::process::Command::new("pdftotext").args([path.to_str().unwrap(), "-"]).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let pages: Vec<&str> = text.split('\u{c}').filter(|p| !p.trim().is_empty()).collect();
        assert!(pages.len() >= 4, "90 lines over several pages, then the next slip: {}", pages.len());
        let long: Vec<&&str> = pages.iter().filter(|p| p.contains("100-1")).collect();
        assert!(long.len() >= 3);
        for p in &long[1..] {
            assert!(p.contains("納品書(続き)") && p.contains("No.1") && p.contains("数量"), "{p}");
        }
        for i in [1, 45, 90] {
            assert!(long.iter().any(|p| p.contains(&format!("SKU-{i:03}"))), "line {i}");
        }
        // The gift slip has no price on any page; the other has its prices and total.
        assert!(long.iter().all(|p| !p.contains('円')));
        let priced = pages.iter().find(|p| p.contains("100-2")).unwrap();
        assert!(priced.contains("1,200円") && priced.contains("2,400円") && priced.contains("4,200円"), "{priced}");
        assert!(!priced.contains("納品書(続き)"));
    }

    #[test]
    fn long_text_wraps_within_the_width() {
        let lines = wrap(&"あ".repeat(50), 100.0, 10.0);
        assert_eq!(lines.len(), 5);
        assert!(lines.iter().all(|l| width_of(l, 10.0) <= 100.0));
        assert_eq!(wrap("", 100.0, 10.0), vec![String::new()]);
    }

    #[test]
    fn slip_numbers_break_between_numbers() {
        let numbers: Vec<usize> = (95..130).collect();
        let lines = wrap_list(&numbers, 100.0, 10.0);
        assert!(lines.len() > 1);
        let back: Vec<usize> = lines.join(", ").split(", ").map(|n| n.trim_end_matches(',').parse().unwrap()).collect();
        assert_eq!(back, numbers);
        assert!(lines.iter().all(|l| width_of(l, 10.0) <= 100.0));
    }

    #[test]
    fn yen_groups_thousands() {
        assert_eq!(yen(1234567), "1,234,567円");
        assert_eq!(yen(-500), "-500円");
        assert_eq!(yen(0), "0円");
    }
}
