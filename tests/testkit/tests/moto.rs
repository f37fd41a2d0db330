//! The moto helpers against a real moto server: per-test accounts, SES mail read back, both ways of finding moto.

use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, RawMessage};
use ichigen_testkit::moto;

/// Set in a child run of this test binary to make [`child_reports_endpoint`] do its work.
const CHILD_VAR: &str = "ICHIGEN_TESTKIT_ENDPOINT_CHILD";

#[tokio::test]
async fn accounts_are_isolated() {
    let endpoint = moto::endpoint();
    let (a, b) = (moto::fresh_account(), moto::fresh_account());
    let sqs_a = aws_sdk_sqs::Client::new(&moto::sdk_config(&endpoint, &a).await);
    let sqs_b = aws_sdk_sqs::Client::new(&moto::sdk_config(&endpoint, &b).await);

    let url = sqs_a.create_queue().queue_name("orders").send().await.unwrap().queue_url.unwrap();
    assert!(url.contains(&a), "the queue lives in account {a}: {url}");

    let in_a = sqs_a.list_queues().send().await.unwrap().queue_urls.unwrap_or_default();
    let in_b = sqs_b.list_queues().send().await.unwrap().queue_urls.unwrap_or_default();
    assert_eq!(in_a, vec![url]);
    assert!(in_b.is_empty(), "account {b} sees {in_b:?}");

    // The same name is free in the other account.
    let url_b = sqs_b.create_queue().queue_name("orders").send().await.unwrap().queue_url.unwrap();
    assert!(url_b.contains(&b), "{url_b}");
}

#[tokio::test]
async fn fresh_accounts_are_twelve_digits_and_differ() {
    let accounts: Vec<String> = (0..100).map(|_| moto::fresh_account()).collect();
    for account in &accounts {
        assert_eq!(account.len(), 12, "{account}");
        assert!(account.bytes().all(|byte| byte.is_ascii_digit()), "{account}");
        assert_ne!(account, moto::DEFAULT_ACCOUNT);
    }
    let mut unique = accounts.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), accounts.len());
}

/// An SQS client with `key` and no account header, as a child process would make one.
async fn sqs_with_key(endpoint: &str, key: &moto::AccessKey) -> aws_sdk_sqs::Client {
    let credentials =
        aws_sdk_sqs::config::Credentials::new(&key.access_key_id, &key.secret_access_key, None, None, "test");
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .empty_test_environment()
        .credentials_provider(credentials)
        .region(aws_config::Region::new(moto::REGION))
        .endpoint_url(endpoint)
        .load()
        .await;
    aws_sdk_sqs::Client::new(&config)
}

#[tokio::test]
async fn an_access_key_acts_in_the_account_it_was_made_in() {
    let endpoint = moto::endpoint();
    let account = moto::fresh_account();
    let key = moto::access_key(&endpoint, &account).await;
    assert!(key.access_key_id.starts_with("AKIA"), "{key:?}");
    assert_ne!(moto::access_key(&endpoint, &account).await, key, "each call makes a new key");

    let with_key = sqs_with_key(&endpoint, &key).await;
    let url = with_key.create_queue().queue_name("made-with-key").send().await.unwrap().queue_url.unwrap();
    assert!(url.contains(&account), "{url}");
    let by_header = aws_sdk_sqs::Client::new(&moto::sdk_config(&endpoint, &account).await);
    let seen = by_header.list_queues().send().await.unwrap().queue_urls.unwrap_or_default();
    assert_eq!(seen, vec![url]);

    // A key moto never made acts in the default account, not in this one.
    let unknown = moto::AccessKey { access_key_id: "AKIAUNKNOWN".into(), secret_access_key: "x".into() };
    let elsewhere = sqs_with_key(&endpoint, &unknown).await;
    let other_url =
        elsewhere.create_queue().queue_name(format!("unknown-key-{account}")).send().await.unwrap().queue_url.unwrap();
    assert!(other_url.contains(moto::DEFAULT_ACCOUNT), "{other_url}");
}

async fn sesv2(endpoint: &str, account: &str, sender: &str) -> aws_sdk_sesv2::Client {
    let client = aws_sdk_sesv2::Client::new(&moto::sdk_config(endpoint, account).await);
    client.create_email_identity().email_identity(sender).send().await.expect("CreateEmailIdentity");
    client
}

fn simple(subject: &str, text: &str) -> EmailContent {
    let part = |data: &str| Content::builder().data(data).charset("UTF-8").build().expect("data is set");
    let body = Body::builder().text(part(text)).build();
    EmailContent::builder().simple(Message::builder().subject(part(subject)).body(body).build()).build()
}

#[tokio::test]
async fn japanese_mail_is_read_back_intact_per_account() {
    let endpoint = moto::endpoint();
    let (shop, other) = (moto::fresh_account(), moto::fresh_account());
    // Both accounts send from the same address, as parallel tests of the same mailer would.
    let sender = "Ichigen Shop <shop@example.jp>";
    let ses = sesv2(&endpoint, &shop, "shop@example.jp").await;
    let ses_other = sesv2(&endpoint, &other, "shop@example.jp").await;

    let subject = "【ご注文確認】ご注文ありがとうございます（注文番号 12345）";
    let text = "山田 太郎 様\n\nこのたびはご注文いただき、誠にありがとうございます。\n〒150-0001 東京都渋谷区神宮前１－２－３\n";
    let sent = ses
        .send_email()
        .from_email_address(sender)
        .destination(Destination::builder().to_addresses("taro@example.jp").bcc_addresses("copy@example.jp").build())
        .content(simple(subject, text))
        .send()
        .await
        .unwrap();
    let raw = concat!(
        "From: shop@example.jp\r\nTo: hanako@example.jp\r\n",
        "Subject: =?UTF-8?B?55m66YCB44Gu44GK55+l44KJ44Gb?=\r\nContent-Type: text/plain; charset=UTF-8\r\n",
        "\r\n発送しました\r\n"
    );
    let sent_raw = ses
        .send_email()
        .from_email_address("shop@example.jp")
        .destination(Destination::builder().to_addresses("hanako@example.jp").build())
        .content(EmailContent::builder().raw(RawMessage::builder().data(Blob::new(raw)).build().unwrap()).build())
        .send()
        .await
        .unwrap();
    let sent_other = ses_other
        .send_email()
        .from_email_address(sender)
        .destination(Destination::builder().to_addresses("someone@example.jp").build())
        .content(simple("別のテスト", "別の本文"))
        .send()
        .await
        .unwrap();

    let mails = moto::ses_messages(&endpoint, &shop).await;
    assert_eq!(mails.len(), 2, "{mails:#?}");
    let mail = &mails[0];
    assert_eq!(Some(&mail.message_id), sent.message_id.as_ref());
    assert_eq!(mail.from, sender);
    assert_eq!(mail.to, ["taro@example.jp"]);
    assert!(mail.cc.is_empty());
    assert_eq!(mail.bcc, ["copy@example.jp"]);
    assert_eq!(mail.subject.as_deref(), Some(subject));
    assert_eq!(mail.body.as_deref(), Some(text));
    assert_eq!(mail.raw, None);

    let mail = &mails[1];
    assert_eq!(Some(&mail.message_id), sent_raw.message_id.as_ref());
    assert_eq!(mail.from, "shop@example.jp");
    assert_eq!(mail.to, ["hanako@example.jp"]);
    assert_eq!(mail.raw.as_deref(), Some(raw));
    assert_eq!((mail.subject.as_deref(), mail.body.as_deref()), (None, None));

    let mails_other = moto::ses_messages(&endpoint, &other).await;
    assert_eq!(mails_other.len(), 1, "{mails_other:#?}");
    assert_eq!(Some(&mails_other[0].message_id), sent_other.message_id.as_ref());
    assert_eq!(mails_other[0].subject.as_deref(), Some("別のテスト"));

    let all = moto::all_ses_messages(&endpoint).await;
    for id in [&sent.message_id, &sent_raw.message_id, &sent_other.message_id] {
        assert!(all.iter().any(|mail| Some(&mail.message_id) == id.as_ref()), "{id:?} missing");
    }
}

#[tokio::test]
async fn an_account_that_sent_nothing_has_no_mail() {
    let endpoint = moto::endpoint();
    assert!(moto::ses_messages(&endpoint, &moto::fresh_account()).await.is_empty());
}

/// Runs [`child_reports_endpoint`] in a child process of this test binary; returns the endpoint it found.
fn endpoint_in_child(moto_endpoint: Option<&str>) -> String {
    let mut command = Command::new(std::env::current_exe().expect("path of this test binary"));
    command.args(["child_reports_endpoint", "--exact", "--nocapture", "--test-threads=1"]).env(CHILD_VAR, "1");
    match moto_endpoint {
        Some(endpoint) => command.env(moto::ENDPOINT_VAR, endpoint),
        None => command.env_remove(moto::ENDPOINT_VAR),
    };
    let output = command.output().expect("run this test binary as a child");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "child failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    // libtest prints the test's name on the same line, before the child's output.
    let (_, after) = stdout.split_once("ENDPOINT=").unwrap_or_else(|| panic!("no ENDPOINT= in:\n{stdout}"));
    after.split_whitespace().next().unwrap_or_default().to_owned()
}

fn answers(endpoint: &str) -> bool {
    TcpStream::connect(endpoint.trim_start_matches("http://")).is_ok()
}

#[test]
fn endpoint_comes_from_the_environment_when_set() {
    let endpoint = moto::endpoint();
    assert_eq!(endpoint_in_child(Some(&endpoint)), endpoint);
}

#[test]
fn endpoint_starts_moto_when_none_is_set_and_it_dies_with_the_process() {
    let own = endpoint_in_child(None);
    assert!(own.starts_with("http://127.0.0.1:"), "{own}");
    // The child's server must go away with the child (the keeper's pipe closed); werkzeug takes ~1.5 s to stop.
    let started = Instant::now();
    while answers(&own) {
        assert!(started.elapsed() < Duration::from_secs(15), "the self-started moto at {own} outlived its process");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Not a test of its own: the body of the endpoint tests above, run in a child process.
#[tokio::test]
async fn child_reports_endpoint() {
    if std::env::var_os(CHILD_VAR).is_none() {
        return;
    }
    let started = Instant::now();
    let endpoint = moto::endpoint();
    let elapsed = started.elapsed();
    // It must be a working moto, not just a URL.
    let sqs = aws_sdk_sqs::Client::new(&moto::sdk_config(&endpoint, &moto::fresh_account()).await);
    sqs.create_queue().queue_name("probe").send().await.unwrap();
    // A second call in the same process must reuse the server.
    assert_eq!(moto::endpoint(), endpoint);
    eprintln!("moto::endpoint() took {elapsed:?}");
    println!("ENDPOINT={endpoint}");
}
