//! `ichigen shop` on the embedded store, as a shop runs it: a template that does not render is
//! refused with its line and variable and nothing is saved; a saved one is used by the next mail
//! (an order released by staff); the contact block and the payment mail switch are kept; the
//! demo's outbox never promises a delivery date before the order date.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{demo, eml_files, ichigen, key, orders, parse_eml, run_ok, stdout};

fn dir_arg(dir: &Path) -> String {
    dir.to_str().unwrap().to_string()
}

#[test]
fn a_shop_template_is_checked_saved_and_used_by_the_next_mail() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    demo(&dir, 100);
    let d = dir_arg(&dir);

    // The default is printed while none is set.
    let shown = stdout(&run_ok(&["shop", "template", "show", "thank_you", "--dir", &d]));
    assert!(shown.contains("built-in default") && shown.contains("{{ next_step }}"), "{shown}");

    // A typo on line 3: refused with the line and the variable, nothing saved.
    let bad = tmp.path().join("bad.j2");
    std::fs::write(&bad, "【{{ shop.name }}】ご注文確認\n\n{{ buyer_name }} 様\nご注文番号：{{ oder_id }}\n").unwrap();
    let out = ichigen()
        .args(["shop", "template", "set", "thank_you", "--file", bad.to_str().unwrap(), "--dir", &d])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("oder_id") && err.contains("body line 2") && err.contains("not saved"), "{err}");
    let shown = stdout(&run_ok(&["shop", "template", "show", "thank_you", "--dir", &d]));
    assert!(shown.contains("built-in default"), "nothing was saved: {shown}");

    // A good one, from a subject file and a body file.
    let subject = tmp.path().join("subject.j2");
    let body = tmp.path().join("body.j2");
    std::fs::write(&subject, "【{{ shop.name }}】ご注文を承りました（{{ order_id }}）\n").unwrap();
    std::fs::write(
        &body,
        "{{ buyer_name }} 様\n当店独自の文面です。\n{% for d in destinations %}{{ d.label }}：〒{{ d.postal_code }}\n{% endfor %}\
         お支払い方法：{{ payment_method }}\n{{ shop.contact.company }}\n",
    )
    .unwrap();
    let saved = stdout(&run_ok(&[
        "shop",
        "template",
        "set",
        "thank_you",
        "--subject-file",
        subject.to_str().unwrap(),
        "--body-file",
        body.to_str().unwrap(),
        "--dir",
        &d,
    ]));
    assert!(saved.contains("saved"), "{saved}");
    let listed = stdout(&run_ok(&["shop", "show", "--dir", &d]));
    assert!(listed.contains("thank_you: the shop's own"), "{listed}");

    // The contact block, then the next mail: a held order released by staff.
    run_ok(&["shop", "contact", "set", "--company", "株式会社テンプレ見本", "--dir", &d]);
    let id = orders(&dir)
        .iter()
        .find(|v| {
            v["status"] == "on_hold"
                && v["marketplace"] != "amazon"
                && v["order"]["fulfilled_by_marketplace"] != true
                && v["order"]["buyer"]["email"].is_string()
        })
        .map(key)
        .expect("a held order to release");
    let before = eml_files(&dir);
    run_ok(&["orders", "release", &id, "--dir", &d]);
    let new: Vec<PathBuf> = eml_files(&dir).into_iter().filter(|p| !before.contains(p)).collect();
    assert_eq!(new.len(), 1);
    let mail = parse_eml(&new[0]);
    let order_id = id.split_once('/').unwrap().1;
    assert_eq!(mail.subject, format!("【いちげん商店（デモ）】ご注文を承りました（{order_id}）"));
    assert!(mail.body.contains("当店独自の文面です。"), "{}", mail.body);
    assert!(mail.body.contains("お届け先：〒") || mail.body.contains("お届け先1：〒"), "{}", mail.body);
    assert!(mail.body.contains("株式会社テンプレ見本"), "{}", mail.body);

    // A second demo run keeps what the shop set; reset goes back to the default.
    demo(&dir, 100);
    let listed = stdout(&run_ok(&["shop", "show", "--dir", &d]));
    assert!(listed.contains("thank_you: the shop's own") && listed.contains("株式会社テンプレ見本"), "{listed}");
    run_ok(&["shop", "payment-mail", "off", "--dir", &d]);
    run_ok(&["shop", "template", "reset", "thank_you", "--dir", &d]);
    let listed = stdout(&run_ok(&["shop", "show", "--dir", &d]));
    assert!(listed.contains("thank_you: built-in default") && listed.contains("payment_mail: off"), "{listed}");
}

/// `YYYY年MM月DD日` after `label` in `body`, as a date.
fn date_after(body: &str, label: &str) -> Option<chrono::NaiveDate> {
    let rest = &body[body.find(label)? + label.len()..];
    let text: String = rest.chars().take_while(|c| *c != '\n' && *c != ' ').collect();
    chrono::NaiveDate::parse_from_str(text.get(..text.find('日')? + '日'.len_utf8())?, "%Y年%m月%d日").ok()
}

#[test]
fn the_demo_outbox_promises_no_date_before_its_order_date() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    demo(&dir, 400);
    let lines = orders(&dir);
    let with_date = lines.iter().filter(|v| v["order"]["delivery"]["requested_date"].is_string()).count();
    assert!(with_date > 10, "the demo's orders ask for dates: {with_date}");
    let (mut promised, mut unconfirmed) = (0, 0);
    for path in eml_files(&dir) {
        let mail = parse_eml(&path);
        if mail.kind != "thank_you" {
            continue;
        }
        let ordered = date_after(&mail.body, "ご注文日時：").expect("every thank-you has its order date");
        if let Some(requested) = date_after(&mail.body, "■お届け希望日：") {
            assert!(requested > ordered, "{}: promises {requested}, ordered {ordered}", path.display());
            promised += 1;
        } else if mail.body.contains("お届け希望日：ご指定の日にはお届けが難しいため") {
            unconfirmed += 1;
        }
    }
    assert!(promised > 0, "plausible dates are still promised");
    assert!(unconfirmed > 0, "the demo has dates that cannot be kept, and says so");
}

#[test]
fn a_staff_digest_is_chosen_per_shop_and_sent_at_most_once_per_window() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    demo(&dir, 60);
    let d = dir_arg(&dir);

    // A window that does not divide the day is refused, naming the ones that do.
    let out = ichigen().args(["shop", "digest", "7", "--dir", &d]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("15, 30, 60"), "{err}");
    assert!(stdout(&run_ok(&["shop", "show", "--dir", &d])).contains("staff_alerts: one mail per held order"));

    let chosen = stdout(&run_ok(&["shop", "digest", "60", "--dir", &d]));
    assert!(chosen.contains("a digest every 60 minutes"), "{chosen}");
    assert!(stdout(&run_ok(&["shop", "show", "--dir", &d])).contains("staff_alerts: a digest every 60 minutes"));

    // The demo's orders came in during the current window; whether the last closed one had any
    // depends on the clock, but a second request for the same window never sends again.
    let before = eml_files(&dir.join("outbox")).len();
    let first = stdout(&run_ok(&["mail", "digest", "--dir", &d]));
    assert!(first.contains("nothing came in") || first.contains("digest sent"), "{first}");
    let second = stdout(&run_ok(&["mail", "digest", "--dir", &d]));
    assert!(!second.contains("digest sent"), "{second}");
    let sent = usize::from(first.contains("digest sent"));
    assert_eq!(eml_files(&dir.join("outbox")).len(), before + sent);

    let off = stdout(&run_ok(&["shop", "digest", "off", "--dir", &d]));
    assert!(off.contains("one mail per held order"), "{off}");
}
