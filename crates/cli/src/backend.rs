//! Where the demo and the staff commands keep orders: the embedded store in a folder (the
//! default), or the AWS adapters (DynamoDB, SQS, SES) at an endpoint or as the SDK is configured.

use std::path::{Path, PathBuf};

use anyhow::Context;
use aws_config::meta::region::RegionProviderChain;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use clap::Args;
use ichigen_aws::DynamoStore;
use ichigen_local::SqliteStore;

/// Region when the environment names none: the shops are in Japan.
pub const DEFAULT_REGION: &str = "ap-northeast-1";

/// The options every command on stored orders shares.
#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    /// Folder of the embedded store (DIR/ichigen.db), the mail outbox (DIR/outbox) and the demo's files.
    #[arg(
        long,
        global = true,
        help_heading = "Where orders are kept",
        default_value = "ichigen-demo",
        env = "ICHIGEN_DIR"
    )]
    pub dir: PathBuf,
    /// Use the AWS adapters (DynamoDB, SQS, SES) at this endpoint, e.g. moto at http://127.0.0.1:5000.
    /// Region and credentials come from the usual AWS_* variables (region ap-northeast-1 if unset).
    #[arg(long, global = true, help_heading = "Where orders are kept", env = "ICHIGEN_AWS_ENDPOINT")]
    pub aws_endpoint: Option<String>,
    /// Use the AWS adapters as the SDK's standard configuration says (AWS_REGION, AWS_PROFILE,
    /// AWS_ENDPOINT_URL, ...), without naming an endpoint.
    #[arg(long, global = true, help_heading = "Where orders are kept")]
    pub aws: bool,
    /// DynamoDB table (AWS only). The demo names its SQS queues after it.
    #[arg(
        long,
        global = true,
        help_heading = "Where orders are kept",
        default_value = "ichigen",
        env = "ICHIGEN_TABLE"
    )]
    pub table: String,
    /// The ichigen shop id.
    #[arg(long, global = true, help_heading = "Where orders are kept", default_value = "demo", env = "ICHIGEN_SHOP")]
    pub shop: String,
}

/// The embedded store of a folder.
pub struct Local {
    /// The folder.
    pub dir: PathBuf,
    /// `DIR/ichigen.db`.
    pub store: SqliteStore,
}

/// The AWS adapters' configuration.
pub struct Aws {
    /// SDK configuration (endpoint, region, credentials).
    pub sdk: SdkConfig,
    /// The store over the table.
    pub store: DynamoStore,
}

/// One of the two.
pub enum Backend {
    /// Embedded (boxed: the store is large too).
    Local(Box<Local>),
    /// AWS (boxed: its SDK configuration is large).
    Aws(Box<Aws>),
}

impl StoreArgs {
    /// Whether the AWS adapters are asked for.
    pub fn uses_aws(&self) -> bool {
        self.aws || self.aws_endpoint.is_some()
    }

    /// `DIR/ichigen.db`.
    pub fn db_path(&self) -> PathBuf {
        self.dir.join("ichigen.db")
    }

    /// The store of an existing folder (staff commands never create one), or the AWS table.
    pub async fn open_existing(&self) -> anyhow::Result<Backend> {
        if self.uses_aws() {
            return Ok(Backend::Aws(Box::new(self.aws().await)));
        }
        let path = self.db_path();
        if !path.is_file() {
            anyhow::bail!(
                "no ichigen store at {}: run `ichigen demo --dir {}` first, or pass --dir (or --aws-endpoint)",
                path.display(),
                self.dir.display()
            );
        }
        Ok(Backend::Local(Box::new(Local { dir: self.dir.clone(), store: open_sqlite(&path)? })))
    }

    /// The AWS adapters for this table.
    pub async fn aws(&self) -> Aws {
        let sdk = sdk_config(self.aws_endpoint.as_deref()).await;
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), self.table.clone());
        Aws { sdk, store }
    }
}

/// Tells the user which stored orders the last lists of `store` skipped because their record does
/// not read back (by key: never their content).
pub fn warn_skipped(store: &SqliteStore) {
    for key in store.take_skipped() {
        eprintln!(
            "ichigen: warning: stored order {key} skipped: its record does not read back \
             (`ichigen orders show` on it gives the error); the other orders are listed"
        );
    }
}

/// Opens (creating if needed) the SQLite store at `path`.
pub fn open_sqlite(path: &Path) -> anyhow::Result<SqliteStore> {
    SqliteStore::open(path).with_context(|| format!("opening {}", path.display()))
}

/// The SDK configuration from the environment, at `endpoint` when given; region
/// [`DEFAULT_REGION`] when the environment names none.
pub async fn sdk_config(endpoint: Option<&str>) -> SdkConfig {
    let region = RegionProviderChain::default_provider().or_else(Region::new(DEFAULT_REGION));
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).region(region);
    if let Some(url) = endpoint {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}
