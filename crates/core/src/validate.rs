//! Validation of a canonical Order: rejects values no real order can have, with a clear error.
//!
//! Errors name the field and the problem, never the value: values may be personal data.

use crate::order::{Address, Item, Order, SCHEMA_VERSION};

/// Longest single-line text field we accept (characters). Real fields are far shorter; this stops
/// hostile payloads from growing logs, labels and mails.
pub const MAX_FIELD_CHARS: usize = 1_000;
/// Longest buyer remark we accept (characters; 楽天 allows 32,767 bytes).
pub const MAX_REMARKS_CHARS: usize = 32_767;
/// Most line items in one order.
pub const MAX_ITEMS: usize = 1_000;
/// Largest amount of money in one field, in yen (a hundred million).
pub const MAX_YEN: i64 = 100_000_000;

/// Why an order was rejected: which field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid order: {field}: {problem}")]
pub struct OrderError {
    /// Path of the field, e.g. `items[2].quantity`.
    pub field: String,
    /// What is wrong, without the value.
    pub problem: String,
}

impl OrderError {
    fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        OrderError { field: field.into(), problem: problem.into() }
    }
}

impl Order {
    /// Checks that every value is possible; the first problem found is returned.
    pub fn validate(&self) -> Result<(), OrderError> {
        if self.schema_version != SCHEMA_VERSION {
            return Err(OrderError::new(
                "schema_version",
                format!("is {}, this build reads {SCHEMA_VERSION}", self.schema_version),
            ));
        }
        required_line("shop_id", &self.shop_id)?;
        required_line("order_id", &self.order_id)?;
        line("source_status", &self.source_status)?;
        line("source_payment_method", &self.source_payment_method)?;
        if self.source_updated_at < self.ordered_at {
            return Err(OrderError::new("source_updated_at", "is earlier than ordered_at"));
        }
        line("buyer.name", &self.buyer.name)?;
        opt_line("buyer.name_kana", &self.buyer.name_kana)?;
        opt_line("buyer.email", &self.buyer.email)?;
        opt_line("buyer.phone", &self.buyer.phone)?;
        address("ship_to", &self.ship_to)?;
        for (i, s) in self.shipments.iter().enumerate() {
            opt_line(&format!("shipments[{i}].shipment_id"), &s.shipment_id)?;
            address(&format!("shipments[{i}].ship_to"), &s.ship_to)?;
            items(&format!("shipments[{i}].items"), &s.items)?;
        }
        items("items", &self.items)?;
        line("delivery.source_method", &self.delivery.source_method)?;
        opt_line("delivery.requested_time_slot", &self.delivery.requested_time_slot)?;
        text("remarks", &self.remarks, MAX_REMARKS_CHARS)?;
        let t = &self.totals;
        for (name, v) in [
            ("totals.goods", t.goods),
            ("totals.shipping", t.shipping),
            ("totals.fee", t.fee),
            ("totals.discount", t.discount),
            ("totals.coupon", t.coupon),
            ("totals.points", t.points),
            ("totals.total", t.total),
        ] {
            yen(name, v)?;
        }
        if t.coupon + t.points > t.discount {
            return Err(OrderError::new("totals.discount", "is less than coupon + points"));
        }
        if t.goods + t.shipping + t.fee - t.discount != t.total {
            return Err(OrderError::new("totals.total", "is not goods + shipping + fee - discount"));
        }
        for (i, tr) in self.tracking.iter().enumerate() {
            required_line(&format!("tracking[{i}].number"), &tr.number)?;
        }
        Ok(())
    }
}

fn address(path: &str, a: &Address) -> Result<(), OrderError> {
    let country = a.country.as_str();
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(OrderError::new(format!("{path}.country"), "is not an ISO 3166 alpha-2 code"));
    }
    line(&format!("{path}.postal_code"), &a.postal_code)?;
    line(&format!("{path}.prefecture"), &a.prefecture)?;
    line(&format!("{path}.city"), &a.city)?;
    line(&format!("{path}.address1"), &a.address1)?;
    line(&format!("{path}.address2"), &a.address2)?;
    line(&format!("{path}.name"), &a.name)?;
    opt_line(&format!("{path}.phone"), &a.phone)
}

fn items(path: &str, items: &[Item]) -> Result<(), OrderError> {
    if items.len() > MAX_ITEMS {
        return Err(OrderError::new(path, format!("has more than {MAX_ITEMS} lines")));
    }
    for (i, item) in items.iter().enumerate() {
        let p = format!("{path}[{i}]");
        required_line(&format!("{p}.sku"), &item.sku)?;
        line(&format!("{p}.name"), &item.name)?;
        if item.quantity == 0 {
            return Err(OrderError::new(format!("{p}.quantity"), "is zero"));
        }
        yen(&format!("{p}.unit_price"), item.unit_price)?;
        for (j, o) in item.options.iter().enumerate() {
            line(&format!("{p}.options[{j}].name"), &o.name)?;
            line(&format!("{p}.options[{j}].value"), &o.value)?;
        }
    }
    Ok(())
}

fn yen(path: &str, v: i64) -> Result<(), OrderError> {
    if v < 0 {
        Err(OrderError::new(path, "is negative"))
    } else if v > MAX_YEN {
        Err(OrderError::new(path, format!("is over {MAX_YEN} yen")))
    } else {
        Ok(())
    }
}

fn required_line(path: &str, s: &str) -> Result<(), OrderError> {
    if s.trim().is_empty() {
        return Err(OrderError::new(path, "is empty"));
    }
    line(path, s)
}

fn opt_line(path: &str, s: &Option<String>) -> Result<(), OrderError> {
    s.as_deref().map_or(Ok(()), |s| line(path, s))
}

/// A single-line field: no control characters at all (a line break in a name is header injection).
fn line(path: &str, s: &str) -> Result<(), OrderError> {
    if s.chars().any(char::is_control) {
        return Err(OrderError::new(path, "contains a control character"));
    }
    length(path, s, MAX_FIELD_CHARS)
}

/// Free text: line breaks and tabs allowed, other control characters not.
fn text(path: &str, s: &str, max: usize) -> Result<(), OrderError> {
    if s.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(OrderError::new(path, "contains a control character"));
    }
    length(path, s, max)
}

fn length(path: &str, s: &str, max: usize) -> Result<(), OrderError> {
    // Byte length bounds the char count from above, so most fields skip the count.
    if s.len() > max && s.chars().count() > max {
        return Err(OrderError::new(path, format!("is longer than {max} characters")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::sample::SampleOrders;
    use crate::{Marketplace, Order};

    fn order() -> Order {
        SampleOrders::new(1).clean_order(Marketplace::Rakuten, 1)
    }

    fn rejects(o: &Order, field: &str) -> String {
        let e = o.validate().expect_err("must be rejected");
        assert_eq!(e.field, field, "{e}");
        e.to_string()
    }

    #[test]
    fn a_sample_order_is_valid() {
        assert_eq!(order().validate(), Ok(()));
    }

    #[test]
    fn impossible_values_are_rejected_naming_the_field() {
        let mut o = order();
        o.schema_version = 2;
        rejects(&o, "schema_version");
        let mut o = order();
        o.order_id = "  ".into();
        rejects(&o, "order_id");
        let mut o = order();
        o.items[0].quantity = 0;
        rejects(&o, "items[0].quantity");
        let mut o = order();
        o.items[0].unit_price = -1;
        rejects(&o, "items[0].unit_price");
        let mut o = order();
        o.totals.total += 1;
        rejects(&o, "totals.total");
        let mut o = order();
        o.source_updated_at = o.ordered_at - chrono::Duration::seconds(1);
        rejects(&o, "source_updated_at");
        let mut o = order();
        o.ship_to.country = "Japan".into();
        rejects(&o, "ship_to.country");
    }

    #[test]
    fn header_injection_and_oversized_fields_are_rejected_without_echoing_them() {
        let mut o = order();
        o.ship_to.name = "山田\r\nBcc: victim@example.com".into();
        let msg = rejects(&o, "ship_to.name");
        assert!(!msg.contains("山田") && !msg.contains("victim"), "{msg}");
        let mut o = order();
        o.buyer.email = Some("a@b.jp\nX: y".into());
        rejects(&o, "buyer.email");
        let mut o = order();
        o.ship_to.address2 = "あ".repeat(super::MAX_FIELD_CHARS + 1);
        rejects(&o, "ship_to.address2");
        // Remarks may hold line breaks, not other control characters.
        let mut o = order();
        o.remarks = "一行目\n二行目".into();
        assert_eq!(o.validate(), Ok(()));
        o.remarks = "ベル\u{7}".into();
        rejects(&o, "remarks");
    }
}
