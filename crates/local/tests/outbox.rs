//! The `.eml` outbox writes mail any mail program reads back: encoded Japanese subject, UTF-8
//! body, the headers a real message has. The JSON-lines quarantine keeps each rejected order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ichigen_core::Marketplace;
use ichigen_core::pipeline::{Mailer, OutgoingMail, Quarantine, Rejected};
use ichigen_local::{EmlOutbox, JsonlQuarantine};
use mail_parser::{MessageParser, MimeHeaders};

fn mail(subject: &str, text: &str) -> OutgoingMail {
    OutgoingMail {
        from: "shop@example.jp".into(),
        to: vec!["buyer@example.com".into()],
        reply_to: Some("support@example.jp".into()),
        subject: subject.into(),
        text: text.into(),
        tags: vec![
            ("kind", "thank_you".into()),
            ("marketplace", "rakuten".into()),
            ("order_id", "123456-20261127-0000001".into()),
        ],
    }
}

#[tokio::test]
async fn each_mail_is_a_parseable_eml_file() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = EmlOutbox::new(dir.path().join("outbox")).unwrap();
    // Long enough that the encoded subject must be folded over several lines.
    let subject = "【いちげん商店】ご注文ありがとうございます（ご注文番号：123456-20261127-0000001）";
    let text = "山田 太郎 様\n\nこの度はご注文いただき、誠にありがとうございます。\n■お支払い合計：2,250円\n";
    let id = outbox.send(&mail(subject, text)).await.unwrap();

    let written = outbox.written();
    assert_eq!(written.len(), 1);
    assert_eq!(written[0].message_id, id);
    let name = written[0].path.file_name().unwrap().to_string_lossy().to_string();
    assert!(name.ends_with("-thank_you-rakuten-123456-20261127-0000001.eml"), "{name}");
    let entries: Vec<_> = std::fs::read_dir(outbox.dir()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(entries.len(), 1, "no temporary file is left: {entries:?}");

    let raw = std::fs::read(&written[0].path).unwrap();
    assert!(raw.is_ascii(), "7-bit clean: headers encoded, body transfer-encoded");
    let raw_text = String::from_utf8_lossy(&raw);
    assert!(raw_text.contains("Subject: =?utf-8?"), "RFC 2047 encoded subject:\n{raw_text}");
    let message = MessageParser::default().parse(&raw).expect("parses as MIME");
    assert_eq!(message.subject(), Some(subject));
    assert_eq!(message.body_text(0).as_deref(), Some(text));
    assert_eq!(message.message_id(), Some(id.as_str()));
    assert!(message.date().is_some());
    assert_eq!(message.from().and_then(|a| a.first()).and_then(|a| a.address()), Some("shop@example.jp"));
    assert_eq!(message.reply_to().and_then(|a| a.first()).and_then(|a| a.address()), Some("support@example.jp"));
    assert_eq!(message.to().and_then(|a| a.first()).and_then(|a| a.address()), Some("buyer@example.com"));
    let ct = message.content_type().expect("content type");
    assert_eq!((ct.ctype(), ct.subtype()), ("text", Some("plain")));
    assert_eq!(ct.attribute("charset").map(str::to_ascii_lowercase).as_deref(), Some("utf-8"));
    let cte = message.content_transfer_encoding().unwrap_or("").to_ascii_lowercase();
    assert!(cte == "base64" || cte == "quoted-printable", "{cte}");
    assert_eq!(message.header_raw("X-Ichigen-Order-Id").map(str::trim), Some("123456-20261127-0000001"));
}

#[tokio::test]
async fn two_mails_are_two_files_with_their_own_ids() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = EmlOutbox::new(dir.path()).unwrap();
    let a = outbox.send(&mail("件名A", "本文A\n")).await.unwrap();
    let b = outbox.send(&mail("件名B", "本文B\n")).await.unwrap();
    assert_ne!(a, b);
    let mut subjects: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| {
            let raw = std::fs::read(e.unwrap().path()).unwrap();
            MessageParser::default().parse(&raw).unwrap().subject().unwrap().to_string()
        })
        .collect();
    subjects.sort();
    assert_eq!(subjects, ["件名A", "件名B"]);
}

#[tokio::test]
async fn quarantine_appends_one_json_line_per_rejected_order() {
    let dir = tempfile::tempdir().unwrap();
    let q = JsonlQuarantine::new(dir.path().join("quarantine.jsonl"));
    q.quarantine(&[]).await.unwrap();
    assert!(!q.path().exists(), "nothing rejected, no file");
    let r = |id: &str| Rejected {
        shop_id: "demo".into(),
        marketplace: Marketplace::Qoo10,
        order_id: Some(id.into()),
        reason: "items[0].quantity: not a number".into(),
    };
    q.quarantine(&[r("1"), r("2")]).await.unwrap();
    q.quarantine(&[r("3")]).await.unwrap();
    let text = std::fs::read_to_string(q.path()).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[2]["order_id"], "3");
    assert_eq!(lines[0]["marketplace"], "qoo10");
    assert_eq!(lines[0]["reason"], "items[0].quantity: not a number");
    assert!(lines[0]["quarantined_at"].is_string());
}

/// A crash between writing a mail's temporary file and renaming it leaves a hidden `.eml.tmp`:
/// the next open of the outbox removes it (and nothing else).
#[test]
fn temporary_files_left_by_a_crash_are_removed_when_the_outbox_opens() {
    let dir = tempfile::tempdir().unwrap();
    let outbox_dir = dir.path().join("outbox");
    std::fs::create_dir_all(&outbox_dir).unwrap();
    let left = outbox_dir.join(".20261127T100000000000Z-thank_you-rakuten-1.eml.tmp");
    std::fs::write(&left, "half a mail").unwrap();
    let before_the_crash = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options().write(true).open(&left).unwrap().set_modified(before_the_crash).unwrap();
    let sent = outbox_dir.join("20261127T100000000000Z-thank_you-rakuten-0.eml");
    std::fs::write(&sent, "a whole mail").unwrap();
    let other = outbox_dir.join("notes.tmp");
    std::fs::write(&other, "not ours").unwrap();

    EmlOutbox::new(&outbox_dir).unwrap();
    assert!(!left.exists(), "the crash leftover is still there");
    assert!(sent.exists() && other.exists(), "only the leftover is removed");
}
