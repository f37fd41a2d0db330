//! Writes the fuzz seed corpus, `<fuzz dir>/corpus/<target>/` (see crates/fuzzing):
//!
//! - the marketplace targets get real sandbox response bodies: each sandbox is pulled by the real
//!   client through a recording proxy, so the bodies are exactly what the client received (some
//!   with one order broken, some cut short, as the sandboxes' faults serve them), plus copies with
//!   a buyer's family name marked (crates/fuzzing `MARKER`), the test fixtures of
//!   crates/marketplaces and the published examples found in each `--examples` folder;
//! - `text` gets the texts of sample orders (names, phones, mails, addresses) and a few
//!   documented spellings; `rules` the example rules file whole and by section; `order` sample
//!   canonical orders and the lines of examples/orders.jsonl.
//!
//! `cargo run -p ichigen-sandbox --example fuzz_seed -- <fuzz dir> [--examples <dir>]...`
//! (scripts/fuzz --seed). Each target's folder is emptied first.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::header::{CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use axum::response::Response;
use ichigen_core::Marketplace;
use ichigen_core::pipeline::Window;
use ichigen_marketplaces::client::{OrderSource, RetryPolicy};
use ichigen_marketplaces::{HttpSettings, MarketplaceSecret, build_client};
use ichigen_sandbox::{Faults, SandboxConfig, Seed};

/// Marks planted in personal-data fields; the same text as crates/fuzzing's `MARKER`.
const MARKER: &str = "FUZZMARKER";
/// Most bodies kept per marketplace (the corpus stays small).
const MAX_BODIES: usize = 24;
/// Orders per sandbox run: a getOrder body holds them all, so they stay few.
const ORDERS: usize = 5;

fn main() {
    let mut args = std::env::args().skip(1);
    let fuzz = PathBuf::from(args.next().expect("usage: fuzz_seed <fuzz dir> [--examples <dir>]..."));
    let mut examples = Vec::new();
    while let Some(a) = args.next() {
        assert_eq!(a, "--examples", "unknown argument {a}");
        examples.push(PathBuf::from(args.next().expect("--examples needs a folder")));
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    for m in [Marketplace::Rakuten, Marketplace::Yahoo, Marketplace::Amazon, Marketplace::Aupay, Marketplace::Qoo10] {
        let mut out = Corpus::new(&fuzz, m.as_str());
        let bodies = rt.block_on(recorded_bodies(m));
        for (i, (op, body)) in bodies.iter().enumerate().take(MAX_BODIES) {
            out.write(&format!("sandbox-{i:02}-{op}"), body);
        }
        for (i, (op, body)) in marked(m, &bodies).iter().enumerate() {
            out.write(&format!("marked-{i:02}-{op}"), body);
        }
        let fixtures = repo.join("crates/marketplaces/tests/fixtures").join(m.as_str());
        for dir in std::iter::once(fixtures).chain(examples.iter().map(|e| e.join(m.as_str()))) {
            for file in files(&dir)
                .into_iter()
                .filter(|f| !f.ends_with("SOURCES.txt") && f.extension().is_none_or(|e| e != "md"))
            {
                let name = file.file_name().unwrap().to_string_lossy().into_owned();
                out.write(&format!("example-{name}"), &std::fs::read(&file).unwrap());
            }
        }
        println!("{}: {} files", m.as_str(), out.count);
    }
    texts(&fuzz);
    rules(&fuzz, &repo);
    orders(&fuzz, &repo);
}

/// One target's corpus folder, emptied; files are deduplicated by content.
struct Corpus {
    dir: PathBuf,
    seen: HashSet<Vec<u8>>,
    count: usize,
}

impl Corpus {
    fn new(fuzz: &Path, target: &str) -> Corpus {
        let dir = fuzz.join("corpus").join(target);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("creating the corpus folder");
        Corpus { dir, seen: HashSet::new(), count: 0 }
    }

    fn write(&mut self, name: &str, data: &[u8]) {
        if data.is_empty() || !self.seen.insert(data.to_vec()) {
            return;
        }
        let name: String =
            name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) { c } else { '_' }).collect();
        std::fs::write(self.dir.join(name), data).expect("writing a seed");
        self.count += 1;
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Bodies (operation, bytes) the real client of `m` received from its sandbox, over two runs:
/// a clean one, and one with a broken order and some bodies cut short.
async fn recorded_bodies(m: Marketplace) -> Vec<(String, Vec<u8>)> {
    let mut all = Vec::new();
    for run in 0..2u64 {
        let seed = Seed { orders: ORDERS, seed: 11 + run, step_secs: 3_600, ..Seed::default() };
        let config = SandboxConfig { seed, throttle: None, ..SandboxConfig::default() };
        let sandbox = ichigen_sandbox::start(m, config).await.expect("sandbox starts");
        let book = sandbox.book.all();
        if run == 1 {
            let corrupt_orders = book.iter().take(1).map(|o| o.order_id.clone()).collect();
            sandbox.faults.set(Faults { corrupt_orders, malformed_rate: 0.3, ..Faults::default() });
        }
        let proxy = Proxy::start(sandbox.base_url()).await;
        let mut secret: serde_json::Value =
            serde_json::from_str(&ichigen_sandbox::secret_json(m, &sandbox)).expect("sandbox secret is JSON");
        secret["endpoint"] = proxy.running.base_url().into();
        let secret = MarketplaceSecret::from_json(&secret.to_string()).expect("sandbox secret reads");
        let retry =
            RetryPolicy { retries: 6, min_delay: Duration::from_millis(5), max_delay: Duration::from_millis(50) };
        let http = HttpSettings { timeout: Duration::from_secs(10), retry, rate_scale: 1_000.0 };
        let client = build_client("shop-demo", &secret, http).expect("client builds");
        let from = book.iter().map(|o| o.ordered_at).min().unwrap() - chrono::Duration::hours(1);
        let to = book.iter().map(|o| o.source_updated_at).max().unwrap() + chrono::Duration::days(2);
        let window = Window { from, to };
        let mut cursor: Option<String> = None;
        for _ in 0..20 {
            // A failed page (faults) still leaves its bodies recorded.
            let Ok(page) = client.changed_orders(&window, cursor.as_deref()).await else { break };
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let ids: Vec<String> = book.iter().take(2).map(|o| o.order_id.clone()).collect();
        let _ = client.orders_by_id(&ids).await;
        all.extend(proxy.take());
    }
    all
}

/// Copies of bodies with the first buyer's family name marked wherever it appears.
fn marked(m: Marketplace, bodies: &[(String, Vec<u8>)]) -> Vec<(String, Vec<u8>)> {
    let seed = Seed { orders: ORDERS, seed: 11, step_secs: 3_600, ..Seed::default() };
    let names: Vec<String> = ichigen_sandbox::seed_orders(m, &seed)
        .iter()
        .map(|o| o.buyer.name.split([' ', '　']).next().unwrap_or_default().to_owned())
        .filter(|n| !n.is_empty())
        .collect();
    let mut out = Vec::new();
    for (op, body) in bodies {
        let text = String::from_utf8_lossy(body);
        if let Some(name) = names.iter().find(|n| text.contains(n.as_str())) {
            out.push((op.clone(), text.replace(name.as_str(), &format!("{name}{MARKER}")).into_bytes()));
        }
        if out.len() == 3 {
            break;
        }
    }
    out
}

/// A proxy on 127.0.0.1 that forwards every request to `upstream` and records each answer body.
struct Proxy {
    running: ichigen_sandbox::Running,
    state: Arc<ProxyState>,
}

struct ProxyState {
    upstream: String,
    http: reqwest::Client,
    bodies: Mutex<Vec<(String, Vec<u8>)>>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let state = Arc::new(ProxyState { upstream, http: reqwest::Client::new(), bodies: Mutex::new(Vec::new()) });
        let router = axum::Router::new().fallback(forward).with_state(state.clone());
        let running = ichigen_sandbox::serve(router, 0).await.expect("proxy starts");
        Proxy { running, state }
    }

    fn take(self) -> Vec<(String, Vec<u8>)> {
        std::mem::take(&mut *self.state.bodies.lock().unwrap())
    }
}

async fn forward(State(p): State<Arc<ProxyState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let sent = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    let path_and_query = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let mut request = p.http.request(parts.method.clone(), format!("{}{path_and_query}", p.upstream)).body(sent);
    for (name, value) in &parts.headers {
        if name != HOST && name != CONTENT_LENGTH {
            request = request.header(name, value);
        }
    }
    let answer = request.send().await.expect("the sandbox answers");
    let mut response = Response::builder().status(answer.status().as_u16());
    for (name, value) in answer.headers() {
        if name != CONTENT_LENGTH && name != TRANSFER_ENCODING {
            response = response.header(name, value);
        }
    }
    let bytes = answer.bytes().await.expect("the sandbox's body").to_vec();
    let op = parts.uri.path().trim_end_matches('/').rsplit('/').next().unwrap_or("body").to_owned();
    p.bodies.lock().unwrap().push((op, bytes.clone()));
    response.body(axum::body::Body::from(bytes)).expect("a response")
}

/// Texts of sample orders and documented spellings, for the text normaliser.
fn texts(fuzz: &Path) {
    let mut out = Corpus::new(fuzz, "text");
    let fixed = [
        "二〇五",
        "二百五",
        "廿三",
        "一億二千万",
        "東京都千代田区千代田１丁目１番地１号",
        "三丁目五番地七号 サンハイツ２０１号室",
        "南7号",
        "〒100ー0001",
        "+81 (0)90-1234-5678",
        "山田　太郎様",
        "やまだ たろう さま",
        "ＡＢＣ＠ｅｘａｍｐｌｅ．ｊｐ",
        "霞ヶ関の一丁目",
        "ｶﾞｰﾃﾞﾝﾊｲﾂ",
    ];
    for (i, t) in fixed.iter().enumerate() {
        out.write(&format!("fixed-{i:02}"), t.as_bytes());
    }
    let mut sample = ichigen_core::sample::SampleOrders::new(5);
    for (n, m) in Marketplace::ALL.into_iter().enumerate() {
        let o = sample.varied_order(m, n);
        let a = &o.ship_to;
        let fields = [&o.buyer.name, &a.postal_code, &a.city, &a.address1, &a.address2];
        let optional = [&a.phone, &o.buyer.email, &o.buyer.name_kana, &o.buyer.phone];
        for (i, f) in fields.into_iter().chain(optional.into_iter().flatten()).enumerate() {
            out.write(&format!("sample-{n}-{i}"), f.as_bytes());
        }
    }
    println!("text: {} files", out.count);
}

/// The example rules file, whole and one top-level table at a time.
fn rules(fuzz: &Path, repo: &Path) {
    let mut out = Corpus::new(fuzz, "rules");
    let text = std::fs::read_to_string(repo.join("rules.example.toml")).expect("rules.example.toml");
    out.write("example-whole.toml", text.as_bytes());
    let mut section = String::new();
    let mut n = 0;
    for line in text.lines() {
        if line.starts_with('[') && !section.trim().is_empty() {
            out.write(&format!("example-part-{n:02}.toml"), section.as_bytes());
            n += 1;
            section.clear();
        }
        section.push_str(line);
        section.push('\n');
    }
    out.write(&format!("example-part-{n:02}.toml"), section.as_bytes());
    println!("rules: {} files", out.count);
}

/// Sample canonical orders, one per file, and the example order lines.
fn orders(fuzz: &Path, repo: &Path) {
    let mut out = Corpus::new(fuzz, "order");
    let mut sample = ichigen_core::sample::SampleOrders::new(3);
    for n in 0..18 {
        let m = Marketplace::ALL[n % Marketplace::ALL.len()];
        let o = sample.varied_order(m, n);
        out.write(&format!("sample-{n:02}.json"), serde_json::to_string(&o).expect("an order").as_bytes());
    }
    let lines = std::fs::read_to_string(repo.join("examples/orders.jsonl")).expect("examples/orders.jsonl");
    for (i, line) in lines.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        out.write(&format!("example-{i:02}.json"), line.as_bytes());
    }
    println!("order: {} files", out.count);
}
