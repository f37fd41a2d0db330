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

/// Where a stand-in relay on 127.0.0.1 stops answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stall {
    /// It takes the connection and never greets.
    AtGreeting,
    /// It takes STARTTLS, AUTH, MAIL, RCPT, DATA and the whole message, then never answers the
    /// end of data.
    AfterData,
}

/// A stand-in relay (the peer, not our code): speaks just enough SMTP, with STARTTLS under the
/// test server's certificate, then stalls at `stall`. Returns its port and a channel that gets
/// the message data it received.
async fn stalling_relay(s: &SmtpServer, stall: Stall) -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let (cert, key) = s.certificate_files();
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(&cert).expect("certificate file").map(|c| c.expect("certificate")).collect();
    let key = PrivateKeyDer::from_pem_file(&key).expect("key file");
    let config = tokio_rustls::rustls::ServerConfig::builder().with_no_client_auth().with_single_cert(certs, key);
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config.expect("TLS config")));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, tx) = (acceptor.clone(), tx.clone());
            tokio::spawn(async move {
                let _: Option<()> = async {
                    if stall == Stall::AtGreeting {
                        // Hold the connection open, silent.
                        let _held = &tcp;
                        std::future::pending::<()>().await;
                    }
                    let mut plain = BufReader::new(tcp);
                    plain.get_mut().write_all(b"220 stand-in ESMTP\r\n").await.ok()?;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        plain.read_line(&mut line).await.ok()?;
                        let cmd = line.to_ascii_uppercase();
                        if cmd.starts_with("EHLO") {
                            plain.get_mut().write_all(b"250-stand-in\r\n250 STARTTLS\r\n").await.ok()?;
                        } else if cmd.starts_with("STARTTLS") {
                            plain.get_mut().write_all(b"220 go ahead\r\n").await.ok()?;
                            break;
                        } else {
                            plain.get_mut().write_all(b"530 STARTTLS first\r\n").await.ok()?;
                        }
                    }
                    let mut tls = BufReader::new(acceptor.accept(plain.into_inner()).await.ok()?);
                    loop {
                        line.clear();
                        if tls.read_line(&mut line).await.ok()? == 0 {
                            return None;
                        }
                        let cmd = line.to_ascii_uppercase();
                        let reply: &[u8] = if cmd.starts_with("EHLO") {
                            b"250-stand-in\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n"
                        } else if cmd.starts_with("AUTH") {
                            b"235 2.7.0 accepted\r\n"
                        } else if cmd.starts_with("MAIL") || cmd.starts_with("RCPT") {
                            b"250 ok\r\n"
                        } else if cmd.starts_with("DATA") {
                            tls.get_mut().write_all(b"354 go ahead\r\n").await.ok()?;
                            let mut data = String::new();
                            while !data.ends_with("\r\n.\r\n") {
                                if tls.read_line(&mut data).await.ok()? == 0 {
                                    return None;
                                }
                            }
                            tx.send(data).ok()?;
                            // The whole message is here; the end-of-data reply never comes.
                            std::future::pending::<()>().await;
                            return None;
                        } else {
                            b"502 not here\r\n"
                        };
                        tls.get_mut().write_all(reply).await.ok()?;
                    }
                }
                .await;
            });
        }
    });
    (port, rx)
}

/// Issue 13 (`timeout RelayMailer.send` of the fault harness): a relay that took the whole message
/// and never answered may have taken it: ambiguous (the notifier keeps the claim until its lease
/// ends), not unavailable (which gave the claim back and sent a second mail at once).
#[tokio::test]
async fn no_answer_after_the_message_data_is_an_ambiguous_outcome() {
    let s = server();
    let to = unique("stall");
    let (port, mut received) = stalling_relay(s, Stall::AfterData).await;
    let mut stand_in = settings(s);
    stand_in.port = port;
    let relay = SmtpRelay::new(&stand_in).expect("relay").with_timeout(std::time::Duration::from_secs(1));
    let err = relay.send(&mail(&to)).await.expect_err("no answer");
    assert!(matches!(err, SendError::Ambiguous(_)), "{err}");
    assert!(err.to_string().contains("after the message data"), "{err}");
    assert!(!err.to_string().contains(&to), "no address in the error: {err}");
    let data = received.try_recv().expect("the stand-in received the message");
    assert!(data.contains("X-Ichigen-Route: rakuten-relay"), "the whole message went out");
}

/// A relay that never greets cannot have taken the mail: unavailable, retried at once.
#[tokio::test]
async fn no_greeting_is_unavailable() {
    let s = server();
    let to = unique("greet");
    let (port, mut received) = stalling_relay(s, Stall::AtGreeting).await;
    let mut stand_in = settings(s);
    stand_in.port = port;
    let relay = SmtpRelay::new(&stand_in).expect("relay").with_timeout(std::time::Duration::from_secs(1));
    let started = std::time::Instant::now();
    let err = relay.send(&mail(&to)).await.expect_err("no greeting");
    assert!(matches!(err, SendError::Unavailable(_)), "{err}");
    assert!(err.to_string().contains("timed out before the message data"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "bounded by the timeout");
    assert!(received.try_recv().is_err(), "no message data");
}
