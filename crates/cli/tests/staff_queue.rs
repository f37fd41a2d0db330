//! Issue 13: staff decisions go through the durable mail queue. A release whose send fails leaves
//! its thank-you queued; the next `ichigen mail drain` delivers it exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::{Console, demo, eml_files, ichigen, key, orders, parse_eml, run_ok, stdout};

/// Makes `dir` refuse new files (as root too: the immutable flag), and checks that it does.
fn refuse_writes(dir: &Path, refuse: bool) {
    use std::os::unix::fs::PermissionsExt;
    let chattr = |flag: &str| std::process::Command::new("chattr").arg(flag).arg(dir).output();
    let mode = if refuse { 0o555 } else { 0o755 };
    if !refuse {
        let _ = chattr("-i");
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).unwrap();
    if refuse {
        // Root ignores the mode; the immutable flag stops it (ext4, xfs, btrfs). Not there: the probe says so.
        let _ = chattr("+i");
        let probe = dir.join("probe");
        assert!(std::fs::write(&probe, b"x").is_err(), "cannot make {} refuse writes on this machine", dir.display());
    }
}

#[test]
fn a_release_whose_send_fails_is_delivered_by_the_next_drain_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    demo(&dir, 100);
    let d = dir.to_str().unwrap().to_string();
    // A held order whose buyer mail goes through the shop's sender (the outbox).
    let id = orders(&dir)
        .iter()
        .find(|v| {
            v["status"] == "on_hold"
                && (v["marketplace"] == "yahoo" || v["marketplace"] == "qoo10")
                && v["order"]["buyer"]["email"].is_string()
        })
        .map(key)
        .expect("a held Yahoo or Qoo10 order");
    let before = eml_files(&dir);

    let outbox = dir.join("outbox");
    refuse_writes(&outbox, true);
    let out = ichigen().args(["orders", "release", &id, "--dir", &d]).output().unwrap();
    refuse_writes(&outbox, false);
    assert!(stdout(&out).contains(&format!("{id}: released")), "{}", stdout(&out));
    assert!(!out.status.success(), "the failed send is reported");
    assert_eq!(eml_files(&dir), before, "nothing delivered while the outbox refused");

    // The job waited on the durable queue: the next drain delivers it, once.
    let drained = stdout(&run_ok(&["mail", "drain", "--dir", &d]));
    let after = eml_files(&dir);
    let new: Vec<_> = after.iter().filter(|p| !before.contains(p)).collect();
    assert_eq!(new.len(), 1, "the thank-you is delivered by the drain: {drained}");
    let mail = parse_eml(new[0]);
    assert_eq!(mail.kind, "thank_you");
    assert!(mail.subject.contains(id.split_once('/').unwrap().1), "{}", mail.subject);

    run_ok(&["mail", "drain", "--dir", &d]);
    let again = stdout(&run_ok(&["orders", "release", &id, "--dir", &d]));
    assert!(again.contains("not on hold") && again.contains("nothing to release"), "{again}");
    assert_eq!(eml_files(&dir), after, "a second drain or release delivers nothing more");
}

/// A mail job that fails every run (its shop is not configured) is dead-lettered after 5 runs,
/// after which runs succeed again; `ichigen dead-letters` lists it by ids and puts it back.
#[test]
fn a_poison_mail_job_is_dead_lettered_listed_and_redriven() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    demo(&dir, 20);
    let d = dir.to_str().unwrap().to_string();
    rusqlite::Connection::open(dir.join("ichigen.db"))
        .unwrap()
        .execute(
            "INSERT INTO queue (name, body) VALUES ('mail', ?1)",
            [r#"{"shop_id":"ghost","marketplace":"yahoo","order_id":"y-404","kind":"thank_you"}"#],
        )
        .unwrap();
    for run in 1..=5 {
        let out = ichigen().args(["mail", "drain", "--dir", &d]).output().unwrap();
        assert!(!out.status.success(), "run {run} reports the failure");
        assert!(String::from_utf8_lossy(&out.stderr).contains("shop ghost is not configured"), "run {run}");
    }
    run_ok(&["mail", "drain", "--dir", &d]);
    let listed = stdout(&run_ok(&["dead-letters", "list", "--dir", &d]));
    assert!(listed.contains("ghost/yahoo/y-404 thank_you") && listed.contains("5回"), "{listed}");
    let id = listed.split_whitespace().next().unwrap().to_string();
    let wrong = ichigen().args(["dead-letters", "redrive", "--queue", "orders", &id, "--dir", &d]).output().unwrap();
    assert!(!wrong.status.success(), "not a dead letter of the orders queue");
    let back = stdout(&run_ok(&["dead-letters", "redrive", &id, "--dir", &d]));
    assert!(back.contains("1 件"), "{back}");
    assert!(stdout(&run_ok(&["dead-letters", "list", "--dir", &d])).contains("デッドレターはありません"));
    let out = ichigen().args(["mail", "drain", "--dir", &d]).output().unwrap();
    assert!(!out.status.success(), "back on the queue, tried again");
}

/// Issue 13's finding for the console: a release through `ichigen console` puts the thank-you on
/// the durable mail queue with the decision; when sending it fails (the outbox refuses the file),
/// the release stands, the page says the mail waits, and the next drain delivers it exactly once.
#[test]
fn a_console_release_whose_send_fails_is_delivered_by_the_next_drain_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    demo(&dir, 100);
    let d = dir.to_str().unwrap().to_string();
    let id = orders(&dir)
        .iter()
        .find(|v| {
            v["status"] == "on_hold"
                && (v["marketplace"] == "yahoo" || v["marketplace"] == "qoo10")
                && v["order"]["buyer"]["email"].is_string()
        })
        .map(key)
        .expect("a held Yahoo or Qoo10 order");
    let before = eml_files(&dir);

    let console = Console::start(&dir);
    let page = format!("/orders/{id}");
    let (status, body) = console.get(&page);
    assert_eq!(status, 200, "{body}");
    let csrf = body.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();

    let outbox = dir.join("outbox");
    refuse_writes(&outbox, true);
    let (status, head) = console.post(&format!("{page}/release"), &format!("csrf={csrf}"));
    refuse_writes(&outbox, false);
    assert_eq!(status, 303, "{head}");
    assert_eq!(eml_files(&dir), before, "nothing delivered while the outbox refused");
    let shown = stdout(&run_ok(&["orders", "show", &id, "--dir", &d]));
    assert!(!shown.lines().next().unwrap().contains("on_hold"), "the release stands: {shown}");
    let (_, body) = console.get(&page);
    assert!(body.contains("保留を解除しました") && body.contains("キューに残し"), "the page says the mail waits");

    // The job waited on the durable queue: the next drain delivers it, once.
    let drained = stdout(&run_ok(&["mail", "drain", "--dir", &d]));
    let after = eml_files(&dir);
    let new: Vec<_> = after.iter().filter(|p| !before.contains(p)).collect();
    assert_eq!(new.len(), 1, "the thank-you is delivered by the drain: {drained}");
    let mail = parse_eml(new[0]);
    assert_eq!(mail.kind, "thank_you");
    assert!(mail.subject.contains(id.split_once('/').unwrap().1), "{}", mail.subject);

    // Releasing again through the console, and draining again, deliver nothing more.
    let (status, _) = console.post(&format!("{page}/release"), &format!("csrf={csrf}"));
    assert_eq!(status, 303);
    run_ok(&["mail", "drain", "--dir", &d]);
    assert_eq!(eml_files(&dir), after, "a second release or drain delivers nothing more");
}
