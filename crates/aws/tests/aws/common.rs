//! Moto endpoint and per-test account, and realistic stored orders.

use aws_config::SdkConfig;
use chrono::{DateTime, Duration, FixedOffset};
use ichigen_aws::{DynamoStore, create_table};
use ichigen_core::checks::BundleIndex;
use ichigen_core::order::{Marketplace, Order};
use ichigen_core::pipeline::stored::{check_fingerprint, content_fingerprint, hashed};
use ichigen_core::pipeline::{StaffDecision, StoredOrder};
use ichigen_core::sample::SampleOrders;
use ichigen_core::{CheckEngine, Rules};
use ichigen_testkit::moto;

/// The table every test creates in its own account.
pub const TABLE: &str = "ichigen";

/// One test's view of moto: its own account.
pub struct Moto {
    /// SDK configuration acting in the test's account.
    pub config: SdkConfig,
    /// The moto server.
    pub endpoint: String,
    /// The test's moto account.
    pub account: String,
}

impl Moto {
    /// A fresh account on the shared moto server.
    pub async fn new() -> Moto {
        let endpoint = moto::endpoint();
        let account = moto::fresh_account();
        let config = moto::sdk_config(&endpoint, &account).await;
        Moto { config, endpoint, account }
    }

    /// Mails SES accepted in this test's account.
    pub async fn ses_messages(&self) -> Vec<moto::SentMail> {
        moto::ses_messages(&self.endpoint, &self.account).await
    }

    /// A DynamoDB client in the account.
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.config)
    }

    /// An SQS client in the account.
    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.config)
    }

    /// An SESv2 client in the account.
    pub fn ses(&self) -> aws_sdk_sesv2::Client {
        aws_sdk_sesv2::Client::new(&self.config)
    }

    /// An SSM (Parameter Store) client in the account.
    pub fn ssm(&self) -> aws_sdk_ssm::Client {
        aws_sdk_ssm::Client::new(&self.config)
    }

    /// A store over a freshly created table.
    pub async fn store(&self) -> DynamoStore {
        let client = self.dynamodb();
        create_table(&client, TABLE).await.expect("create table");
        DynamoStore::new(client, TABLE)
    }
}

/// An RFC 3339 instant.
pub fn jst(text: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(text).expect("RFC 3339")
}

/// The next sample order (`n` makes its id) of `shop`, ordered at `at`.
pub fn order(
    samples: &mut SampleOrders,
    shop: &str,
    marketplace: Marketplace,
    n: usize,
    at: DateTime<FixedOffset>,
) -> Order {
    let mut order = samples.varied_order(marketplace, n);
    order.shop_id = shop.to_string();
    order.ordered_at = at;
    order.source_updated_at = at + Duration::minutes(5);
    order
}

/// `order` as the processor would store it first (revision 1), checked with the default rules.
pub fn stored(order: Order) -> StoredOrder {
    let engine = CheckEngine::new(Rules::default(), ichigen_marketplaces::policies());
    let outcome = engine.check(&order, &BundleIndex::default());
    let bundle_key = outcome.status.is_open().then(|| engine.bundle_key(&order).map(|k| hashed(&k))).flatten();
    StoredOrder {
        status: outcome.status,
        findings: outcome.findings,
        staff: StaffDecision::None,
        mails_due: Vec::new(),
        hold_episode: 0,
        ship_with: None,
        parcels: Vec::new(),
        acknowledgement: None,
        content_fp: content_fingerprint(&order),
        check_fp: check_fingerprint(&order),
        bundle_key,
        rev: 1,
        stored_at: order.source_updated_at + Duration::seconds(3),
        expires_at: Some((order.ordered_at + Duration::days(730)).timestamp()),
        order,
    }
}
