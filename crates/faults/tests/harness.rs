//! The harness itself: its faults reach the real adapters, a killed life resumes over the same
//! files, and its checker sees a mail delivered twice in the outbox.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use ichigen_faults::check::check;
use ichigen_faults::day::{Scenario, start_markets};
use ichigen_faults::{Boundary, Fault, FaultKind, Indices, Injector, Method, Options, run_one};

fn options() -> Options {
    Options {
        orders: 30,
        seed: 1,
        indices: Indices::Ends,
        kinds: FaultKind::ALL.to_vec(),
        only: None,
        index: None,
        jobs: 1,
    }
}

fn quiet_kills() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<ichigen_faults::inject::Killed>().is_none() {
            default_hook(info);
        }
    }));
}

fn at(port: &str, method: &'static str, index: u64, kind: FaultKind) -> Fault {
    Fault { at: Boundary { method: Method { port: port.to_string(), method }, index }, kind }
}

#[test]
fn a_clean_day_calls_every_port_family_and_delivers_mail() {
    let out = run_one(&options(), None).unwrap();
    for port in ["OrderStore", "WatermarkStore", "MailLedger", "OrderQueue", "MailQueue", "Mailer", "RelayMailer"] {
        assert!(out.counts.keys().any(|m| m.port == port), "{port} was never called: {:?}", out.counts.keys());
    }
    assert!(out.counts.keys().any(|m| m.port.starts_with("OrderSource:")));
    assert!(out.checked.delivered > 0, "no mail delivered");
    assert_eq!(out.checked.orders, 30);
    // Whatever the day itself breaks (see docs/RELIABILITY.md), it never delivers a mail twice
    // without a fault, and never leaves a decided mail without a job.
    let broken: Vec<_> = out.checked.violations.iter().filter(|v| matches!(v.invariant, 2 | 5)).collect();
    assert!(broken.is_empty(), "{broken:?}");
}

#[test]
fn a_kill_at_an_order_write_is_resumed_in_a_new_life_and_every_order_is_stored() {
    quiet_kills();
    let out = run_one(&options(), Some(at("OrderStore", "put", 10, FaultKind::Kill))).unwrap();
    assert!(out.fired, "the kill was not reached");
    let lost: Vec<_> = out.checked.violations.iter().filter(|v| v.detail == "not stored").collect();
    assert!(lost.is_empty(), "orders lost after the kill: {lost:?}");
    assert!(out.checked.violations.iter().all(|v| v.invariant != 0), "a real panic: {:?}", out.checked.violations);
}

#[test]
fn a_send_timeout_really_sends_and_its_one_resend_after_the_lease_is_the_documented_duplicate() {
    // The outbox wrote the mail, the notifier was told the outcome is unknown: it keeps the
    // claim until its lease ends, and the resend after it is the documented window, once. (At
    // the last send of the day the mail is still due when the lease ends; an earlier one may be
    // skipped by then, its order shipped or cancelled.)
    let clean = run_one(&options(), None).unwrap();
    for port in ["Mailer", "RelayMailer"] {
        let last = clean.counts[&Method { port: port.to_string(), method: "send" }];
        let out = run_one(&options(), Some(at(port, "send", last, FaultKind::Timeout))).unwrap();
        assert!(out.fired, "{port}");
        let twice: Vec<_> = out.checked.violations.iter().filter(|v| v.invariant == 2).collect();
        assert!(twice.is_empty(), "{port}: {twice:?}");
        assert_eq!(out.checked.documented_duplicates, 1, "{port}: {:?}", out.checked);
        assert_eq!(out.checked.delivered, clean.checked.delivered + 1, "{port}");
    }
}

#[test]
fn a_claim_whose_answer_is_lost_still_delivers_every_mail_once() {
    // The claim is stored, the notifier told it failed: the job waits for the lease to end
    // (not burning its tries) and then sends; nothing is lost or sent twice.
    let out = run_one(&options(), Some(at("MailLedger", "claim", 1, FaultKind::Timeout))).unwrap();
    assert!(out.fired);
    let broken: Vec<_> = out.checked.violations.iter().filter(|v| matches!(v.invariant, 2 | 4 | 5)).collect();
    assert!(broken.is_empty(), "{broken:?}");
    assert_eq!(out.checked.documented_duplicates, 0);
}

#[test]
fn the_checker_sees_a_mail_delivered_twice() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let markets = rt.block_on(start_markets(30, 1)).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let inj = Arc::new(Injector::new(None));
    let mut scenario = Scenario::new(&markets, inj.clone(), tmp.path());
    scenario.run().unwrap();
    let before = rt.block_on(check(tmp.path(), &markets, &inj, &scenario.picked().changes)).unwrap();
    assert!(before.violations.iter().all(|v| v.invariant != 2), "{:?}", before.violations);

    // The same mail once more in the outbox, as a second send would leave it.
    let outbox = tmp.path().join("outbox");
    let first = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .min()
        .unwrap();
    let text = std::fs::read_to_string(&first).unwrap();
    let copy = text.replacen("Message-ID: <", "Message-ID: <copy.", 1);
    std::fs::write(outbox.join(format!("{}.copy.eml", first.file_stem().unwrap().to_string_lossy())), copy).unwrap();
    let after = rt.block_on(check(tmp.path(), &markets, &inj, &scenario.picked().changes)).unwrap();
    assert_eq!(after.delivered, before.delivered + 1);
    assert!(after.violations.iter().any(|v| v.invariant == 2), "{:?}", after.violations);
}
