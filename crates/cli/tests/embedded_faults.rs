//! The embedded mode after things went wrong on disk: a store deleted or emptied beside the outbox
//! of its earlier runs, and a stored record that no longer reads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::{demo, eml_files, ichigen, json_lines, key, orders, run_ok};

fn remove_store(dir: &Path) {
    for name in ["ichigen.db", "ichigen.db-wal", "ichigen.db-shm"] {
        let _ = std::fs::remove_file(dir.join(name));
    }
}

#[test]
fn a_reset_store_beside_an_old_outbox_is_refused_and_mails_nobody_again() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    demo(&dir, 40);
    let sent = eml_files(&dir).len();
    assert!(sent > 0);
    let d = dir.to_str().unwrap();

    // Deleted, then emptied: each time a new store, which has sent nothing, beside the old outbox.
    for emptied in [false, true] {
        remove_store(&dir);
        if emptied {
            std::fs::write(dir.join("ichigen.db"), b"").unwrap();
        }
        let out = ichigen().args(["demo", "--pull-only", "--orders", "40", "--dir", d]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "a reset store ran beside the old outbox");
        assert!(stderr.contains("another store") && stderr.contains("outbox") && stderr.contains("--dir"), "{stderr}");
        assert_eq!(eml_files(&dir).len(), sent, "mails were sent again");
    }

    // Moving the old outbox away is one way on: the new store starts a new outbox.
    std::fs::rename(dir.join("outbox"), dir.join("outbox.old")).unwrap();
    run_ok(&["demo", "--pull-only", "--orders", "40", "--dir", d]);
    assert_eq!(eml_files(&dir).len(), sent);
}

#[test]
fn a_record_that_does_not_read_is_skipped_by_orders_list_and_export_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    demo(&dir, 40);
    let all = orders(&dir);
    let bad = &all[all.len() / 2];
    let (marketplace, order_id) = (bad["marketplace"].as_str().unwrap(), bad["order_id"].as_str().unwrap());
    rusqlite::Connection::open(dir.join("ichigen.db"))
        .unwrap()
        .execute(
            "UPDATE orders SET record = substr(record, 1, 40) WHERE marketplace = ?1 AND order_id = ?2",
            [marketplace, order_id],
        )
        .unwrap();
    let d = dir.to_str().unwrap();

    let out = ichigen().args(["orders", "list", "--format", "json", "--dir", d]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let listed: Vec<String> = json_lines(&String::from_utf8_lossy(&out.stdout)).iter().map(key).collect();
    assert_eq!(listed.len(), all.len() - 1);
    assert!(!listed.contains(&key(bad)));
    assert!(stderr.contains(&format!("{marketplace}/{order_id}")) && stderr.contains("skipped"), "{stderr}");

    let out = ichigen().args(["export", "--format", "csv", "--dir", d]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(order_id));
    assert!(stderr.contains(&format!("{marketplace}/{order_id}")) && stderr.contains("skipped"), "{stderr}");
}
