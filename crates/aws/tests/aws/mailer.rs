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
