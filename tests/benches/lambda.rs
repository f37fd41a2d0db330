//! The three Lambda binaries as processes: cold-start init time (spawn → first Runtime API `/next`), peak RSS
//! after one batch of 10, and binary size. Run by `scripts/bench-lambdas`, which builds the release binaries
//! and starts moto first; by hand:
//!
//! ```sh
//! cargo build --release -p ichigen-puller -p ichigen-processor -p ichigen-notifier
//! eval "$(scripts/moto start)"; export ICHIGEN_MOTO_ENDPOINT
//! ICHIGEN_LAMBDA_BIN_DIR=target/lambda cargo bench -p ichigen-integration-tests --bench lambda
//! ```
//!
//! `ICHIGEN_LAMBDA_SPAWNS` (default 40) sets the cold starts per binary, `ICHIGEN_LAMBDA_RSS_RUNS` (default 5)
//! the fresh processes whose peak RSS is read after a batch, and `ICHIGEN_LAMBDA_EXTRA_ENV`
//! (`NAME=value,NAME=value`) adds variables to every child, to try a setting (e.g. `SSL_CERT_FILE`).
//! Prints a Markdown report.
//!
//! It is a bench of `ichigen-integration-tests` because that package already depends on all it needs (the AWS
//! adapters, the sample orders, the sandboxes, the testkit), and as a bench it is built optimised like the
//! other benches; the binaries it measures are the release artifacts, not this build.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // A bench binary: a failed step ends the run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use ichigen_aws::DynamoStore;
use ichigen_core::Marketplace;
use ichigen_core::pipeline::memory::MemoryMailQueue;
use ichigen_core::pipeline::{MailJob, MailKind, OrderKey, ProcessSettings, Processor, ShopDirectory, ShopSettings};
use ichigen_core::rules::EXAMPLE_RULES;
use ichigen_core::sample::SampleOrders;
use ichigen_sandbox::{Faults, SandboxConfig, Seed, Started};
use ichigen_testkit::lambda_process::{LambdaCommand, LambdaProcess};
use ichigen_testkit::moto::{self, AccessKey};
use ichigen_testkit::runtime_api::{Outcome, RuntimeApi, Settings, sqs_event};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(60);
const SHOP: &str = "bench";
const MAIL_FROM: &str = "shop@example.jp";
const SECRET_PREFIX: &str = "/ichigen/bench/credentials/";
/// The puller's second pull in one process: another shop on the same sandbox.
const SECOND_SHOP: &str = "bench-2";
/// Orders in the puller's sandbox: one pull of them is the puller's "batch" (at least 10).
const SANDBOX_ORDERS: usize = 30;
const MARKETPLACES: [Marketplace; 5] =
    [Marketplace::Rakuten, Marketplace::Yahoo, Marketplace::Amazon, Marketplace::Aupay, Marketplace::Qoo10];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Function {
    Puller,
    Processor,
    Notifier,
}

impl Function {
    const ALL: [Function; 3] = [Function::Puller, Function::Processor, Function::Notifier];

    /// The function's timeout as deployed (infra defaults): the puller starts no page with less than its page
    /// budget (45 s) left, so it needs its 120 s.
    fn timeout(self) -> Duration {
        match self {
            Function::Puller => Duration::from_secs(120),
            Function::Processor | Function::Notifier => Duration::from_secs(30),
        }
    }

    /// A Runtime API emulator for one process of this function.
    async fn runtime_api(self) -> RuntimeApi {
        RuntimeApi::start_with(Settings { function_timeout: self.timeout(), ..Settings::default() }).await
    }

    fn binary(self) -> &'static str {
        match self {
            Function::Puller => "puller",
            Function::Processor => "processor",
            Function::Notifier => "notifier",
        }
    }
}

/// One moto account with everything the three functions need, a Rakuten sandbox for the puller, and a key for
/// the children to act in the account.
struct World {
    endpoint: String,
    key: AccessKey,
    table: String,
    orders_url: String,
    quarantine_url: String,
    mail_url: String,
    store: DynamoStore,
    _sandbox: Started,
}

impl World {
    async fn new(endpoint: &str) -> World {
        let account = moto::fresh_account();
        let sdk = moto::sdk_config(endpoint, &account).await;
        let ddb = aws_sdk_dynamodb::Client::new(&sdk);
        let table = "ichigen".to_owned();
        ichigen_aws::create_table(&ddb, &table).await.expect("create table");
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let mut urls = Vec::new();
        for name in ["ichigen-orders", "ichigen-orders-dlq", "ichigen-mail"] {
            urls.push(sqs.create_queue().queue_name(name).send().await.expect("queue").queue_url.expect("url"));
        }
        let ses = aws_sdk_sesv2::Client::new(&sdk);
        ses.create_email_identity().email_identity(MAIL_FROM).send().await.expect("SES identity");
        let store = DynamoStore::new(ddb, table.clone());
        let mut shop = ShopSettings::new(SHOP, "ベンチ商店", MAIL_FROM);
        shop.rules_toml = EXAMPLE_RULES.to_owned();
        shop.staff_to = vec!["staff@example.jp".to_owned()];
        store.put_shop(&shop).await.expect("put shop");

        let now = Utc::now().fixed_offset();
        let seed = Seed {
            orders: SANDBOX_ORDERS,
            seed: 5,
            start: now - TimeDelta::hours(20),
            step_secs: 600,
            shop_id: SHOP.into(),
        };
        let config = SandboxConfig { port: 0, seed, faults: Faults::default(), throttle: None };
        let sandbox = ichigen_sandbox::start(Marketplace::Rakuten, config).await.expect("sandbox");
        let secret = ichigen_sandbox::secret_json(Marketplace::Rakuten, &sandbox);
        let ssm = aws_sdk_ssm::Client::new(&sdk);
        // Two shops on the one sandbox: a second pull in the same process is a new pair, so it reads every
        // order again (a second pull of the same pair reads only the overlap).
        for shop in [SHOP, SECOND_SHOP] {
            let name = format!("{SECRET_PREFIX}{shop}/rakuten");
            ssm.put_parameter()
                .name(name)
                .value(&secret)
                .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
                .send()
                .await
                .expect("put parameter");
        }
        let key = moto::access_key(endpoint, &account).await;
        let mail_url = urls.pop().expect("mail");
        let quarantine_url = urls.pop().expect("dlq");
        let orders_url = urls.pop().expect("orders");
        World {
            endpoint: endpoint.to_owned(),
            key,
            table,
            orders_url,
            quarantine_url,
            mail_url,
            store,
            _sandbox: sandbox,
        }
    }

    /// `function`'s binary with its production settings (the puller's rate limits scaled up: the sandbox is local).
    fn command(&self, bin_dir: &Path, function: Function, api: &RuntimeApi) -> LambdaCommand {
        let name = function.binary();
        let command = LambdaCommand::new(bin_dir.join(name), &format!("ichigen-{name}"))
            .runtime_api(api)
            .aws(&self.endpoint, &self.key)
            .env("TABLE_NAME", &self.table);
        let command = extra_env().into_iter().fold(command, |command, (name, value)| command.env(&name, value));
        match function {
            Function::Puller => command
                .env("ORDERS_QUEUE_URL", &self.orders_url)
                .env("QUARANTINE_QUEUE_URL", &self.quarantine_url)
                .env("MAIL_QUEUE_URL", &self.mail_url)
                .env("SECRET_PREFIX", SECRET_PREFIX)
                .env("CREDENTIAL_EXPIRY_PREFIX", "/ichigen/bench/credential-expiry/")
                .env("NOTICE_TOPIC_ARN", "arn:aws:sns:ap-northeast-1:000000000000:ichigen-alarms")
                .env("FIRST_LOOKBACK_HOURS", "48")
                .env("RATE_SCALE", "1000"),
            Function::Processor => command.env("MAIL_QUEUE_URL", &self.mail_url),
            Function::Notifier => command.env("SECRET_PREFIX", SECRET_PREFIX),
        }
    }

    /// A batch of 10 varied orders (every marketplace, the defects shops see), numbered from `first`.
    fn order_batch(&self, first: usize) -> Value {
        let mut samples = SampleOrders::new(42);
        let bodies: Vec<(String, String)> = (0..10)
            .map(|i| {
                let mut order = samples.varied_order(MARKETPLACES[i % 5], first + i);
                order.shop_id = SHOP.into();
                (format!("o{}", first + i), serde_json::to_string(&order).expect("order JSON"))
            })
            .collect();
        let refs: Vec<(&str, &str)> = bodies.iter().map(|(id, body)| (id.as_str(), body.as_str())).collect();
        sqs_event("ichigen-orders", &refs)
    }

    /// A batch of 10 thank-you jobs for clean orders stored as the processor would, numbered from `first`.
    /// The `number`th batch of one process run `run` for `function`: no two alike across the whole bench.
    async fn batch(&self, function: Function, run: usize, number: usize) -> Value {
        let first = (run * 2 + number) * 10;
        match function {
            Function::Puller => {
                let shop = [SHOP, SECOND_SHOP][number];
                json!({"shop_id": shop, "marketplace": "rakuten"})
            }
            Function::Processor => self.order_batch(first),
            Function::Notifier => self.mail_batch(first).await,
        }
    }

    async fn mail_batch(&self, first: usize) -> Value {
        let processor = Processor::new(
            self.store.clone(),
            self.store.clone(),
            MemoryMailQueue::new(),
            ichigen_marketplaces::policies(),
            ProcessSettings::default(),
        );
        let mut samples = SampleOrders::new(43);
        let mut bodies = Vec::new();
        for i in 0..10 {
            // Numbered apart from the processor's batches, which store orders in the same table.
            let mut order = samples.clean_order(MARKETPLACES[i % 2], 100_000 + first + i);
            order.shop_id = SHOP.into();
            processor.process(order.clone(), Utc::now().fixed_offset()).await.expect("stored");
            let job = MailJob { order: OrderKey::of(&order), kind: MailKind::ThankYou };
            bodies.push((format!("j{}", first + i), serde_json::to_string(&job).expect("job JSON")));
        }
        let refs: Vec<(&str, &str)> = bodies.iter().map(|(id, body)| (id.as_str(), body.as_str())).collect();
        sqs_event("ichigen-mail", &refs)
    }
}

async fn started(world: &World, bin_dir: &Path, function: Function, api: &RuntimeApi) -> LambdaProcess {
    let mut process = world.command(bin_dir, function, api).spawn();
    process.wait_until_polling(api, WAIT).await.unwrap_or_else(|report| panic!("{report}"));
    process
}

/// Nearest-rank percentile of sorted `values`.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn sorted(mut values: Vec<f64>) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    values
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// `ICHIGEN_LAMBDA_EXTRA_ENV` as (name, value) pairs.
fn extra_env() -> Vec<(String, String)> {
    let text = std::env::var("ICHIGEN_LAMBDA_EXTRA_ENV").unwrap_or_default();
    let pairs = text.split(',').filter(|pair| !pair.trim().is_empty());
    pairs
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) => (name.trim().to_owned(), value.to_owned()),
            None => panic!("ICHIGEN_LAMBDA_EXTRA_ENV: {pair:?} is not NAME=value"),
        })
        .collect()
}

fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("ICHIGEN_LAMBDA_BIN_DIR") {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("release")
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name").map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned()))
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    format!("{cores} × {cpu}")
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    let bin_dir = bin_dir();
    for function in Function::ALL {
        let path = bin_dir.join(function.binary());
        assert!(
            path.is_file(),
            "{} is missing: build the release binaries first (scripts/bench-lambdas)",
            path.display()
        );
    }
    let spawns = env_number("ICHIGEN_LAMBDA_SPAWNS", 40);
    let rss_runs = env_number("ICHIGEN_LAMBDA_RSS_RUNS", 5);
    let endpoint = moto::endpoint();
    let world = World::new(&endpoint).await;
    println!("# Lambda binaries: {}", bin_dir.display());
    println!("machine: {}; load average before: {}", machine(), load());
    if !extra_env().is_empty() {
        println!("extra environment: {:?}", extra_env());
    }

    // Cold starts, the binaries taking turns so that a busy moment of the machine hits all three alike.
    let mut init_ms: Vec<Vec<f64>> = vec![Vec::new(); 3];
    let mut init_cpu_ms: Vec<Vec<f64>> = vec![Vec::new(); 3];
    let mut init_hwm_kib: Vec<Vec<f64>> = vec![Vec::new(); 3];
    for _ in 0..spawns {
        for (n, function) in Function::ALL.into_iter().enumerate() {
            let api = function.runtime_api().await;
            let process = started(&world, &bin_dir, function, &api).await;
            let polled = api.first_poll_at().expect("polled");
            init_ms[n].push((polled - process.spawned_at()).as_secs_f64() * 1000.0);
            // Read while the process waits in `/next`: all it has used is its init.
            init_cpu_ms[n].push(process.cpu_time().expect("CPU time").as_secs_f64() * 1000.0);
            init_hwm_kib[n].push(process.peak_rss_kib().expect("VmHWM") as f64);
        }
    }

    // Peak RSS after one batch, each run a fresh process (and a fresh world for the puller: its watermarks).
    // Then the CPU time of that first batch against a second one in the same process: what the first
    // invocation pays beyond a warm one (connections, the SDK's connector, a shop's check engine, a pair's
    // marketplace client), measured in CPU time because moto's answer times vary far more.
    let mut batch_hwm_kib: Vec<Vec<f64>> = vec![Vec::new(); 3];
    let mut first_cpu_ms: Vec<Vec<f64>> = vec![Vec::new(); 3];
    let mut second_cpu_ms: Vec<Vec<f64>> = vec![Vec::new(); 3];
    for run in 0..rss_runs {
        for (n, function) in Function::ALL.into_iter().enumerate() {
            let fresh;
            let world = if function == Function::Puller {
                fresh = World::new(&endpoint).await;
                &fresh
            } else {
                &world
            };
            let batches = [world.batch(function, run, 0).await, world.batch(function, run, 1).await];
            let api = function.runtime_api().await;
            let process = started(world, &bin_dir, function, &api).await;
            let mut cpu = vec![process.cpu_time().expect("CPU time")];
            for (number, event) in batches.into_iter().enumerate() {
                let outcome = api.invoke(event, WAIT).await;
                let Outcome::Response(response) = outcome else {
                    panic!("{}: {outcome:?}\n{}", function.binary(), process.output());
                };
                match function {
                    Function::Puller => assert_eq!(response["queued"], json!(SANDBOX_ORDERS), "{response}"),
                    _ => assert_eq!(response["batchItemFailures"], json!([]), "{response}"),
                }
                if number == 0 {
                    batch_hwm_kib[n].push(process.peak_rss_kib().expect("VmHWM") as f64);
                }
                cpu.push(process.cpu_time().expect("CPU time"));
            }
            first_cpu_ms[n].push((cpu[1] - cpu[0]).as_secs_f64() * 1000.0);
            second_cpu_ms[n].push((cpu[2] - cpu[1]).as_secs_f64() * 1000.0);
        }
    }
    println!("load average after: {}\n", load());

    println!(
        "| binary | stripped size | init (spawn → first `/next`), median / p95 / max of {spawns} | CPU time of init, median | peak RSS after init | peak RSS after one batch of 10 (max of {rss_runs}) |"
    );
    println!("|---|---|---|---|---|---|");
    let mut cpu_lines = Vec::new();
    for (n, function) in Function::ALL.into_iter().enumerate() {
        let size = std::fs::metadata(bin_dir.join(function.binary())).expect("binary").len();
        let init = sorted(init_ms[n].clone());
        let init_cpu = sorted(init_cpu_ms[n].clone());
        let init_hwm = sorted(init_hwm_kib[n].clone());
        let batch = sorted(batch_hwm_kib[n].clone());
        println!(
            "| `{}` | {:.1} MB ({} bytes) | {:.1} / {:.1} / {:.1} ms | {:.1} ms | {:.1} MiB | {:.1} MiB (min {:.1}) |",
            function.binary(),
            size as f64 / 1_000_000.0,
            size,
            percentile(&init, 50.0),
            percentile(&init, 95.0),
            init[init.len() - 1],
            percentile(&init_cpu, 50.0),
            mib(percentile(&init_hwm, 50.0) as u64),
            mib(batch[batch.len() - 1] as u64),
            mib(batch[0] as u64),
        );
        let (first, second) = (sorted(first_cpu_ms[n].clone()), sorted(second_cpu_ms[n].clone()));
        cpu_lines.push(format!(
            "| `{}` | {:.1} ms | {:.1} ms |",
            function.binary(),
            percentile(&first, 50.0),
            percentile(&second, 50.0)
        ));
    }
    println!(
        "\n| binary | CPU time of the first batch, median of {rss_runs} | of a second batch in the same process |"
    );
    println!("|---|---|---|");
    for line in cpu_lines {
        println!("{line}");
    }
}
