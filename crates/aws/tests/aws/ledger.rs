//! The mail ledger: claim, lease, mark sent, release.

use chrono::Duration;
use ichigen_core::order::Marketplace;
use ichigen_core::pipeline::{Claim, MailKey, MailKind, MailLedger, OrderKey};

use crate::common::{Moto, jst};

fn job(kind: MailKind) -> MailKey {
    MailKey::once(
        OrderKey { shop_id: "shop-a".into(), marketplace: Marketplace::Rakuten, order_id: "r-1".into() },
        kind,
    )
}

#[tokio::test]
async fn claim_lease_sent_and_release() {
    let moto = Moto::new().await;
    let store = moto.store().await;
    let t0 = jst("2026-11-01T10:00:00+09:00");
    let lease = Duration::minutes(5);
    let thanks = job(MailKind::ThankYou);

    assert_eq!(store.claim(&thanks, t0, t0 + lease).await.unwrap(), Claim::Claimed);
    // Another sender while the lease runs.
    assert_eq!(
        store.claim(&thanks, t0 + Duration::minutes(1), t0 + lease).await.unwrap(),
        Claim::Busy { until: t0 + lease },
        "busy until the lease the first claim stored"
    );
    // Other kinds of the same order are separate entries.
    assert_eq!(store.claim(&job(MailKind::Shipping), t0, t0 + lease).await.unwrap(), Claim::Claimed);

    // The first sender died: once the lease has ended the entry is claimable again.
    let t1 = t0 + lease;
    assert_eq!(store.claim(&thanks, t1, t1 + lease).await.unwrap(), Claim::Claimed);
    store.mark_sent(&thanks, "ses-0001", t1 + Duration::seconds(2)).await.unwrap();
    assert_eq!(store.claim(&thanks, t1, t1 + lease).await.unwrap(), Claim::AlreadySent("ses-0001".into()));
    // Long after, still sent; and release does not undo a sent mail.
    let later = t1 + Duration::days(30);
    store.release(&thanks).await.unwrap();
    assert_eq!(store.claim(&thanks, later, later + lease).await.unwrap(), Claim::AlreadySent("ses-0001".into()));

    // A failed send gives the claim back: claimable at once.
    let alert = job(MailKind::StaffAlert);
    assert_eq!(store.claim(&alert, t0, t0 + lease).await.unwrap(), Claim::Claimed);
    store.release(&alert).await.unwrap();
    assert_eq!(store.claim(&alert, t0, t0 + lease).await.unwrap(), Claim::Claimed);
    // Releasing what is not there is fine.
    let mut unknown = job(MailKind::ThankYou);
    unknown.order.order_id = "r-2".into();
    store.release(&unknown).await.unwrap();
}

/// Each hold episode of an order is its own staff alert entry; episode 0 is the key of before.
#[tokio::test]
async fn each_hold_episode_is_its_own_staff_alert_entry() {
    let moto = Moto::new().await;
    let store = moto.store().await;
    let t0 = jst("2026-11-01T10:00:00+09:00");
    let lease = Duration::minutes(5);
    let first = MailKey { episode: 1, ..job(MailKind::StaffAlert) };
    assert_eq!(store.claim(&first, t0, t0 + lease).await.unwrap(), Claim::Claimed);
    store.mark_sent(&first, "ses-1", t0).await.unwrap();
    assert_eq!(store.claim(&first, t0, t0 + lease).await.unwrap(), Claim::AlreadySent("ses-1".into()));
    let second = MailKey { episode: 2, ..first.clone() };
    assert_eq!(store.claim(&second, t0, t0 + lease).await.unwrap(), Claim::Claimed, "a new hold, a new alert");
    let legacy = job(MailKind::StaffAlert);
    assert_eq!(store.claim(&legacy, t0, t0 + lease).await.unwrap(), Claim::Claimed);
}
