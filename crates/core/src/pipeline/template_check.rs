//! Checking a shop's template before it is saved: it must render, for every kind of order a
//! shop gets from every marketplace, and name only variables that exist.

use chrono::Duration;

use crate::checks::CheckEngine;
use crate::marketplace::Policies;
use crate::order::{
    Carrier, DeliveryMethod, ItemOption, Marketplace, Order, OrderStatus, PaymentMethod, Shipment, Tracking,
};
use crate::rules::Rules;
use crate::sample::SampleOrders;

use super::mail::{MailKind, RenderError, render_sources, unknown_variables};
use super::shop::{MailTemplate, ShopSettings};
use super::stored::{StaffDecision, StoredOrder};

/// Why a template was refused: the sample order it failed on, and minijinja's line and variable.
#[derive(Debug, thiserror::Error)]
#[error("{kind} template fails on a sample {marketplace} order ({case}): {source}")]
pub struct TemplateRejected {
    /// Which mail.
    pub kind: MailKind,
    /// The sample order's marketplace.
    pub marketplace: Marketplace,
    /// What kind of order it was (`cod`, `bank_transfer_awaiting_payment` ...).
    pub case: &'static str,
    /// The render error (template line and variable).
    #[source]
    pub source: RenderError,
}

/// Renders `template` as `kind` against the sample orders of every marketplace; the number of
/// mails rendered, or the first failure.
pub fn check_template(
    kind: MailKind,
    shop: &ShopSettings,
    template: &MailTemplate,
    policies: &Policies,
) -> Result<usize, TemplateRejected> {
    let mut rendered = 0;
    for (marketplace, case, stored) in sample_orders(policies) {
        let reject = |source| TemplateRejected { kind, marketplace, case, source };
        render_sources(kind, shop, &stored, policies, &template.subject, &template.body).map_err(reject)?;
        for source in [&template.subject, &template.body] {
            let unknown = unknown_variables(shop, &stored, policies, source);
            if !unknown.is_empty() {
                let which = if std::ptr::eq(source, &template.subject) { "subject" } else { "body" };
                return Err(reject(RenderError::Template {
                    kind,
                    shop_id: shop.shop_id.clone(),
                    detail: format!(
                        "undefined value: {} ({which}, in a branch this order did not take)",
                        unknown.join(", ")
                    ),
                }));
            }
        }
        rendered += 1;
    }
    Ok(rendered)
}

/// Orders of every marketplace, one of each case a template must handle.
fn sample_orders(policies: &Policies) -> Vec<(Marketplace, &'static str, StoredOrder)> {
    let engine = CheckEngine::new(Rules::default(), *policies);
    let mut samples = SampleOrders::new(12);
    let mut out = Vec::new();
    for (n, m) in Marketplace::ALL.into_iter().enumerate() {
        let base = samples.clean_order(m, n);
        let mut cod = base.clone();
        set_payment(&mut cod, PaymentMethod::Cod, 330);
        cod.status = OrderStatus::ReadyToShip;
        let mut bank = base.clone();
        set_payment(&mut bank, PaymentMethod::BankTransfer, 0);
        bank.status = OrderStatus::AwaitingPayment;
        let mut gift = base.clone();
        two_destinations(&mut gift, samples.clean_order(m, n + 100));
        let mut shipped = base.clone();
        shipped.status = OrderStatus::Shipped;
        shipped.delivery.method = DeliveryMethod::MailBin;
        shipped.tracking = vec![Tracking {
            carrier: Carrier::Yamato,
            number: samples.tracking_number(),
            shipped_at: Some(shipped.ordered_at + Duration::hours(20)),
            shipment_id: None,
        }];
        let mut held = base.clone();
        held.remarks = "不在時は宅配ボックスへお願いします".into();
        held.delivery.requested_date = Some(held.ordered_at.date_naive() - Duration::days(1));
        held.delivery.requested_time_slot = Some("午前中".into());
        for (case, order) in [
            ("cod", cod),
            ("bank_transfer_awaiting_payment", bank),
            ("two_destinations_options_coupon_points", gift),
            ("shipped_mail_bin_with_tracking", shipped),
            ("held_with_findings", held),
        ] {
            let findings = engine.check(&order, &engine.bundle_index(std::iter::empty::<&Order>())).findings;
            let staff = if case == "held_with_findings" {
                StaffDecision::Held { reason: "住所を確認中".into(), at: order.ordered_at }
            } else {
                StaffDecision::None
            };
            out.push((m, case, stored(order, findings, staff)));
        }
    }
    out
}

fn set_payment(o: &mut Order, p: PaymentMethod, fee: i64) {
    o.payment_method = p;
    o.totals.total += fee - o.totals.fee;
    o.totals.fee = fee;
}

/// Adds a second destination, options on every item, and a coupon and points.
fn two_destinations(o: &mut Order, other: Order) {
    let mut second = other.items.clone();
    for item in &mut second {
        item.options = vec![ItemOption { name: "のし".into(), value: "御歳暮".into() }];
    }
    for item in &mut o.items {
        item.options = vec![ItemOption { name: "サイズ".into(), value: "M".into() }];
    }
    o.shipments = vec![
        Shipment { shipment_id: Some("1".into()), ship_to: o.ship_to.clone(), items: o.items.clone() },
        Shipment { shipment_id: Some("2".into()), ship_to: other.ship_to, items: second.clone() },
    ];
    o.items.extend(second);
    let t = &mut o.totals;
    t.goods = o.items.iter().map(|i| i.unit_price * i64::from(i.quantity)).sum();
    t.coupon = 100.min(t.goods);
    t.points = 50.min(t.goods - t.coupon);
    t.discount = t.coupon + t.points;
    t.total = t.goods + t.shipping + t.fee - t.discount;
    o.gift = true;
}

fn stored(order: Order, findings: Vec<crate::finding::Finding>, staff: StaffDecision) -> StoredOrder {
    let held = !matches!(staff, StaffDecision::None) || findings.iter().any(|f| f.severity == crate::Severity::Hold);
    StoredOrder {
        status: if held && order.status.is_open() { OrderStatus::OnHold } else { order.status },
        findings,
        staff,
        mails_due: Vec::new(),
        hold_episode: 0,
        ship_with: None,
        content_fp: String::new(),
        check_fp: String::new(),
        bundle_key: None,
        rev: 1,
        stored_at: order.ordered_at,
        expires_at: None,
        parcels: Vec::new(),
        acknowledgement: None,
        order,
    }
}
