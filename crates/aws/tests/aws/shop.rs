//! Shop settings and the blacklist.

use ichigen_core::pipeline::{MailKind, MailTemplate, ShopDirectory, ShopSettings};
use ichigen_core::rules::BlacklistEntry;

use crate::common::Moto;

#[tokio::test]
async fn shop_settings_round_trip() {
    let moto = Moto::new().await;
    let store = moto.store().await;
    assert_eq!(store.shop("shop-a").await.unwrap(), None);
    let mut settings = ShopSettings::new("shop-a", "いちげん雑貨店", "shop@example.jp");
    settings.staff_to = vec!["staff@example.jp".into(), "owner@example.jp".into()];
    settings.rules_toml = "[severity]\n\"order.remarks\" = \"warn\"\n".into();
    settings.signature = "いちげん雑貨店\n営業時間 10:00〜17:00".into();
    settings.templates.insert(
        MailKind::Shipping,
        MailTemplate {
            subject: "【{{ shop.name }}】発送しました".into(),
            body: "{{ order.order_id }} を発送しました。\n".into(),
        },
    );
    store.put_shop(&settings).await.unwrap();
    assert_eq!(store.shop("shop-a").await.unwrap().as_ref(), Some(&settings));

    // Overwrite: templates removed, a plain put.
    settings.templates.clear();
    store.put_shop(&settings).await.unwrap();
    assert_eq!(store.shop("shop-a").await.unwrap(), Some(settings));
    assert_eq!(store.shop("shop-b").await.unwrap(), None);
}

#[tokio::test]
async fn blacklist_add_list_remove() {
    let moto = Moto::new().await;
    let store = moto.store().await;
    assert!(store.blacklist("shop-a").await.unwrap().is_empty());
    let by_phone = BlacklistEntry {
        name: Some("山田 太郎".into()),
        phone: Some("090-0000-0000".into()),
        reason: "受取拒否 2回".into(),
        ..BlacklistEntry::default()
    };
    let by_email = BlacklistEntry { email: Some("prank@example.com".into()), ..BlacklistEntry::default() };
    let a = store.add_blacklisted("shop-a", &by_phone).await.unwrap();
    let b = store.add_blacklisted("shop-a", &by_email).await.unwrap();
    store.add_blacklisted("shop-b", &by_email).await.unwrap();
    assert_ne!(a, b);
    assert_eq!(a.len(), 16);

    // A settings item and orders under the same partition are not blacklist entries.
    store.put_shop(&ShopSettings::new("shop-a", "A", "a@example.jp")).await.unwrap();
    let list = store.blacklist("shop-a").await.unwrap();
    let mut ids: Vec<&str> = list.iter().map(|(id, _)| id.as_str()).collect();
    ids.sort();
    let mut expected = vec![a.as_str(), b.as_str()];
    expected.sort();
    assert_eq!(ids, expected);
    let (_, entry) = list.iter().find(|(id, _)| *id == a).unwrap();
    assert_eq!(entry.name, by_phone.name);
    assert_eq!(entry.phone, by_phone.phone);
    assert_eq!(entry.email, None);
    assert_eq!(entry.address, None);
    assert_eq!(entry.reason, by_phone.reason);

    assert!(store.remove_blacklisted("shop-a", &a).await.unwrap());
    assert!(!store.remove_blacklisted("shop-a", &a).await.unwrap());
    assert!(!store.remove_blacklisted("shop-a", "0000000000000000").await.unwrap());
    let left: Vec<String> = store.blacklist("shop-a").await.unwrap().into_iter().map(|(id, _)| id).collect();
    assert_eq!(left, [b]);
    assert_eq!(store.blacklist("shop-b").await.unwrap().len(), 1);
}
