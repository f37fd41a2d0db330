//! The relay adapter against a real SMTP server (aiosmtpd from `scripts/smtp`: STARTTLS required,
//! AUTH, only the registered sender), asserting what the server received.

use ichigen_core::pipeline::{Mailer, OutgoingMail, RelayPassword, RelaySettings, SendError};
use ichigen_smtp::SmtpRelay;
use ichigen_testkit::smtp::{SmtpServer, server};

fn settings(s: &SmtpServer) -> RelaySettings {
    RelaySettings {
        host: s.host.clone(),
        port: s.port,
        auth_id: s.user.clone(),
        password: RelayPassword::new(s.password.clone()),
        from: s.from.clone(),
        ca_pem: Some(s.ca_pem.clone()),
    }
}

fn mail(to: &str) -> OutgoingMail {
    OutgoingMail {
        // Not the registered address: the relay adapter sends from the registered one.
        from: "shop@example.jp".into(),
        to: vec![to.into()],
        reply_to: Some("support@shop.example.jp".into()),
        subject: "【いちげん商店】ご注文ありがとうございます（ご注文番号：391234-20261127-0001）".into(),
        text: "佐藤 花子 様\n\nこのたびはご注文ありがとうございます。\n".into(),
        tags: vec![
            ("kind", "thank_you".into()),
            ("order_id", "391234-20261127-0001".into()),
            ("route", "rakuten-relay".into()),
        ],
    }
}

fn unique(tag: &str) -> String {
    format!("{tag}{:012x}s1@pc.fw.rakuten.ne.jp", fastrand_u64())
}

fn fastrand_u64() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
        ^ u64::from(std::process::id())
}

#[tokio::test]
async fn a_mail_goes_through_starttls_and_auth_from_the_registered_sender() {
    let s = server();
    let to = unique("ok");
    let relay = SmtpRelay::new(&settings(s)).expect("relay");
    let id = relay.send(&mail(&to)).await.expect("accepted");
    let got = s.received_by(&to);
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(r.mail_from, s.from, "envelope sender is the registered address");
    assert_eq!(r.rcpt_tos, std::slice::from_ref(&to));
    assert_eq!(r.auth_user.as_deref(), Some(s.user.as_str()));
    assert!(r.tls, "STARTTLS before AUTH and DATA");
    assert_eq!(r.header("From").as_deref(), Some(s.from.as_str()));
    assert_eq!(r.header("To").as_deref(), Some(to.as_str()));
    assert_eq!(r.header("Reply-To").as_deref(), Some("support@shop.example.jp"));
    assert_eq!(r.subject(), "【いちげん商店】ご注文ありがとうございます（ご注文番号：391234-20261127-0001）");
    assert!(r.text().contains("佐藤 花子 様"));
    assert_eq!(r.header("X-Ichigen-Route").as_deref(), Some("rakuten-relay"));
    assert_eq!(r.header("Message-ID").as_deref(), Some(id.as_str()));
}

#[tokio::test]
async fn a_wrong_password_is_a_permanent_refusal() {
    let s = server();
    let to = unique("pw");
    let mut wrong = settings(s);
    wrong.password = RelayPassword::new("not-the-password");
    let err = SmtpRelay::new(&wrong).expect("relay").send(&mail(&to)).await.expect_err("refused");
    assert!(matches!(err, SendError::Refused(_)), "{err}");
    assert!(err.to_string().contains("535"), "{err}");
    assert!(!err.to_string().contains(&to), "no address in the error: {err}");
    assert!(s.received_by(&to).is_empty());
}

#[tokio::test]
async fn an_unregistered_sender_is_refused_as_the_relay_does() {
    let s = server();
    let to = unique("from");
    let mut other = settings(s);
    other.from = "someone-else@shop.example.jp".into();
    let err = SmtpRelay::new(&other).expect("relay").send(&mail(&to)).await.expect_err("refused");
    assert!(matches!(err, SendError::Refused(_)) && err.to_string().contains("552"), "{err}");
    assert!(s.received_by(&to).is_empty());
}

#[tokio::test]
async fn certificates_are_verified_and_a_dead_server_may_pass_later() {
    let s = server();
    let to = unique("tls");
    let mut untrusted = settings(s);
    untrusted.ca_pem = None;
    let err = SmtpRelay::new(&untrusted).expect("relay").send(&mail(&to)).await.expect_err("untrusted certificate");
    assert!(matches!(err, SendError::Unavailable(_)), "{err}");
    assert!(s.received_by(&to).is_empty(), "nothing sent to a server whose certificate is not trusted");

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let mut dead = settings(s);
    dead.port = port;
    let err = SmtpRelay::new(&dead).expect("relay").send(&mail(&to)).await.expect_err("no server");
    assert!(matches!(err, SendError::Unavailable(_)), "{err}");
}
