//! Serde types for QAPI response bodies (JSON and XML): `ShippingBasic.GetShippingInfo_v2` /
//! `_v3` rows, `GetShippingAndClaimInfoByOrderNo_V2` rows (the same fields plus the claim ones)
//! and `GetClaimInfo_V3` claim rows.
//!
//! Keys are matched case-insensitively (fact sheet §6: v2 keys are mixed case and production
//! clients read some of them in other cases, e.g. `shippingDate`, `trackingNo`): a row is first
//! turned into an object with lower-case keys by [`normalize_keys`], which also renames the v3
//! spellings that differ from v2 (`Address1` → `addr1` ...). Unknown keys are ignored. Numbers are
//! accepted as JSON numbers or as text (the sheet leaves this open) and kept as text in [`Num`];
//! the mapping turns them into yen.

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde_json::{Map, Value};

/// v3 key (lower case) → the v2 key (lower case) the row types read.
const V3_NAMES: [(&str, &str); 12] = [
    ("estimatedshippingdate", "estshippingdate"),
    ("buyerkana", "buyer_gata"),
    ("itemno", "itemcode"),
    ("receiverkana", "receiver_gata"),
    ("shippingaddress", "shippingaddr"),
    ("address1", "addr1"),
    ("address2", "addr2"),
    ("desireddeliverydate", "hopedate"),
    ("senderaddress", "senderaddr"),
    ("shippingmessage", "shippingmsg"),
    ("cartdiscountseller", "cart_discount_seller"),
    ("cartdiscountqoo10", "cart_discount_qoo10"),
];

/// Whether a wire value carries nothing (null or blank text).
fn blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// Key under which [`normalize_keys`] keeps each key's spelling as the API sent it (normalised
/// key → original), so errors name fields as the API does. No QAPI key starts with `#`.
pub const SPELLINGS_KEY: &str = "#spellings";

/// A row object with lower-case keys and v3 spellings renamed to v2 ([`V3_NAMES`]). When two keys
/// meet (`PaymentDate` and `paymentDate`), the first that carries a value wins. The original
/// spellings are kept under [`SPELLINGS_KEY`].
pub fn normalize_keys(row: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::with_capacity(row.len() + 1);
    let mut spellings = Map::new();
    for (k, v) in row {
        if k == SPELLINGS_KEY {
            continue;
        }
        let mut key = k.to_ascii_lowercase();
        if let Some(&(_, v2)) = V3_NAMES.iter().find(|(v3, _)| *v3 == key) {
            key = v2.to_owned();
        }
        match out.get_mut(&key) {
            Some(old) if blank(old) && !blank(&v) => {
                *old = v;
                spellings.insert(key, Value::String(k));
            }
            Some(_) => {}
            None => {
                spellings.insert(key.clone(), Value::String(k));
                out.insert(key, v);
            }
        }
    }
    out.insert(SPELLINGS_KEY.to_owned(), Value::Object(spellings));
    out
}

/// A numeric wire value kept as its decimal text (`1980`, `1980.0000`, `-10001`).
///
/// JSON numbers and strings are both accepted; an empty string reads as absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Num(pub String);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Num;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number or a numeric string")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
                Ok(Num(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num, E> {
                Ok(Num(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Num, E> {
                // `{}` prints integral floats without exponent or fraction (`1980`), others as
                // `1980.5`; the mapping rejects what is not whole yen.
                Ok(Num(format!("{v}")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Num, E> {
                Ok(Num(v.trim().to_owned()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Num, E> {
                Ok(Num(String::new()))
            }
            // quick-xml hands an element's text over as a map with the key `$text`.
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Num, A::Error> {
                let mut text = String::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    if k == "$text" || k == "$value" {
                        text = v.trim().to_owned();
                    }
                }
                Ok(Num(text))
            }
        }
        d.deserialize_any(V)
    }
}

/// Reads an optional number where an empty string counts as absent.
fn opt_num<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Num>, D::Error> {
    Ok(Option::<Num>::deserialize(d)?.filter(|n| !n.0.is_empty()))
}

/// Reads optional text; a JSON number is taken as its decimal text (the sheet leaves open whether
/// codes such as `itemCode` arrive as numbers or strings).
fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("text")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(V)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Some(format!("{v}")))
        }
        // quick-xml hands an element's text over as a map with the key `$text`.
        fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut text = None;
            while let Some((k, v)) = map.next_entry::<String, String>()? {
                if k == "$text" || k == "$value" {
                    text = Some(v);
                }
            }
            Ok(text)
        }
    }
    d.deserialize_option(V)
}

/// The JSON envelope every QAPI method answers with.
#[derive(Debug, Deserialize)]
pub struct JsonEnvelope {
    /// `0` on success, negative on error.
    #[serde(rename = "ResultCode", default, deserialize_with = "opt_num")]
    pub result_code: Option<Num>,
    /// `SUCCESS` or the error message.
    #[serde(rename = "ResultMsg", default)]
    pub result_msg: Option<String>,
    /// The payload: a list of rows for searches, an object for single-order methods, a string
    /// for `CreateCertificationKey`, absent for `SetSendingInfo`. Kept raw until the shape is known.
    #[serde(rename = "ResultObject", default)]
    pub result_object: Option<serde_json::Value>,
}

/// The XML envelope: the same element names under a root whose name is not relied upon.
#[derive(Debug, Deserialize)]
pub struct XmlEnvelope {
    /// `0` on success, negative on error.
    #[serde(rename = "ResultCode", default, deserialize_with = "opt_num")]
    pub result_code: Option<Num>,
    /// `SUCCESS` or the error message.
    #[serde(rename = "ResultMsg", default)]
    pub result_msg: Option<String>,
    /// The rows (absent for methods without a payload).
    #[serde(rename = "ResultObject", default)]
    pub result_object: Option<XmlResultObject>,
}

/// `<ResultObject>` of an XML search answer.
#[derive(Debug, Deserialize)]
pub struct XmlResultObject {
    /// One `<ShippingInfo>` element per order line; a single element is a list of one.
    // unverified: the row element name `ShippingInfo` comes from one public XML-parsing script.
    #[serde(rename = "ShippingInfo", default)]
    pub rows: Vec<std::collections::BTreeMap<String, XmlText>>,
}

/// The text of one XML field element (empty for `<x/>`).
#[derive(Debug, Default)]
pub struct XmlText(pub String);

impl<'de> Deserialize<'de> for XmlText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        opt_text(d).map(|t| XmlText(t.unwrap_or_default()))
    }
}

/// `GetClaimInfo_V3` row: one order line with a claim (cancel, return, exchange, non-receipt).
/// Only the fields the client needs; the rest (return pick-up, COD refunds, personal data) are
/// ignored.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ClaimRow {
    /// Claim status code (`3`); a label with the code in parentheses is read as well.
    #[serde(rename = "claimstatus", default, deserialize_with = "opt_text")]
    pub claim_status: Option<String>,
    /// Order number (one line).
    #[serde(rename = "orderno", default, deserialize_with = "opt_num")]
    pub order_no: Option<Num>,
    /// Cart number grouping the lines of one checkout.
    #[serde(rename = "packno", default, deserialize_with = "opt_num")]
    pub pack_no: Option<Num>,
    /// Order time, `YYYY-MM-DD HH:MM:SS` JST.
    #[serde(rename = "orderdate", default, deserialize_with = "opt_text")]
    pub order_date: Option<String>,
    /// When the claim was requested.
    #[serde(rename = "requestdate", default, deserialize_with = "opt_text")]
    pub request_date: Option<String>,
    /// When the cancel / refund was completed.
    #[serde(rename = "cancelrefunddate", default, deserialize_with = "opt_text")]
    pub cancel_refund_date: Option<String>,
}

/// One row of `GetShippingInfo_v2` / `_v3` or `GetShippingAndClaimInfoByOrderNo_V2`, keys as
/// [`normalize_keys`] leaves them: one order line (`orderNo`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ShippingRow {
    /// Shipping status code or label (`2`, `Seller confirm(3)`).
    #[serde(rename = "shippingstatus", default, deserialize_with = "opt_text")]
    pub shipping_status: Option<String>,
    /// Claim status (cancel / return / exchange): sent by `GetShippingAndClaimInfoByOrderNo_V2`
    /// only (the searches have no claim field, §4.2); the client also sets it from a
    /// `GetClaimInfo_V3` row of the same line.
    #[serde(rename = "claimstatus", default, deserialize_with = "opt_text")]
    pub claim_status: Option<String>,
    /// Seller ID.
    #[serde(rename = "sellerid", default, deserialize_with = "opt_text")]
    pub seller_id: Option<String>,
    /// Order number (one line).
    #[serde(rename = "orderno", default, deserialize_with = "opt_num")]
    pub order_no: Option<Num>,
    /// Cart number grouping the lines of one checkout.
    #[serde(rename = "packno", default, deserialize_with = "opt_num")]
    pub pack_no: Option<Num>,
    /// Order time, `YYYY-MM-DD HH:MM:SS` JST.
    #[serde(rename = "orderdate", default, deserialize_with = "opt_text")]
    pub order_date: Option<String>,
    /// Payment time.
    #[serde(rename = "paymentdate", default, deserialize_with = "opt_text")]
    pub payment_date: Option<String>,
    /// Seller's estimated ship date.
    #[serde(rename = "estshippingdate", default, deserialize_with = "opt_text")]
    pub est_shipping_date: Option<String>,
    /// Shipped time.
    #[serde(rename = "shippingdate", default, deserialize_with = "opt_text")]
    pub shipping_date: Option<String>,
    /// Delivered time.
    #[serde(rename = "delivereddate", default, deserialize_with = "opt_text")]
    pub delivered_date: Option<String>,
    /// Buyer name.
    #[serde(rename = "buyer", default, deserialize_with = "opt_text")]
    pub buyer: Option<String>,
    /// Buyer name in katakana.
    #[serde(rename = "buyer_gata", default, deserialize_with = "opt_text")]
    pub buyer_gata: Option<String>,
    /// Buyer phone.
    #[serde(rename = "buyertel", default, deserialize_with = "opt_text")]
    pub buyer_tel: Option<String>,
    /// Buyer mobile phone.
    #[serde(rename = "buyermobile", default, deserialize_with = "opt_text")]
    pub buyer_mobile: Option<String>,
    /// Buyer e-mail.
    #[serde(rename = "buyeremail", default, deserialize_with = "opt_text")]
    pub buyer_email: Option<String>,
    /// Qoo10 item number.
    #[serde(rename = "itemcode", default, deserialize_with = "opt_text")]
    pub item_code: Option<String>,
    /// The seller's item code (SKU).
    #[serde(rename = "selleritemcode", default, deserialize_with = "opt_text")]
    pub seller_item_code: Option<String>,
    /// Item name.
    #[serde(rename = "itemtitle", default, deserialize_with = "opt_text")]
    pub item_title: Option<String>,
    /// Chosen option text (e.g. `色:黒`).
    #[serde(rename = "option", default, deserialize_with = "opt_text")]
    pub option: Option<String>,
    /// The seller's option code.
    #[serde(rename = "optioncode", default, deserialize_with = "opt_text")]
    pub option_code: Option<String>,
    /// Item price.
    #[serde(rename = "orderprice", default, deserialize_with = "opt_num")]
    pub order_price: Option<Num>,
    /// Quantity.
    #[serde(rename = "orderqty", default, deserialize_with = "opt_num")]
    pub order_qty: Option<Num>,
    /// Item discount.
    #[serde(rename = "discount", default, deserialize_with = "opt_num")]
    pub discount: Option<Num>,
    /// Line total = price + option price - discount.
    #[serde(rename = "total", default, deserialize_with = "opt_num")]
    pub total: Option<Num>,
    /// Recipient name.
    #[serde(rename = "receiver", default, deserialize_with = "opt_text")]
    pub receiver: Option<String>,
    /// Recipient name in katakana.
    #[serde(rename = "receiver_gata", default, deserialize_with = "opt_text")]
    pub receiver_gata: Option<String>,
    /// Destination country (`JP`).
    #[serde(rename = "shippingcountry", default, deserialize_with = "opt_text")]
    pub shipping_country: Option<String>,
    /// Destination postal code.
    #[serde(rename = "zipcode", default, deserialize_with = "opt_text")]
    pub zip_code: Option<String>,
    /// Full destination address (`Addr1` + `Addr2`).
    #[serde(rename = "shippingaddr", default, deserialize_with = "opt_text")]
    pub shipping_addr: Option<String>,
    /// Address part 1 (prefecture, city, town).
    #[serde(rename = "addr1", default, deserialize_with = "opt_text")]
    pub addr1: Option<String>,
    /// Address part 2 (street number, building).
    #[serde(rename = "addr2", default, deserialize_with = "opt_text")]
    pub addr2: Option<String>,
    /// Recipient phone.
    #[serde(rename = "receivertel", default, deserialize_with = "opt_text")]
    pub receiver_tel: Option<String>,
    /// Recipient mobile phone.
    #[serde(rename = "receivermobile", default, deserialize_with = "opt_text")]
    pub receiver_mobile: Option<String>,
    /// Buyer's desired delivery date.
    #[serde(rename = "hopedate", default, deserialize_with = "opt_text")]
    pub hope_date: Option<String>,
    /// Gift sender name.
    #[serde(rename = "sendername", default, deserialize_with = "opt_text")]
    pub sender_name: Option<String>,
    /// Gift sender phone.
    #[serde(rename = "sendertel", default, deserialize_with = "opt_text")]
    pub sender_tel: Option<String>,
    /// Gift sender country.
    #[serde(rename = "sendernation", default, deserialize_with = "opt_text")]
    pub sender_nation: Option<String>,
    /// Gift sender postal code.
    #[serde(rename = "senderzipcode", default, deserialize_with = "opt_text")]
    pub sender_zip_code: Option<String>,
    /// Gift sender address.
    #[serde(rename = "senderaddr", default, deserialize_with = "opt_text")]
    pub sender_addr: Option<String>,
    /// Shipping method.
    #[serde(rename = "shippingway", default, deserialize_with = "opt_text")]
    pub shipping_way: Option<String>,
    /// Buyer's delivery request / remarks.
    #[serde(rename = "shippingmsg", default, deserialize_with = "opt_text")]
    pub shipping_msg: Option<String>,
    /// Payment method name.
    #[serde(rename = "paymentmethod", default, deserialize_with = "opt_text")]
    pub payment_method: Option<String>,
    /// Order country.
    #[serde(rename = "paymentnation", default, deserialize_with = "opt_text")]
    pub payment_nation: Option<String>,
    /// Currency (`JPY`).
    #[serde(rename = "currency", default, deserialize_with = "opt_text")]
    pub currency: Option<String>,
    /// Shipping fee.
    #[serde(rename = "shippingrate", default, deserialize_with = "opt_num")]
    pub shipping_rate: Option<Num>,
    /// `Free` / `Charge` / `Free on condition`.
    #[serde(rename = "shippingratetype", default, deserialize_with = "opt_text")]
    pub shipping_rate_type: Option<String>,
    /// Seller-funded discount.
    #[serde(rename = "sellerdiscount", default, deserialize_with = "opt_num")]
    pub seller_discount: Option<Num>,
    /// Cart coupon funded by the seller.
    #[serde(rename = "cart_discount_seller", default, deserialize_with = "opt_num")]
    pub cart_discount_seller: Option<Num>,
    /// Cart coupon funded by Qoo10.
    #[serde(rename = "cart_discount_qoo10", default, deserialize_with = "opt_num")]
    pub cart_discount_qoo10: Option<Num>,
    /// Settlement amount.
    #[serde(rename = "settleprice", default, deserialize_with = "opt_num")]
    pub settle_price: Option<Num>,
    /// Related order numbers, comma-separated.
    #[serde(rename = "relatedorder", default, deserialize_with = "opt_text")]
    pub related_order: Option<String>,
    /// Registered carrier name.
    #[serde(rename = "deliverycompany", default, deserialize_with = "opt_text")]
    pub delivery_company: Option<String>,
    /// Registered tracking number.
    #[serde(rename = "trackingno", default, deserialize_with = "opt_text")]
    pub tracking_no: Option<String>,
    /// Packing number created at dispatch request.
    #[serde(rename = "packingno", default, deserialize_with = "opt_text")]
    pub packing_no: Option<String>,
    /// Seller-side serial paired with `PackingNo`.
    #[serde(rename = "sellerdeliveryno", default, deserialize_with = "opt_text")]
    pub seller_delivery_no: Option<String>,
    /// Store pick-up verification code.
    #[serde(rename = "vouchercode", default, deserialize_with = "opt_text")]
    pub voucher_code: Option<String>,
    /// Gift flag (`Y` / `N`).
    #[serde(rename = "gift", default, deserialize_with = "opt_text")]
    pub gift: Option<String>,
    /// Order type (single-order V2 method).
    #[serde(rename = "ordertype", default, deserialize_with = "opt_text")]
    pub order_type: Option<String>,
    /// COD amount (single-order V2 method).
    #[serde(rename = "cod_price", default, deserialize_with = "opt_num")]
    pub cod_price: Option<Num>,
}
