//! `ichigen demo --aws-endpoint` against moto: the same pipeline on the AWS adapters. The counts it
//! prints are read back from DynamoDB and from the mail moto's SES recorded; a second run mails
//! nothing.
//!
//! The demo runs as a child process, which cannot send moto's account header, so it works in moto's
//! default account under a table (and queue) name of its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::AttributeValue;
use common::{ALERT, THANKS, ichigen, key, mails, n, orders, summary};
use ichigen_aws::DynamoStore;
use ichigen_core::OrderStatus;
use ichigen_core::pipeline::OrderStore;
use ichigen_testkit::moto;

const SHOP: &str = "demo";

fn run_demo(endpoint: &str, table: &str, dir: &std::path::Path) -> String {
    let out = ichigen()
        .args(["demo", "--orders", "60", "--aws-endpoint", endpoint, "--table", table])
        .args(["--dir", dir.to_str().unwrap()])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", moto::REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("ichigen runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "demo failed:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    text
}

/// Message ids of the mail ledger entries marked sent in `table`.
async fn sent_ids(ddb: &aws_sdk_dynamodb::Client, table: &str) -> BTreeSet<String> {
    let pages: Vec<_> = ddb
        .scan()
        .table_name(table)
        .filter_expression("begins_with(#sk, :mail) AND #state = :sent")
        .expression_attribute_names("#sk", "sk")
        .expression_attribute_names("#state", "state")
        .expression_attribute_values(":mail", AttributeValue::S("MAIL#".into()))
        .expression_attribute_values(":sent", AttributeValue::S("sent".into()))
        .into_paginator()
        .send()
        .try_collect()
        .await
        .unwrap();
    pages
        .into_iter()
        .flat_map(|p| p.items.unwrap_or_default())
        .filter_map(|item| match item.get("message_id") {
            Some(AttributeValue::S(id)) => Some(id.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_on_aws_adapters_stores_and_mails_what_it_reports() {
    let endpoint = moto::endpoint();
    let table = format!("ichigen-demo-{}", moto::fresh_account());
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");

    let printed = tokio::task::block_in_place(|| run_demo(&endpoint, &table, &dir));
    let summary = summary(&dir);
    let total = &summary["total"];
    assert_eq!(summary["mode"], "aws");
    assert_eq!(n(total, "new_or_changed"), 60, "{printed}");
    assert_eq!(n(total, "failed"), 0, "{printed}");

    // DynamoDB holds every order once, with the hold decisions the summary counts.
    let sdk = moto::sdk_config(&endpoint, moto::DEFAULT_ACCOUNT).await;
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let store = DynamoStore::new(ddb.clone(), table.clone());
    let mut stored = Vec::new();
    for status in OrderStatus::ALL {
        stored.extend(store.list_by_status(SHOP, status, None, None).await.unwrap());
    }
    assert_eq!(stored.len(), 60);
    let keys: BTreeSet<String> =
        stored.iter().map(|s| format!("{}/{}", s.order.marketplace, s.order.order_id)).collect();
    assert_eq!(keys.len(), 60, "each order once");
    assert_eq!(orders(&dir).iter().map(key).collect::<BTreeSet<_>>(), keys, "orders.jsonl is the table's orders");
    let held = stored.iter().filter(|s| s.status == OrderStatus::OnHold).count() as u64;
    assert_eq!(n(total, "held"), held);
    assert_eq!(n(&summary, "stored_orders"), 60);

    // SES, as moto recorded it: the mails whose ids the ledger marked sent, one per counted mail.
    let ids = sent_ids(&ddb, &table).await;
    let per_kind = mails(total);
    assert_eq!(ids.len() as u64, per_kind.values().sum::<u64>());
    let sent: Vec<moto::SentMail> =
        moto::all_ses_messages(&endpoint).await.into_iter().filter(|m| ids.contains(&m.message_id)).collect();
    assert_eq!(sent.len(), ids.len(), "every ledger entry is a mail SES accepted");
    let subject = |m: &moto::SentMail| m.subject.clone().unwrap_or_default();
    let thanks = sent.iter().filter(|m| subject(m).starts_with(THANKS)).count() as u64;
    let alerts = sent.iter().filter(|m| subject(m).starts_with(ALERT)).count() as u64;
    assert_eq!(thanks, per_kind.get("thank_you").copied().unwrap_or(0));
    assert_eq!(alerts, per_kind.get("staff_alert").copied().unwrap_or(0));
    assert_eq!(alerts, held, "one staff alert per held order");
    assert!(thanks > 0);

    // Again: the watermarks hold, the ledger holds; nothing is mailed twice.
    let printed2 = tokio::task::block_in_place(|| run_demo(&endpoint, &table, &dir));
    let summary2 = common::summary(&dir);
    assert_eq!(mails(&summary2["total"]).values().sum::<u64>(), 0, "{printed2}");
    // A pair writes after it read: the clean 楽天 orders are confirmed by the first run (those
    // processed before their pull ended) or by this one, each once; the sandboxes start afresh
    // each run, so nothing they show is newer than what is stored.
    let confirmed = |s: &serde_json::Value| n(&s["marketplaces"]["rakuten"], "acknowledged");
    assert!(confirmed(&summary) + confirmed(&summary2) > 0, "{printed2}");
    assert_eq!(n(&summary2["total"], "new_or_changed"), 0, "{printed2}");
    // A mail sent again would have been marked with its new message id.
    assert_eq!(sent_ids(&ddb, &table).await, ids);

    // `ichigen mail relay set` on AWS: the relay settings go into the shop's 楽天 credentials
    // parameter as its `mail_relay` (the rest kept, still a SecureString), where the notifier reads them.
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    let prefix = format!("/{table}/credentials/");
    let name = format!("{prefix}{SHOP}/rakuten");
    ssm.put_parameter()
        .name(&name)
        .value(r#"{"marketplace":"rakuten","service_secret":"SP-test","license_key":"SL-test"}"#)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    let smtp = ichigen_testkit::smtp::server();
    let relay = tmp.path().join("relay.json");
    let settings = serde_json::json!({"host": smtp.host, "port": smtp.port, "auth_id": smtp.user,
        "password": smtp.password, "from": smtp.from, "ca_pem": smtp.ca_pem});
    std::fs::write(&relay, settings.to_string()).unwrap();
    let out = tokio::task::block_in_place(|| {
        ichigen()
            .args(["mail", "relay", "set", "--marketplace", "rakuten", "--file", relay.to_str().unwrap()])
            .args(["--secret-prefix", &prefix, "--aws-endpoint", &endpoint, "--table", &table])
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", moto::REGION)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .unwrap()
    });
    let printed = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && printed.contains(&format!("stored in {name}")), "{printed}");
    assert!(!printed.contains(&smtp.password), "the password is never printed");
    let stored = ssm.get_parameter().name(&name).with_decryption(true).send().await.unwrap().parameter.unwrap();
    assert_eq!(stored.r#type, Some(aws_sdk_ssm::types::ParameterType::SecureString));
    let value: serde_json::Value = serde_json::from_str(&stored.value.unwrap()).unwrap();
    assert_eq!(value["service_secret"], "SP-test", "the credentials are kept");
    assert_eq!(value["mail_relay"]["from"], smtp.from.as_str());
    let secret = ichigen_marketplaces::MarketplaceSecret::from_json(&value.to_string()).unwrap();
    assert!(secret.mail_relay().unwrap().is_some(), "the notifier reads the relay settings back");
    ssm.delete_parameter().name(&name).send().await.unwrap();

    // Leave moto's default account as it was: later tests share the server.
    ddb.delete_table().table_name(&table).send().await.unwrap();
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    for suffix in ["orders", "orders-dlq", "mail", "mail-dlq"] {
        let url = sqs.get_queue_url().queue_name(format!("{table}-{suffix}")).send().await.unwrap().queue_url.unwrap();
        sqs.delete_queue().queue_url(url).send().await.unwrap();
    }
}
