//! SESv2: a Japanese mail goes through intact; an unverified sender is refused.

use ichigen_aws::SesMailer;
use ichigen_core::pipeline::{Mailer, OutgoingMail, SendError};

use crate::common::Moto;

fn mail(from: &str) -> OutgoingMail {
    OutgoingMail {
        from: from.into(),
        to: vec!["buyer@example.com".into()],
        reply_to: Some("support@example.jp".into()),
        subject: "【いちげん雑貨店】ご注文ありがとうございます（注文番号 r-1）".into(),
        text: "山田 太郎 様\n\nこの度はご注文いただき誠にありがとうございます。\n合計 3,520円（税込）\n".into(),
        tags: vec![("kind", "thank_you".into()), ("marketplace", "楽天 rakuten".into())],
    }
}

#[tokio::test]
async fn japanese_mail_arrives_intact() {
    let moto = Moto::new().await;
    let client = moto.ses();
    client.create_email_identity().email_identity("shop@example.jp").send().await.unwrap();
    let mailer = SesMailer::new(client, None);
    let sent = mail("shop@example.jp");
    let id = mailer.send(&sent).await.unwrap();

    let mails = moto.ses_messages().await;
    let got = mails.iter().find(|m| m.message_id == id).expect("the mail is in moto");
    assert_eq!(got.from, sent.from);
    assert_eq!(got.to, sent.to);
    assert_eq!(got.subject.as_deref(), Some(sent.subject.as_str()));
    assert_eq!(got.body.as_deref(), Some(sent.text.as_str()));
}

#[tokio::test]
async fn sends_under_a_configuration_set() {
    let moto = Moto::new().await;
    let client = moto.ses();
    client.create_email_identity().email_identity("shop@example.jp").send().await.unwrap();
    client.create_configuration_set().configuration_set_name("ichigen").send().await.unwrap();
    let id = SesMailer::new(client, Some("ichigen".into())).send(&mail("shop@example.jp")).await.unwrap();
    // moto neither checks the set nor records it with the mail: this shows the request is accepted.
    assert!(moto.ses_messages().await.iter().any(|m| m.message_id == id));
}

#[tokio::test]
async fn unverified_sender_is_refused_without_addresses_in_the_error() {
    let moto = Moto::new().await;
    let client = moto.ses();
    // moto, like SES, refuses a sender that is not a verified identity.
    let err = SesMailer::new(client, None).send(&mail("nobody@example.jp")).await.unwrap_err();
    assert!(matches!(err, SendError::Refused(_)), "{err:?}");
    let mut chain = String::new();
    let mut source: Option<&dyn std::error::Error> = Some(&err);
    while let Some(e) = source {
        chain.push_str(&format!("{e} / {e:?}\n"));
        source = e.source();
    }
    assert!(!chain.contains("buyer@example.com") && !chain.contains("nobody@example.jp"), "{chain}");
    assert!(chain.contains("MessageRejected"), "{chain}");
}

#[tokio::test]
async fn a_masked_marketplace_address_never_reaches_ses() {
    let moto = Moto::new().await;
    let client = moto.ses();
    client.create_email_identity().email_identity("shop@example.jp").send().await.unwrap();
    let mut masked = mail("shop@example.jp");
    masked.to = vec!["0a1b2c3d4e5fs1@pc.fw.rakuten.ne.jp".into()];
    let err = SesMailer::new(client, None).send(&masked).await.expect_err("refused");
    assert!(matches!(err, SendError::Refused(_)), "{err}");
    assert!(!err.to_string().contains("0a1b2c3d"), "no address in the error: {err}");
    assert!(moto.ses_messages().await.is_empty(), "nothing was sent");
}

/// A stand-in for SES on 127.0.0.1 that reads each request and answers with `answer` (nothing
/// when `None`: the connection stays open and silent). Returns its URL and the requests it read.
async fn stand_in(answer: Option<&'static str>) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let url = format!("http://{}", listener.local_addr().expect("its address"));
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut read = Vec::new();
                // The request is in once the headers and the declared body are read.
                while let Ok(n) = socket.read(&mut buf).await {
                    if n == 0 {
                        return;
                    }
                    read.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&read).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string())
                            })
                            .and_then(|v| v.parse::<usize>().ok())
                            .unwrap_or(0);
                        if read.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                match answer {
                    Some(a) => {
                        let _ = socket.write_all(a.as_bytes()).await;
                        let _ = socket.shutdown().await;
                    }
                    None => tokio::time::sleep(std::time::Duration::from_secs(30)).await,
                }
            });
        }
    });
    (url, seen)
}

fn ses_at(moto: &Moto, url: &str) -> aws_sdk_sesv2::Client {
    let config = aws_sdk_sesv2::config::Builder::from(&moto.config)
        .endpoint_url(url)
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_attempt_timeout(std::time::Duration::from_millis(500))
                .build(),
        )
        .build();
    aws_sdk_sesv2::Client::from_conf(config)
}

/// Issue 13: a send that reached SES and whose answer was lost (a timeout, an unreadable answer)
/// is ambiguous, not "unavailable": the notifier keeps its claim, so no retry sends it twice at
/// once. A request SES refused is still refused.
#[tokio::test]
async fn a_lost_answer_is_an_ambiguous_outcome() {
    let moto = Moto::new().await;

    let (silent, seen) = stand_in(None).await;
    let err = SesMailer::new(ses_at(&moto, &silent), None).send(&mail("shop@example.jp")).await.unwrap_err();
    assert!(matches!(err, SendError::Ambiguous(_)), "timeout: {err:?}");
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 1, "the request had reached the service");
    assert!(!err.to_string().contains("buyer@example.com"), "{err}");

    let garbage =
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 9\r\nconnection: close\r\n\r\n{\"Messag";
    let (unreadable, _) = stand_in(Some(garbage)).await;
    let err = SesMailer::new(ses_at(&moto, &unreadable), None).send(&mail("shop@example.jp")).await.unwrap_err();
    assert!(matches!(err, SendError::Ambiguous(_)), "unreadable answer: {err:?}");

    let busy = "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\nx-amzn-errortype: TooManyRequestsException\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}";
    let (throttled, _) = stand_in(Some(busy)).await;
    let err = SesMailer::new(ses_at(&moto, &throttled), None).send(&mail("shop@example.jp")).await.unwrap_err();
    assert!(matches!(err, SendError::Unavailable(_)), "throttled: SES said it did not take it: {err:?}");

    // moto refuses an unverified sender: a clear refusal, not ambiguous.
    let err = SesMailer::new(moto.ses(), None).send(&mail("nobody@example.jp")).await.unwrap_err();
    assert!(matches!(err, SendError::Refused(_)), "{err:?}");
}
