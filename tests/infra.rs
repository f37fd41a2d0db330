//! infra/ read with hcl-rs and held to the rules that keep it in step with the code and safe:
//! every function has a Lambda; each Lambda's environment is what its `Config::from_env` reads;
//! IAM grants no `*` action and no `*` resource; SQS mappings report batch item failures; every
//! queue has a DLQ (or is one) and a depth alarm; visibility timeouts are at least 6 × the
//! consumer's timeout; the notifier's lease and the puller's page budget fit the timeouts; the
//! table is the one `crates/aws/src/table.rs` creates; the schedule payload and the shop settings
//! item decode as the Rust types they feed; no customer managed key unless opted in; marketplace
//! credentials are SSM parameters per shop × marketplace that the puller (and, for relay settings,
//! the notifier) reads, each by its exact ARN; the alarms that need a person are all there.
//!
//! Each rule is a function returning its violations, and each has a test below that breaks a
//! copy of the sources on purpose and shows the rule reports it. Numbers are evaluated from
//! literals, `var.*` defaults and `local.*`, so the checks see what a default apply would create.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use aws_sdk_dynamodb::types::AttributeValue;
use hcl::eval::{Context, Evaluate, FuncArgs, FuncDef, ParamType};
use hcl::expr::{Expression, ObjectKey, TemplateExpr};
use hcl::{Block, Body, Value};
use ichigen_aws::table;

/// The module every function's Lambda is made with.
const LAMBDA_MODULE: &str = "./modules/lambda_function";
/// Read by a config but never to be set by Terraform (sandboxes and benches only).
const NEVER_SET: &[&str] = &["RATE_SCALE"];
/// Actions that cannot be scoped to a resource, so `Resource: "*"` is the only way to grant them.
const UNSCOPABLE_ACTIONS: &[&str] = &["xray:PutTraceSegments", "xray:PutTelemetryRecords", "cloudwatch:PutMetricData"];

// ------------------------------------------------------------------------------------------------
// Sources: the text of infra/ and of each function, so break tests can edit copies.

/// One Lambda function's package as the code defines it.
#[derive(Debug, Clone)]
struct FunctionSource {
    /// Folder under functions/.
    dir: String,
    /// The `[[bin]]` name (what cargo-lambda builds and Terraform deploys).
    bin: String,
    /// Text of `src/lib.rs` (where `Config::from_env` lives).
    lib_rs: String,
}

#[derive(Debug, Clone)]
struct Sources {
    /// `.tf` files by path relative to infra/.
    tf: BTreeMap<String, String>,
    functions: Vec<FunctionSource>,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

fn collect_tf(dir: &Path, base: &Path, out: &mut BTreeMap<String, String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            if !name.starts_with('.') {
                collect_tf(&path, base, out);
            }
        } else if name.ends_with(".tf") {
            let rel = path.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/");
            out.insert(rel, std::fs::read_to_string(&path).unwrap());
        }
    }
}

impl Sources {
    fn load() -> Sources {
        let root = repo_root();
        let mut tf = BTreeMap::new();
        collect_tf(&root.join("infra"), &root.join("infra"), &mut tf);
        let mut functions = Vec::new();
        let mut dirs: Vec<_> = std::fs::read_dir(root.join("functions")).unwrap().map(|e| e.unwrap().path()).collect();
        dirs.sort();
        for dir in dirs.into_iter().filter(|d| d.join("Cargo.toml").is_file()) {
            let manifest: toml::Table = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap().parse().unwrap();
            let bins = manifest.get("bin").and_then(|b| b.as_array()).cloned().unwrap_or_default();
            assert_eq!(bins.len(), 1, "{}: one [[bin]] per function package", dir.display());
            let bin = bins[0].get("name").and_then(|n| n.as_str()).unwrap().to_string();
            functions.push(FunctionSource {
                dir: dir.file_name().unwrap().to_string_lossy().to_string(),
                bin,
                lib_rs: std::fs::read_to_string(dir.join("src/lib.rs")).unwrap(),
            });
        }
        assert!(!functions.is_empty(), "no functions found under functions/");
        Sources { tf, functions }
    }

    /// Replaces `old` (which must occur exactly once) by `new` in the infra file `file`.
    fn edit(mut self, file: &str, old: &str, new: &str) -> Sources {
        let text = self.tf.get_mut(file).unwrap_or_else(|| panic!("no infra/{file}"));
        assert_eq!(text.matches(old).count(), 1, "infra/{file} should hold {old:?} exactly once");
        *text = text.replacen(old, new, 1);
        self
    }

    fn model(&self) -> Model {
        let mut root = Vec::new();
        let mut modules: BTreeMap<String, Vec<Block>> = BTreeMap::new();
        for (path, text) in &self.tf {
            let body: Body = hcl::parse(text).unwrap_or_else(|e| panic!("infra/{path} does not parse: {e}"));
            let blocks: Vec<Block> = body.into_blocks().collect();
            match path.rsplit_once('/') {
                None => root.extend(blocks),
                Some((dir, _)) => modules.entry(format!("./{dir}")).or_default().extend(blocks),
            }
        }
        Model { root, modules, functions: self.functions.clone() }
    }
}

// ------------------------------------------------------------------------------------------------
// The parsed configuration and helpers to walk it.

struct Model {
    /// Blocks of infra/*.tf.
    root: Vec<Block>,
    /// Blocks of each module folder, by its source path ("./modules/lambda_function").
    modules: BTreeMap<String, Vec<Block>>,
    functions: Vec<FunctionSource>,
}

fn labels(block: &Block) -> Vec<&str> {
    block.labels().iter().map(|l| l.as_str()).collect()
}

fn attr<'a>(block: &'a Block, key: &str) -> Option<&'a Expression> {
    block.body().attributes().find(|a| a.key() == key).map(|a| a.expr())
}

fn child<'a>(block: &'a Block, ident: &str) -> Option<&'a Block> {
    block.body().blocks().find(|b| b.identifier() == ident)
}

/// `resource "TYPE" "NAME"` blocks of `blocks`, as (name, block).
fn resources<'a>(blocks: &'a [Block], kind: &str) -> Vec<(&'a str, &'a Block)> {
    blocks
        .iter()
        .filter(|b| b.identifier() == "resource" && labels(b).first() == Some(&kind))
        .map(|b| (b.labels()[1].as_str(), b))
        .collect()
}

/// Root `module` blocks made from the Lambda module, as (name, block).
fn lambda_modules(m: &Model) -> Vec<(&str, &Block)> {
    m.root
        .iter()
        .filter(|b| b.identifier() == "module")
        .filter(|b| matches!(attr(b, "source"), Some(Expression::String(s)) if s == LAMBDA_MODULE))
        .map(|b| (b.labels()[0].as_str(), b))
        .collect()
}

/// The source text of an expression (templates keep their `${...}`).
fn text(expr: &Expression) -> String {
    hcl::format::to_string(expr).unwrap_or_default()
}

/// Names `X` of every `{kind}.X.{attribute}` reference in `source` (e.g. `aws_sqs_queue`, `arn`).
fn references(source: &str, kind: &str, attribute: &str) -> BTreeSet<String> {
    let prefix = format!("{kind}.");
    let mut out = BTreeSet::new();
    let mut rest = source;
    while let Some(at) = rest.find(&prefix) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
            continue;
        }
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-').collect();
        let after = &rest[name.len()..];
        if after.strip_prefix('.').is_some_and(|a| {
            a.starts_with(attribute) && !a[attribute.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
        }) {
            out.insert(name);
        }
    }
    out
}

fn string_list(expr: Option<&Expression>) -> Vec<String> {
    match expr {
        Some(Expression::Array(items)) => items.iter().map(|e| literal_string(e).unwrap_or_else(|| text(e))).collect(),
        _ => Vec::new(),
    }
}

fn literal_string(expr: &Expression) -> Option<String> {
    match expr {
        Expression::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn object_key(key: &ObjectKey) -> String {
    match key {
        ObjectKey::Identifier(i) => i.as_str().to_string(),
        ObjectKey::Expression(e) => literal_string(e).unwrap_or_else(|| text(e)),
        other => hcl::format::to_string(other).unwrap_or_default(),
    }
}

/// The keys of an object expression.
fn object_keys(expr: Option<&Expression>) -> Option<Vec<String>> {
    match expr {
        Some(Expression::Object(o)) => Some(o.keys().map(object_key).collect()),
        _ => None,
    }
}

fn object_get<'a>(expr: &'a Expression, key: &str) -> Option<&'a Expression> {
    match expr {
        Expression::Object(o) => o.iter().find(|(k, _)| object_key(k) == key).map(|(_, v)| v),
        _ => None,
    }
}

/// The argument of `jsonencode(...)`, or the expression itself.
fn json_argument(expr: &Expression) -> &Expression {
    match expr {
        Expression::FuncCall(call) if call.name.name.as_str() == "jsonencode" && call.args.len() == 1 => &call.args[0],
        _ => expr,
    }
}

// ------------------------------------------------------------------------------------------------
// Evaluation of the numbers and payloads the rules compare: literals, var.* defaults, local.*.

fn jsonencode(args: FuncArgs) -> Result<Value, String> {
    serde_json::to_string(&args[0]).map(Value::from).map_err(|e| e.to_string())
}

fn tostring(args: FuncArgs) -> Result<Value, String> {
    Ok(match &args[0] {
        Value::String(s) => Value::from(s.clone()),
        Value::Number(n) => Value::from(n.to_string()),
        Value::Bool(b) => Value::from(b.to_string()),
        other => return Err(format!("tostring of {other:?}")),
    })
}

/// Terraform's `coalesce`: the first argument that is neither null nor an empty string.
fn coalesce(args: FuncArgs) -> Result<Value, String> {
    args.iter()
        .find(|v| !matches!(v, Value::Null) && v.as_str() != Some(""))
        .cloned()
        .ok_or_else(|| "coalesce: no non-null argument".to_string())
}

/// Variable defaults and the locals that can be computed without AWS (others stay undefined).
fn context(blocks: &[Block]) -> Context<'static> {
    let mut base = Context::new();
    base.declare_func("jsonencode", FuncDef::builder().param(ParamType::Any).build(jsonencode));
    base.declare_func("tostring", FuncDef::builder().param(ParamType::Any).build(tostring));
    base.declare_func("coalesce", FuncDef::builder().variadic_param(ParamType::Any).build(coalesce));
    let mut vars = hcl::Map::new();
    for b in blocks.iter().filter(|b| b.identifier() == "variable") {
        let value = attr(b, "default").and_then(|e| e.evaluate(&base).ok()).unwrap_or(Value::Null);
        vars.insert(b.labels()[0].as_str().to_string(), value);
    }
    let pending: Vec<(String, Expression)> = blocks
        .iter()
        .filter(|b| b.identifier() == "locals")
        .flat_map(|b| b.body().attributes().map(|a| (a.key().to_string(), a.expr().clone())))
        .collect();
    let mut locals = hcl::Map::new();
    loop {
        let mut ctx = base.clone();
        ctx.declare_var("var", Value::Object(vars.clone()));
        ctx.declare_var("local", Value::Object(locals.clone()));
        let before = locals.len();
        for (name, expr) in &pending {
            if !locals.contains_key(name)
                && let Ok(v) = expr.evaluate(&ctx)
            {
                locals.insert(name.clone(), v);
            }
        }
        if locals.len() == before {
            return ctx;
        }
    }
}

fn number(ctx: &Context, expr: Option<&Expression>) -> Result<f64, String> {
    let expr = expr.ok_or("not set")?;
    match expr.evaluate(ctx) {
        Ok(Value::Number(n)) => n.as_f64().ok_or_else(|| format!("{} is not a number", text(expr))),
        Ok(Value::String(s)) => s.parse().map_err(|_| format!("{s:?} is not a number")),
        Ok(other) => Err(format!("{} evaluates to {other:?}", text(expr))),
        Err(e) => Err(format!("{} cannot be evaluated offline ({e}); use literals, var.* and local.*", text(expr))),
    }
}

// ------------------------------------------------------------------------------------------------
// Rule: every function under functions/ has a Lambda (and the module builds it as the code needs).

fn rule_every_function_has_a_lambda(m: &Model) -> Vec<String> {
    let mut v = Vec::new();
    let deployed: BTreeMap<String, &str> = lambda_modules(m)
        .into_iter()
        .filter_map(|(name, b)| attr(b, "function").and_then(literal_string).map(|f| (f, name)))
        .collect();
    for f in &m.functions {
        if !deployed.contains_key(&f.bin) {
            v.push(format!(
                "functions/{} (binary {}) has no Lambda: no module with function = {:?}",
                f.dir, f.bin, f.bin
            ));
        }
    }
    for (function, module) in &deployed {
        if !m.functions.iter().any(|f| &f.bin == function) {
            v.push(format!("module.{module} deploys {function:?}, which is no binary under functions/"));
        }
    }
    let Some(module) = m.modules.get(LAMBDA_MODULE) else {
        v.push(format!("{LAMBDA_MODULE} is missing"));
        return v;
    };
    let functions = resources(module, "aws_lambda_function");
    if functions.len() != 1 {
        v.push(format!("{LAMBDA_MODULE} should define one aws_lambda_function, found {}", functions.len()));
    }
    for (name, f) in functions {
        let expect = |key: &str, want: &str, v: &mut Vec<String>| {
            let got = attr(f, key).map(text).unwrap_or_default();
            if got != want {
                v.push(format!("aws_lambda_function.{name}: {key} is {got:?}, expected {want}"));
            }
        };
        expect("runtime", "\"provided.al2023\"", &mut v);
        if string_list(attr(f, "architectures")) != ["arm64"] {
            v.push(format!("aws_lambda_function.{name}: architectures is not [\"arm64\"]"));
        }
        let format = child(f, "logging_config").and_then(|l| attr(l, "log_format")).map(text);
        if format.as_deref() != Some("\"JSON\"") {
            v.push(format!("aws_lambda_function.{name}: logging_config.log_format should be \"JSON\""));
        }
        let env = child(f, "environment").and_then(|e| attr(e, "variables")).map(text);
        if env.as_deref() != Some("var.environment") {
            v.push(format!("aws_lambda_function.{name}: environment.variables should be var.environment"));
        }
        if attr(f, "source_code_hash").is_none() {
            v.push(format!("aws_lambda_function.{name}: no source_code_hash (a rebuilt zip would not deploy)"));
        }
    }
    v
}

// ------------------------------------------------------------------------------------------------
// Rule: the environment Terraform sets is what each function's config reads.

/// Names read by `env.required("..")`, `env.optional("..")` and `env.parsed_or[::<T>]("..", ..)`,
/// as (required, optional).
fn env_reads(lib_rs: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut required, mut optional) = (BTreeSet::new(), BTreeSet::new());
    for (method, is_required) in [("required", true), ("optional", false), ("parsed_or", false)] {
        let needle = format!("env.{method}");
        let mut rest = lib_rs;
        while let Some(at) = rest.find(&needle) {
            rest = &rest[at + needle.len()..];
            let mut call = rest;
            if let Some(turbofish) = call.strip_prefix("::<") {
                call = turbofish.split_once('>').map_or("", |(_, after)| after);
            }
            let Some(args) = call.strip_prefix('(') else { continue };
            let Some(quoted) = args.trim_start().strip_prefix('"') else { continue };
            let name: String = quoted.chars().take_while(|c| *c != '"').collect();
            if is_required {
                required.insert(name)
            } else {
                optional.insert(name)
            };
        }
    }
    (required, optional)
}

fn rule_env_vars_match_config(m: &Model) -> Vec<String> {
    let mut v = Vec::new();
    let modules = lambda_modules(m);
    for f in &m.functions {
        let (required, optional) = env_reads(&f.lib_rs);
        if required.is_empty() {
            v.push(format!("functions/{}/src/lib.rs: no env.required(..) found; has Config::from_env moved?", f.dir));
        }
        let Some((module, block)) =
            modules.iter().find(|(_, b)| attr(b, "function").and_then(literal_string).as_deref() == Some(&f.bin))
        else {
            continue; // rule_every_function_has_a_lambda reports it
        };
        let Some(set) = object_keys(attr(block, "environment")) else {
            v.push(format!("module.{module}: environment must be an object literal of the variables"));
            continue;
        };
        let set: BTreeSet<String> = set.into_iter().collect();
        for name in required.difference(&set) {
            v.push(format!("module.{module}: {name} is required by functions/{}/src/lib.rs but not set", f.dir));
        }
        for name in &set {
            if NEVER_SET.contains(&name.as_str()) {
                v.push(format!("module.{module}: {name} must never be set in a deployment"));
            } else if !required.contains(name) && !optional.contains(name) {
                v.push(format!("module.{module}: {name} is set but functions/{}/src/lib.rs never reads it", f.dir));
            }
        }
    }
    v
}

// ------------------------------------------------------------------------------------------------
// Rule: IAM statements name exact actions and exact resources.

/// One statement of a policy, whatever its syntax (policy document data source or jsonencode).
struct Statement {
    origin: String,
    effect: String,
    actions: Vec<String>,
    resources: Vec<Expression>,
    principals: Vec<String>,
    has_not: bool,
}

fn document_statements(origin: &str, doc: &Block, out: &mut Vec<Statement>) {
    let mut blocks: Vec<&Block> = doc.body().blocks().filter(|b| b.identifier() == "statement").collect();
    for dynamic in doc.body().blocks().filter(|b| b.identifier() == "dynamic" && labels(b) == ["statement"]) {
        blocks.extend(child(dynamic, "content"));
    }
    for (i, s) in blocks.into_iter().enumerate() {
        let sid = attr(s, "sid").and_then(literal_string).unwrap_or_else(|| format!("#{i}"));
        out.push(Statement {
            origin: format!("{origin} statement {sid}"),
            effect: attr(s, "effect").and_then(literal_string).unwrap_or_else(|| "Allow".into()),
            actions: string_list(attr(s, "actions")),
            resources: match attr(s, "resources") {
                Some(Expression::Array(items)) => items.clone(),
                Some(other) => vec![other.clone()],
                None => Vec::new(),
            },
            principals: s
                .body()
                .blocks()
                .filter(|b| b.identifier() == "principals")
                .flat_map(|p| string_list(attr(p, "identifiers")))
                .collect(),
            has_not: ["not_actions", "not_resources", "not_principals"].iter().any(|k| attr(s, k).is_some()),
        });
    }
}

/// Statements of `jsonencode({ Statement = [...] })` anywhere in `expr`.
fn json_statements(origin: &str, expr: &Expression, out: &mut Vec<Statement>) {
    let arg = json_argument(expr);
    if let Some(Expression::Array(items)) = object_get(arg, "Statement") {
        for (i, s) in items.iter().enumerate() {
            let list = |key: &str| match object_get(s, key) {
                Some(Expression::Array(items)) => items.clone(),
                Some(one) => vec![one.clone()],
                None => Vec::new(),
            };
            out.push(Statement {
                origin: format!("{origin} Statement[{i}]"),
                effect: object_get(s, "Effect").and_then(literal_string).unwrap_or_else(|| "Allow".into()),
                actions: list("Action").iter().map(|e| literal_string(e).unwrap_or_else(|| text(e))).collect(),
                resources: list("Resource"),
                principals: object_get(s, "Principal").map(text).into_iter().collect(),
                has_not: ["NotAction", "NotResource", "NotPrincipal"].iter().any(|k| object_get(s, k).is_some()),
            });
        }
    }
}

fn all_blocks(m: &Model) -> Vec<(&str, &Block)> {
    let mut out: Vec<(&str, &Block)> = m.root.iter().map(|b| ("infra", b)).collect();
    for (dir, blocks) in &m.modules {
        out.extend(blocks.iter().map(|b| (dir.as_str(), b)));
    }
    out
}

/// Every IAM statement of the configuration, and the policy documents used as KMS key policies.
fn iam_statements(m: &Model) -> (Vec<Statement>, BTreeSet<String>) {
    let mut key_policies = BTreeSet::new();
    let mut statements = Vec::new();
    for (dir, b) in all_blocks(m) {
        let name = labels(b).join(".");
        if b.identifier() == "resource" && labels(b).first() == Some(&"aws_kms_key") {
            let policy = attr(b, "policy").map(text).unwrap_or_default();
            key_policies.extend(references(&policy, "data.aws_iam_policy_document", "json"));
        }
        if b.identifier() == "data" && labels(b).first() == Some(&"aws_iam_policy_document") {
            document_statements(&format!("{dir}: data.{name}"), b, &mut statements);
        }
        for a in b.body().attributes() {
            json_statements(&format!("{dir}: {name}.{}", a.key()), a.expr(), &mut statements);
        }
    }
    (statements, key_policies)
}

fn rule_iam_scoped(m: &Model) -> Vec<String> {
    let mut v = Vec::new();
    let (statements, key_policies) = iam_statements(m);
    for s in statements {
        // A key policy's Resource "*" is the key itself; its account-root statement is what lets
        // IAM policies grant the key at all, so it must allow kms:*.
        let in_key_policy = key_policies.iter().any(|k| s.origin.contains(&format!("aws_iam_policy_document.{k} ")));
        let account_root = s.principals.iter().all(|p| p.ends_with(":root\"") || p.ends_with(":root"));
        if s.has_not {
            v.push(format!("{}: NotAction/NotResource/NotPrincipal grant everything else", s.origin));
        }
        if s.effect != "Allow" {
            continue;
        }
        for a in &s.actions {
            if a.contains('*') && !(in_key_policy && account_root && !s.principals.is_empty()) {
                v.push(format!("{}: action {a} is a wildcard; name the exact actions", s.origin));
            }
        }
        if !s.principals.is_empty() && s.resources.is_empty() {
            continue; // a trust policy (sts:AssumeRole) has no resources
        }
        if s.resources.is_empty() {
            v.push(format!("{}: no resources", s.origin));
        }
        let unscopable = !s.actions.is_empty() && s.actions.iter().all(|a| UNSCOPABLE_ACTIONS.contains(&a.as_str()));
        for r in &s.resources {
            let source = text(r);
            match r {
                Expression::String(lit) if lit == "*" && (in_key_policy || unscopable) => {}
                Expression::String(lit) if lit == "*" => {
                    v.push(format!("{}: Resource \"*\"; name the resources' ARNs", s.origin));
                }
                Expression::String(lit) if lit.contains('*') => {
                    v.push(format!("{}: resource {lit:?} has a wildcard", s.origin));
                }
                Expression::TemplateExpr(t) => {
                    let raw = match t.as_ref() {
                        TemplateExpr::QuotedString(s) => s.clone(),
                        TemplateExpr::Heredoc(h) => h.template.clone(),
                    };
                    // "${aws_cloudwatch_log_group.x.arn}:*" (the group's log streams) and
                    // "${aws_s3_bucket.x.arn}/<folder>/*" (objects under a folder: S3 names no
                    // object in advance) are the wildcards allowed, as the final character only.
                    let stripped = raw.strip_suffix(":*").filter(|rest| rest.ends_with('}')).unwrap_or(&raw);
                    let stripped = stripped
                        .strip_suffix('*')
                        .filter(|rest| {
                            rest.starts_with("${aws_s3_bucket.")
                                && rest.split_once(".arn}/").is_some_and(|(_, folder)| !folder.is_empty())
                        })
                        .unwrap_or(stripped);
                    if stripped.contains('*') {
                        v.push(format!("{}: resource {source} has a wildcard", s.origin));
                    }
                }
                _ => {}
            }
        }
    }
    v
}

// ------------------------------------------------------------------------------------------------
// Rule: every SQS event source mapping reports batch item failures.

fn rule_sqs_mappings_report_failures(m: &Model) -> Vec<String> {
    let mut v = Vec::new();
    let mappings = resources(&m.root, "aws_lambda_event_source_mapping");
    for (name, b) in mappings {
        let source = attr(b, "event_source_arn").map(text).unwrap_or_default();
        if references(&source, "aws_sqs_queue", "arn").is_empty() {
            continue;
        }
        if !string_list(attr(b, "function_response_types")).iter().any(|t| t == "ReportBatchItemFailures") {
            v.push(format!(
                "aws_lambda_event_source_mapping.{name}: function_response_types lacks ReportBatchItemFailures (one bad message would fail its whole batch)"
            ));
        }
    }
    v
}

// ------------------------------------------------------------------------------------------------
// Rule: every queue has a DLQ (or is one) and a depth alarm.

/// Queues that receive dead letters: redrive targets, dead_letter_config and on_failure
/// destinations, and the Lambda module's async failure queue.
fn dead_letter_queues(m: &Model) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    fn walk(body: &Body, out: &mut BTreeSet<String>) {
        for b in body.blocks() {
            let keys: &[&str] = match b.identifier() {
                "dead_letter_config" => &["arn", "target_arn"],
                "on_failure" => &["destination"],
                _ => &[],
            };
            for k in keys {
                if let Some(e) = attr(b, k) {
                    out.extend(references(&text(e), "aws_sqs_queue", "arn"));
                }
            }
            walk(b.body(), out);
        }
    }
    out.extend(quarantine_queues(m));
    for b in &m.root {
        walk(b.body(), &mut out);
        if b.identifier() == "module"
            && let Some(e) = attr(b, "async_failure_queue_arn")
        {
            out.extend(references(&text(e), "aws_sqs_queue", "arn"));
        }
        if let Some(target) = redrive_target(b) {
            out.extend(references(&text(target), "aws_sqs_queue", "arn"));
        }
    }
    out
}

/// Queues a function's `QUARANTINE_QUEUE_URL` names: terminal, like a DLQ, but never a redrive
/// target (what lands there cannot be processed again as it is).
fn quarantine_queues(m: &Model) -> BTreeSet<String> {
    lambda_modules(m)
        .into_iter()
        .filter_map(|(_, b)| attr(b, "environment").and_then(|e| object_get(e, "QUARANTINE_QUEUE_URL")))
        .flat_map(|e| references(&text(e), "aws_sqs_queue", "url"))
        .collect()
}

/// The `deadLetterTargetArn` of a queue's redrive policy (inline or aws_sqs_queue_redrive_policy).
fn redrive_target(b: &Block) -> Option<&Expression> {
    let kind = labels(b).first().copied();
    if b.identifier() != "resource" || !matches!(kind, Some("aws_sqs_queue" | "aws_sqs_queue_redrive_policy")) {
        return None;
    }
    object_get(json_argument(attr(b, "redrive_policy")?), "deadLetterTargetArn")
}

fn rule_queues_have_dlq_and_alarm(m: &Model) -> Vec<String> {
    let mut v = Vec::new();
    let dlqs = dead_letter_queues(m);
    let queues: Vec<&str> = resources(&m.root, "aws_sqs_queue").into_iter().map(|(n, _)| n).collect();
    // Queues that have a redrive policy, inline or as a separate resource.
    let mut redriven: BTreeMap<String, String> = BTreeMap::new();
    for (name, b) in resources(&m.root, "aws_sqs_queue") {
        if let Some(t) = redrive_target(b) {
            redriven.insert(name.to_string(), text(t));
        }
    }
    for (name, b) in resources(&m.root, "aws_sqs_queue_redrive_policy") {
        let queue = attr(b, "queue_url").map(|e| references(&text(e), "aws_sqs_queue", "id")).unwrap_or_default();
        for q in queue {
            redriven.insert(q, redrive_target(b).map(text).unwrap_or_else(|| format!("(policy {name})")));
        }
    }
    let alarms = resources(&m.root, "aws_cloudwatch_metric_alarm");
    // The orders DLQ holds only what a redrive can process: quarantined orders have their own queue.
    for q in quarantine_queues(m) {
        if redriven.values().any(|target| references(target, "aws_sqs_queue", "arn").contains(&q)) {
            v.push(format!(
                "aws_sqs_queue.{q} is the puller's quarantine and a redrive DLQ: quarantined orders would be redriven"
            ));
        }
    }
    for q in &queues {
        let is_dlq = dlqs.contains(*q);
        if !is_dlq {
            match redriven.get(*q) {
                None => v.push(format!("aws_sqs_queue.{q} has no DLQ (redrive_policy) and is no DLQ itself")),
                Some(target) => {
                    let targets = references(target, "aws_sqs_queue", "arn");
                    if !targets.iter().any(|t| queues.contains(&t.as_str())) {
                        v.push(format!("aws_sqs_queue.{q}: redrive target {target} is no queue of this configuration"));
                    }
                }
            }
        }
        // A dead-letter queue's alarm counts what is in it, or what arrives (a record such as
        // pull-failures, where messages stay 14 days and a depth alarm would never clear).
        let depth_metrics: &[&str] = if is_dlq {
            &["ApproximateNumberOfMessagesVisible", "NumberOfMessagesSent"]
        } else {
            &["ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"]
        };
        let alarmed = alarms.iter().any(|(_, a)| {
            attr(a, "namespace").and_then(literal_string).as_deref() == Some("AWS/SQS")
                && attr(a, "metric_name").and_then(literal_string).is_some_and(|n| depth_metrics.contains(&n.as_str()))
                && attr(a, "dimensions")
                    .and_then(|d| object_get(d, "QueueName"))
                    .is_some_and(|e| references(&text(e), "aws_sqs_queue", "name").contains(*q))
                && !string_list(attr(a, "alarm_actions")).is_empty()
        });
        if !alarmed {
            v.push(format!(
                "aws_sqs_queue.{q} has no depth alarm with an action ({} on AWS/SQS, QueueName = aws_sqs_queue.{q}.name)",
                depth_metrics.join(" or ")
            ));
        }
    }
    v
}

// ------------------------------------------------------------------------------------------------
// Rule: a queue's visibility timeout is at least 6 × its consumer's timeout (+ batching window).

/// The Lambda module instance a mapping's function_name points at.
fn consumer<'a>(m: &'a Model, mapping: &Block) -> Option<(&'a str, &'a Block)> {
    let target = attr(mapping, "function_name").map(text).unwrap_or_default();
    lambda_modules(m).into_iter().find(|(name, _)| {
        references(&target, "module", "arn").contains(*name)
            || references(&target, "module", "function_name").contains(*name)
    })
}

fn rule_visibility_covers_consumer(m: &Model) -> Vec<String> {
    let mut v = Vec::new();
    let ctx = context(&m.root);
    let queues = resources(&m.root, "aws_sqs_queue");
    for (name, mapping) in resources(&m.root, "aws_lambda_event_source_mapping") {
        let source = attr(mapping, "event_source_arn").map(text).unwrap_or_default();
        let Some(queue) = references(&source, "aws_sqs_queue", "arn").into_iter().next() else { continue };
        let Some((_, q)) = queues.iter().find(|(n, _)| *n == queue) else {
            v.push(format!("aws_lambda_event_source_mapping.{name}: queue {queue} is not defined"));
            continue;
        };
        let Some((module, f)) = consumer(m, mapping) else {
            v.push(format!("aws_lambda_event_source_mapping.{name}: function_name is no Lambda module"));
            continue;
        };
        let window = match attr(mapping, "maximum_batching_window_in_seconds") {
            None => Ok(0.0),
            some => number(&ctx, some),
        };
        let visibility = match attr(q, "visibility_timeout_seconds") {
            None => Ok(30.0), // the SQS default
            some => number(&ctx, some),
        };
        match (number(&ctx, attr(f, "timeout")), window, visibility) {
            (Ok(timeout), Ok(window), Ok(visibility)) => {
                if visibility < 6.0 * timeout + window {
                    v.push(format!(
                        "aws_sqs_queue.{queue}: visibility timeout {visibility} s is under 6 × module.{module} timeout {timeout} s + batching window {window} s"
                    ));
                }
            }
            (t, w, vis) => {
                for e in [t.err(), w.err(), vis.err()].into_iter().flatten() {
                    v.push(format!("aws_lambda_event_source_mapping.{name}: {e}"));
                }
            }
        }
    }
    v
}

// ------------------------------------------------------------------------------------------------
// Rule: the notifier's lease and the puller's page budget fit the timeouts around them.

fn module_env<'a>(m: &'a Model, function: &str, var: &str) -> Option<(&'a str, &'a Block, &'a Expression)> {
    lambda_modules(m).into_iter().find_map(|(name, b)| {
        (attr(b, "function").and_then(literal_string).as_deref() == Some(function))
            .then(|| attr(b, "environment").and_then(|e| object_get(e, var)).map(|e| (name, b, e)))
            .flatten()
    })
}

fn rule_timing_fits(m: &Model) -> Vec<String> {
    let mut v = Vec::new();
    let ctx = context(&m.root);
    // The notifier's claim must outlive an invocation and end before SQS hands the job out again.
    if let Some((module, notifier, lease)) = module_env(m, "notifier", "LEASE_SECONDS") {
        let mapping = resources(&m.root, "aws_lambda_event_source_mapping")
            .into_iter()
            .find(|(_, b)| consumer(m, b).is_some_and(|(n, _)| n == module));
        let queue = mapping
            .and_then(|(_, b)| attr(b, "event_source_arn"))
            .and_then(|e| references(&text(e), "aws_sqs_queue", "arn").into_iter().next());
        let visibility = queue
            .as_ref()
            .and_then(|q| resources(&m.root, "aws_sqs_queue").into_iter().find(|(n, _)| n == q).map(|(_, b)| b));
        match (number(&ctx, Some(lease)), number(&ctx, attr(notifier, "timeout")), visibility) {
            (Ok(lease), Ok(timeout), Some(q)) => {
                let visibility = number(&ctx, attr(q, "visibility_timeout_seconds")).unwrap_or(30.0);
                if lease <= timeout || lease >= visibility {
                    v.push(format!(
                        "module.{module}: LEASE_SECONDS {lease} must be over the timeout {timeout} and under the mail queue's visibility timeout {visibility}"
                    ));
                }
            }
            (l, t, q) => v.push(format!(
                "module.{module}: cannot compare LEASE_SECONDS with the timeouts ({:?}, {:?}, queue found: {})",
                l.err(),
                t.err(),
                q.is_some()
            )),
        }
    }
    // A run starts pages only while PAGE_BUDGET_SECONDS are left: the timeout must leave time for pages.
    if let Some((module, puller, budget)) = module_env(m, "puller", "PAGE_BUDGET_SECONDS") {
        match (number(&ctx, Some(budget)), number(&ctx, attr(puller, "timeout"))) {
            (Ok(budget), Ok(timeout)) if timeout < 2.0 * budget => v.push(format!(
                "module.{module}: timeout {timeout} s leaves no room for pages with PAGE_BUDGET_SECONDS {budget} (want at least twice)"
            )),
            (Ok(_), Ok(_)) => {}
            (b, t) => v.push(format!("module.{module}: {:?} {:?}", b.err(), t.err())),
        }
    }
    v
}

// ------------------------------------------------------------------------------------------------
// Rule: the table is the one crates/aws/src/table.rs creates, with PITR, a CMK and TTL.

fn rule_table_matches_code(m: &Model) -> Vec<String> {
    let mut v = Vec::new();
    let tables = resources(&m.root, "aws_dynamodb_table");
    let [(name, t)] = tables.as_slice() else {
        return vec![format!("expected one aws_dynamodb_table, found {}", tables.len())];
    };
    let s = |b: &Block, k: &str| attr(b, k).and_then(literal_string);
    let mut expect = |what: &str, got: Option<String>, want: &str| {
        if got.as_deref() != Some(want) {
            v.push(format!("aws_dynamodb_table.{name}: {what} is {got:?}, the code uses {want:?}"));
        }
    };
    expect("billing_mode", s(t, "billing_mode"), "PAY_PER_REQUEST");
    expect("hash_key", s(t, "hash_key"), table::PK);
    expect("range_key", s(t, "range_key"), table::SK);
    let gsis: Vec<&Block> = t.body().blocks().filter(|b| b.identifier() == "global_secondary_index").collect();
    let mut projections = Vec::new();
    for (index, hash, range, projection) in [
        (table::BY_STATUS, table::GSI1PK, table::GSI1SK, "ALL"),
        (table::BY_BUNDLE, table::GSI2PK, table::GSI2SK, "KEYS_ONLY"),
        (table::BY_TIME, table::PK, table::GSI1SK, "INCLUDE"),
        (table::BY_TAB, table::GSI3PK, table::GSI1SK, "INCLUDE"),
    ] {
        match gsis.iter().find(|g| s(g, "name").as_deref() == Some(index)) {
            None => expect("global_secondary_index", None, index),
            Some(g) => {
                expect(&format!("{index}.hash_key"), s(g, "hash_key"), hash);
                expect(&format!("{index}.range_key"), s(g, "range_key"), range);
                expect(&format!("{index}.projection_type"), s(g, "projection_type"), projection);
                if projection == "INCLUDE" {
                    let projected = string_list(attr(g, "non_key_attributes"));
                    if projected != table::LIST_ATTRIBUTES {
                        projections.push(format!(
                            "aws_dynamodb_table.{name}: {index}.non_key_attributes are {projected:?}, the code uses {:?}",
                            table::LIST_ATTRIBUTES
                        ));
                    }
                }
            }
        }
    }
    if gsis.len() != 4 {
        expect("number of GSIs", Some(gsis.len().to_string()), "4");
    }
    let attributes: BTreeMap<String, String> = t
        .body()
        .blocks()
        .filter(|b| b.identifier() == "attribute")
        .filter_map(|a| Some((s(a, "name")?, s(a, "type")?)))
        .collect();
    for key in table::KEY_ATTRIBUTES {
        expect(&format!("attribute {key}"), attributes.get(key).cloned(), "S");
    }
    let ttl = child(t, "ttl");
    expect("ttl.attribute_name", ttl.and_then(|b| s(b, "attribute_name")), table::EXPIRES_AT);
    expect("ttl.enabled", ttl.and_then(|b| attr(b, "enabled")).map(text), "true");
    expect(
        "point_in_time_recovery.enabled",
        child(t, "point_in_time_recovery").and_then(|b| attr(b, "enabled")).map(text),
        "true",
    );
    v.extend(projections);
    v
}

// ------------------------------------------------------------------------------------------------
// Rule: what Terraform writes for the code to read decodes as the code's types: each schedule's
// payload as the puller's PullEvent, each shop settings item as ShopSettings.

fn sample_context(m: &Model, each: Value) -> Context<'static> {
    let mut ctx = context(&m.root);
    ctx.declare_var("each", each);
    ctx
}

fn dynamo_json(v: &serde_json::Value) -> Result<AttributeValue, String> {
    let obj = v.as_object().filter(|o| o.len() == 1).ok_or_else(|| format!("not a typed attribute: {v}"))?;
    let (ty, inner) = obj.iter().next().unwrap();
    Ok(match (ty.as_str(), inner) {
        ("S", serde_json::Value::String(s)) => AttributeValue::S(s.clone()),
        ("N", serde_json::Value::String(n)) => AttributeValue::N(n.clone()),
        ("BOOL", serde_json::Value::Bool(b)) => AttributeValue::Bool(*b),
        ("NULL", _) => AttributeValue::Null(true),
        ("L", serde_json::Value::Array(items)) => {
            AttributeValue::L(items.iter().map(dynamo_json).collect::<Result<_, _>>()?)
        }
        ("M", serde_json::Value::Object(map)) => {
            AttributeValue::M(map.iter().map(|(k, v)| Ok((k.clone(), dynamo_json(v)?))).collect::<Result<_, String>>()?)
        }
        ("SS", serde_json::Value::Array(items)) => {
            AttributeValue::Ss(items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect())
        }
        _ => return Err(format!("unsupported attribute {ty}: {inner}")),
    })
}

fn rule_payloads_decode(m: &Model) -> Vec<String> {
    let mut v = Vec::new();
    let schedules = resources(&m.root, "aws_scheduler_schedule");
    if schedules.is_empty() {
        v.push("no aws_scheduler_schedule: nothing invokes the puller".into());
    }
    for (name, s) in schedules {
        let target = child(s, "target").and_then(|t| attr(t, "arn")).map(text).unwrap_or_default();
        let function = references(&target, "module", "arn").iter().find_map(|n| {
            lambda_modules(m)
                .iter()
                .find(|(mn, _)| mn == n)
                .and_then(|(_, b)| attr(b, "function").and_then(literal_string))
        });
        let Some(input) = child(s, "target").and_then(|t| attr(t, "input")) else {
            v.push(format!("aws_scheduler_schedule.{name}: target has no input"));
            continue;
        };
        match function.as_deref() {
            Some("puller") => {
                let each = hcl::value!({ key = "shop-1/rakuten", value = {
                    key = "shop-1/rakuten", shop_id = "shop-1", marketplace = "rakuten",
                    pull_interval_minutes = 5, enabled = true
                } });
                match input.evaluate(&sample_context(m, each)) {
                    Ok(Value::String(json)) => match serde_json::from_str::<ichigen_puller::PullerEvent>(&json) {
                        Ok(ichigen_puller::PullerEvent::Pull(event))
                            if event.shop_id == "shop-1" && event.marketplace == ichigen_core::Marketplace::Rakuten => {
                        }
                        Ok(ichigen_puller::PullerEvent::Check(_)) if attr(s, "for_each").is_none() => {}
                        Ok(event) => {
                            v.push(format!("aws_scheduler_schedule.{name}: input names another pair: {event:?}"))
                        }
                        Err(e) => v.push(format!(
                            "aws_scheduler_schedule.{name}: input {json} is no PullEvent or CheckEvent: {e}"
                        )),
                    },
                    other => v.push(format!(
                        "aws_scheduler_schedule.{name}: input does not evaluate to JSON text: {other:?}"
                    )),
                }
            }
            // A shop's digest schedule: for_each over the shops, the shop's own id in the event.
            Some("notifier") => {
                let each = hcl::value!({ key = "shop-1", value = { shop_name = "いちげん商店" } });
                match input.evaluate(&sample_context(m, each)) {
                    Ok(Value::String(json)) => match serde_json::from_str::<ichigen_notifier::DigestEvent>(&json) {
                        Ok(event) if event.digest == "shop-1" && attr(s, "for_each").is_some() => {}
                        Ok(event) => {
                            v.push(format!("aws_scheduler_schedule.{name}: input names another shop: {event:?}"))
                        }
                        Err(e) => v.push(format!("aws_scheduler_schedule.{name}: input {json} is no DigestEvent: {e}")),
                    },
                    other => v.push(format!(
                        "aws_scheduler_schedule.{name}: input does not evaluate to JSON text: {other:?}"
                    )),
                }
            }
            _ => v.push(format!("aws_scheduler_schedule.{name}: target is not the puller's or notifier's module ARN")),
        }
    }
    for (name, item) in resources(&m.root, "aws_dynamodb_table_item") {
        // `ichigen shop` owns templates, contact and the payment mail: Terraform creates the item
        // and must not write it again (an apply would put back what the shop replaced).
        let ignores_item = item.body().blocks().filter(|b| b.identifier() == "lifecycle").any(|l| {
            attr(l, "ignore_changes")
                .is_some_and(|e| text(e).split(|c: char| !c.is_alphanumeric() && c != '_').any(|w| w == "item"))
        });
        if !ignores_item {
            v.push(format!(
                "aws_dynamodb_table_item.{name}: no lifecycle ignore_changes = [item]: an apply would overwrite what `ichigen shop` set"
            ));
        }
        let each = hcl::value!({ key = "shop-1", value = {
            shop_name = "テスト商店", mail_from = "shop@example.jp", staff_to = ["staff@example.jp"],
            rules = "", signature = "テスト商店\n03-0000-0000", reply_to = "support@example.jp", marketplaces = {}
        } });
        let ctx = sample_context(m, each);
        let json = match attr(item, "item").map(|e| e.evaluate(&ctx)) {
            Some(Ok(Value::String(json))) => json,
            other => {
                v.push(format!("aws_dynamodb_table_item.{name}: item does not evaluate to JSON text: {other:?}"));
                continue;
            }
        };
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        let mut attributes: HashMap<String, AttributeValue> = HashMap::new();
        for (k, val) in parsed.as_object().into_iter().flatten() {
            match dynamo_json(val) {
                Ok(a) => {
                    attributes.insert(k.clone(), a);
                }
                Err(e) => v.push(format!("aws_dynamodb_table_item.{name}: {k}: {e}")),
            }
        }
        let key = |k: &str| match attributes.get(k) {
            Some(AttributeValue::S(s)) => Some(s.clone()),
            _ => None,
        };
        if key(table::PK) != Some(table::shop_pk("shop-1")) || key(table::SK).as_deref() != Some(table::SETTINGS_SK) {
            v.push(format!(
                "aws_dynamodb_table_item.{name}: key is {:?}/{:?}, the code reads {}/{}",
                key(table::PK),
                key(table::SK),
                table::shop_pk("shop-1"),
                table::SETTINGS_SK
            ));
        }
        for owned in ["templates", "contact", "payment_mail"] {
            if attributes.contains_key(owned) {
                v.push(format!("aws_dynamodb_table_item.{name}: writes {owned}, which `ichigen shop` owns"));
            }
        }
        for k in table::KEY_ATTRIBUTES {
            attributes.remove(k);
        }
        match serde_dynamo::from_item::<_, ichigen_core::pipeline::ShopSettings>(attributes) {
            Ok(settings) => {
                if settings.shop_id != "shop-1"
                    || settings.mail_from != "shop@example.jp"
                    || settings.reply_to.as_deref() != Some("support@example.jp")
                    || settings.staff_to != ["staff@example.jp"]
                {
                    v.push(format!("aws_dynamodb_table_item.{name}: decodes to other values: {settings:?}"));
                }
            }
            Err(e) => v.push(format!("aws_dynamodb_table_item.{name}: item is no ShopSettings: {e}")),
        }
    }
    v
}

// ------------------------------------------------------------------------------------------------
// Rule: the standard module structure, pinned versions and default tags.

fn rule_standard_structure(s: &Sources, m: &Model) -> Vec<String> {
    let mut v = Vec::new();
    for file in ["versions.tf", "providers.tf", "variables.tf", "outputs.tf", "main.tf"] {
        if !s.tf.contains_key(file) {
            v.push(format!("infra/{file} is missing"));
        }
    }
    if !repo_root().join("infra/README.md").is_file() {
        v.push("infra/README.md is missing".into());
    }
    let terraform: Vec<&Block> = m.root.iter().filter(|b| b.identifier() == "terraform").collect();
    let required_version = terraform.iter().find_map(|b| attr(b, "required_version")).and_then(literal_string);
    if required_version.is_none() {
        v.push("terraform.required_version is not pinned".into());
    }
    let aws = terraform
        .iter()
        .filter_map(|b| child(b, "required_providers"))
        .find_map(|p| attr(p, "aws"))
        .and_then(|a| object_get(a, "version"))
        .and_then(literal_string);
    // Bounded above (a new major version can change or drop attributes), and admitting the
    // mirrored 5.100 that scripts/terraform-check runs with.
    if !aws.as_ref().is_some_and(|a| a.starts_with("~>") || a.starts_with('=') || a.contains('<')) {
        v.push(format!("the aws provider version is not pinned (~>, = or an upper bound <): {aws:?}"));
    }
    let provider = m.root.iter().find(|b| b.identifier() == "provider" && labels(b) == ["aws"]);
    if provider.and_then(|p| child(p, "default_tags")).is_none() {
        v.push("provider \"aws\" has no default_tags".into());
    }
    for (name, b) in resources(&m.root, "aws_cloudwatch_log_group")
        .into_iter()
        .chain(m.modules.values().flat_map(|blocks| resources(blocks, "aws_cloudwatch_log_group")))
    {
        if attr(b, "retention_in_days").is_none() {
            v.push(format!("aws_cloudwatch_log_group.{name} keeps logs forever (no retention_in_days)"));
        }
    }
    v
}

// ------------------------------------------------------------------------------------------------
// Rule: no customer managed key unless the operator opts in (var.customer_managed_key, default
// false): every aws_kms_key is counted on it, every use of a key goes through local.kms_key_arn
// (null when off), and every IAM grant of kms:* actions sits in a dynamic block that exists only
// when the key does.

const OPT_IN: &str = "var.customer_managed_key";

/// Expressions of every attribute in `body` and its nested blocks, with the attribute key.
fn all_attributes(body: &Body) -> Vec<(String, &Expression)> {
    let mut out: Vec<(String, &Expression)> = body.attributes().map(|a| (a.key().to_string(), a.expr())).collect();
    for b in body.blocks() {
        out.extend(all_attributes(b.body()));
    }
    out
}

fn rule_no_customer_key_unless_opted_in(m: &Model) -> Vec<String> {
    let mut v = Vec::new();
    let default = m
        .root
        .iter()
        .find(|b| b.identifier() == "variable" && labels(b) == ["customer_managed_key"])
        .and_then(|b| attr(b, "default"))
        .map(text);
    if default.as_deref() != Some("false") {
        v.push(format!("variable customer_managed_key must default to false, found {default:?}"));
    }
    for (dir, b) in all_blocks(m) {
        let name = labels(b).join(".");
        if b.identifier() == "resource" && labels(b).first() == Some(&"aws_kms_key") {
            let count = attr(b, "count").map(text).unwrap_or_default();
            if !count.contains(OPT_IN) {
                v.push(format!("{dir}: resource.{name} exists without the opt-in (count on {OPT_IN})"));
            }
        }
        // Only the local that switches on the opt-in may name the key itself.
        if b.identifier() == "locals" {
            for a in b.body().attributes() {
                let source = text(a.expr());
                if source.contains("aws_kms_key.") && !(a.key() == "kms_key_arn" && source.contains(OPT_IN)) {
                    v.push(format!("{dir}: local.{} uses a KMS key outside local.kms_key_arn", a.key()));
                }
            }
            continue;
        }
        if b.identifier() == "resource" && labels(b).first().is_some_and(|k| k.starts_with("aws_kms_")) {
            continue;
        }
        for (key, expr) in all_attributes(b.body()) {
            if text(expr).contains("aws_kms_key.") {
                v.push(format!(
                    "{dir}: {name}.{key} names a KMS key directly; use local.kms_key_arn (null unless opted in)"
                ));
            }
        }
    }
    // IAM grants of kms:* actions: only in dynamic statements that exist with the key.
    for (dir, b) in all_blocks(m) {
        if !(b.identifier() == "data" && labels(b).first() == Some(&"aws_iam_policy_document")) {
            continue;
        }
        let name = labels(b).join(".");
        if resources(&m.root, "aws_kms_key").iter().any(|(_, k)| {
            references(&attr(k, "policy").map(text).unwrap_or_default(), "data.aws_iam_policy_document", "json")
                .contains(labels(b)[1])
        }) {
            continue; // the key's own policy
        }
        let grants_kms = |s: &Block| string_list(attr(s, "actions")).iter().any(|a| a.starts_with("kms:"));
        for s in b.body().blocks().filter(|s| s.identifier() == "statement") {
            if grants_kms(s) {
                v.push(format!(
                    "{dir}: data.{name} grants {:?} always; put it in a dynamic statement on {OPT_IN}",
                    string_list(attr(s, "actions"))
                ));
            }
        }
        for d in b.body().blocks().filter(|d| d.identifier() == "dynamic") {
            if child(d, "content").is_some_and(grants_kms)
                && !attr(d, "for_each").map(text).unwrap_or_default().contains(OPT_IN)
            {
                v.push(format!(
                    "{dir}: data.{name} grants kms: actions in a dynamic statement not switched by {OPT_IN}"
                ));
            }
        }
    }
    v
}

// ------------------------------------------------------------------------------------------------
// Rule: marketplace credentials are SSM SecureString parameters, one per shop × marketplace
// (standard tier, value never managed by Terraform), read by the puller with ssm:GetParameter on
// exactly those parameters' ARNs, and by the notifier (relay settings) on the 楽天 / au PAY ones
// only; the console's own cookie key is a SecureString of its own (value never managed by
// Terraform either), read by the console alone; no Secrets Manager left.

fn rule_credentials_scoped_per_pair(m: &Model) -> Vec<String> {
    let mut v = Vec::new();
    let params = resources(&m.root, "aws_ssm_parameter");
    let secure: Vec<(&str, &Block)> = params
        .iter()
        .copied()
        .filter(|(_, p)| attr(p, "type").and_then(literal_string).as_deref() == Some("SecureString"))
        .collect();
    let is_console = |p: &Block| attr(p, "name").map(text).is_some_and(|n| n.starts_with("local.console_"));
    let credentials: Vec<(&str, &Block)> = secure.iter().copied().filter(|(_, p)| !is_console(p)).collect();
    for (name, p) in secure.iter().filter(|(_, p)| is_console(p)) {
        let ignored = child(p, "lifecycle").map(|l| string_list(attr(l, "ignore_changes"))).unwrap_or_default();
        let value = attr(p, "value").map(text).unwrap_or_default();
        if !ignored.iter().any(|i| i == "value") || !value.starts_with("local.") {
            v.push(format!(
                "aws_ssm_parameter.{name}: the console's key is a placeholder local with ignore_changes = [value] (never through Terraform)"
            ));
        }
    }
    if credentials.is_empty() {
        v.push("no SecureString aws_ssm_parameter: where are the marketplace credentials?".into());
    }
    for (name, p) in &credentials {
        let mut expect = |what: &str, ok: bool| {
            if !ok {
                v.push(format!("aws_ssm_parameter.{name}: {what}"));
            }
        };
        expect(
            "for_each must be local.pairs (one per shop × marketplace)",
            attr(p, "for_each").map(text).as_deref() == Some("local.pairs"),
        );
        expect(
            "tier must be \"Standard\" (free)",
            attr(p, "tier").and_then(literal_string).as_deref() == Some("Standard"),
        );
        let name_text = attr(p, "name").map(text).unwrap_or_default();
        expect(
            "name must be \"${local.secret_prefix}${each.value.shop_id}/${each.value.marketplace}\" (what the puller reads)",
            name_text == "\"${local.secret_prefix}${each.value.shop_id}/${each.value.marketplace}\"",
        );
        let ignored = child(p, "lifecycle").map(|l| string_list(attr(l, "ignore_changes"))).unwrap_or_default();
        expect(
            "lifecycle.ignore_changes must hold value (the credentials never pass through Terraform)",
            ignored.iter().any(|i| i == "value"),
        );
        let value = attr(p, "value").map(text).unwrap_or_default();
        expect("value must be a placeholder local, never a variable", !value.contains("var."));
    }
    for function in ["puller", "notifier"] {
        if let Some((_, _, prefix)) = module_env(m, function, "SECRET_PREFIX")
            && text(prefix) != "local.secret_prefix"
        {
            v.push(format!(
                "module.{function}: SECRET_PREFIX is {}, the parameters are named after local.secret_prefix",
                text(prefix)
            ));
        }
    }
    // The expiry records: plain String parameters beside the credentials, the only ones that may
    // be listed by path (they hold dates, no secret).
    let records: Vec<&str> = params
        .iter()
        .filter(|(_, p)| attr(p, "type").and_then(literal_string).as_deref() == Some("String"))
        .map(|(name, _)| *name)
        .collect();
    let (statements, _) = iam_statements(m);
    for s in &statements {
        for a in &s.actions {
            if a.starts_with("secretsmanager:") {
                v.push(format!("{}: {a}: the credentials are in SSM Parameter Store now", s.origin));
            }
        }
        let ssm: Vec<&String> = s.actions.iter().filter(|a| a.starts_with("ssm:")).collect();
        if ssm.is_empty() {
            continue;
        }
        let resources: Vec<String> = s.resources.iter().map(text).collect();
        if s.origin.contains("aws_iam_policy_document.console ") {
            // The console reads its own two parameters (by name), nothing else: its mails go on the
            // notifier's queue, and the notifier reads the relay settings.
            let own = resources
                .iter()
                .all(|r| r.contains("local.console_client_parameter") || r.contains("local.console_cookie_parameter"));
            if s.actions.iter().any(|a| a != "ssm:GetParameter") || resources.is_empty() || !own {
                v.push(format!(
                    "{}: the console reads (ssm:GetParameter) its own parameters only, found {resources:?}",
                    s.origin
                ));
            }
            continue;
        }
        if s.origin.contains("aws_iam_policy_document.notifier ") {
            // The notifier reads the relay settings kept in the 楽天 / au PAY credentials: read only, those pairs only.
            if s.actions.iter().any(|a| a != "ssm:GetParameter") {
                v.push(format!("{}: the notifier only reads relay settings (ssm:GetParameter)", s.origin));
            }
            let exact = resources.len() == 1
                && credentials.iter().any(|(name, _)| {
                    resources[0] == format!("[for key, pair in local.relay_pairs : aws_ssm_parameter.{name}[key].arn]")
                });
            if !exact {
                v.push(format!(
                    "{}: resources must be exactly the relay marketplaces' credential ARNs ([for key, pair in local.relay_pairs : aws_ssm_parameter.<credentials>[key].arn]), found {resources:?}",
                    s.origin
                ));
            }
            continue;
        }
        if !s.origin.contains("aws_iam_policy_document.puller ") {
            v.push(format!("{}: only the puller and the notifier (relay settings) read credentials", s.origin));
            continue;
        }
        let exactly = |names: &[&str]| {
            resources.len() == 1
                && names.iter().any(|name| resources[0] == format!("[for pair in aws_ssm_parameter.{name} : pair.arn]"))
        };
        if ssm.iter().any(|a| *a == "ssm:GetParametersByPath") {
            // Listing by path: the expiry records' path alone, never the credentials'.
            let on_records = resources.len() == 1 && resources[0].contains("local.expiry_prefix");
            if ssm.len() != 1 || !on_records {
                v.push(format!(
                    "{}: ssm:GetParametersByPath: the puller needs it alone, on the expiry records' path (local.expiry_prefix), found {:?} on {resources:?}",
                    s.origin, ssm
                ));
            }
            continue;
        }
        for a in &ssm {
            if *a != "ssm:GetParameter" && *a != "ssm:PutParameter" {
                v.push(format!(
                    "{}: {a}: the puller needs ssm:GetParameter (and PutParameter for a rotated token) only",
                    s.origin
                ));
            }
        }
        let names: Vec<&str> = credentials.iter().map(|(name, _)| *name).collect();
        if !exactly(&names) && !exactly(&records) {
            v.push(format!(
                "{}: resources must be exactly the credential parameters' ARNs ([for pair in aws_ssm_parameter.<credentials> : pair.arn]) or the expiry records', found {resources:?}",
                s.origin,
            ));
        }
    }
    v
}

// ------------------------------------------------------------------------------------------------
// Rule: the alarms that need a person are there, each with an action: dead letters and
// quarantine (rule_queues_have_dlq_and_alarm), the age of each consumed queue, pull failures
// that persist (N of M periods, not one blip), SES bounce and complaint rates; and a budget.

fn alarm_on<'a>(m: &'a Model, namespace: &str, metric: &str) -> Vec<(&'a str, &'a Block)> {
    resources(&m.root, "aws_cloudwatch_metric_alarm")
        .into_iter()
        .filter(|(_, a)| {
            attr(a, "namespace").and_then(literal_string).as_deref() == Some(namespace)
                && attr(a, "metric_name").and_then(literal_string).as_deref() == Some(metric)
                && !string_list(attr(a, "alarm_actions")).is_empty()
        })
        .collect()
}

fn rule_required_alarms(m: &Model) -> Vec<String> {
    let mut v = Vec::new();
    let ctx = context(&m.root);
    for metric in ["Reputation.BounceRate", "Reputation.ComplaintRate"] {
        if alarm_on(m, "AWS/SES", metric).is_empty() {
            v.push(format!("no alarm with an action on AWS/SES {metric}"));
        }
    }
    let aged: BTreeSet<String> = alarm_on(m, "AWS/SQS", "ApproximateAgeOfOldestMessage")
        .iter()
        .filter_map(|(_, a)| attr(a, "dimensions").and_then(|d| object_get(d, "QueueName")))
        .flat_map(|e| references(&text(e), "aws_sqs_queue", "name"))
        .collect();
    for (name, mapping) in resources(&m.root, "aws_lambda_event_source_mapping") {
        for q in references(&attr(mapping, "event_source_arn").map(text).unwrap_or_default(), "aws_sqs_queue", "arn") {
            if !aged.contains(&q) {
                v.push(format!("aws_sqs_queue.{q} (consumed by {name}) has no ApproximateAgeOfOldestMessage alarm"));
            }
        }
    }
    // Pull failures: the puller's failure destination must be alarmed on arrivals over N of M periods.
    let failure_queues: BTreeSet<String> = lambda_modules(m)
        .into_iter()
        .filter(|(_, b)| attr(b, "function").and_then(literal_string).as_deref() == Some("puller"))
        .filter_map(|(_, b)| attr(b, "async_failure_queue_arn"))
        .flat_map(|e| references(&text(e), "aws_sqs_queue", "arn"))
        .collect();
    if failure_queues.is_empty() {
        v.push("the puller has no async_failure_queue_arn: failed pulls go nowhere".into());
    }
    for q in failure_queues {
        let alarms: Vec<_> = alarm_on(m, "AWS/SQS", "NumberOfMessagesSent")
            .into_iter()
            .filter(|(_, a)| {
                attr(a, "dimensions")
                    .and_then(|d| object_get(d, "QueueName"))
                    .is_some_and(|e| references(&text(e), "aws_sqs_queue", "name").contains(&q))
            })
            .collect();
        if alarms.is_empty() {
            v.push(format!("no NumberOfMessagesSent alarm on aws_sqs_queue.{q} (persistent pull failures)"));
        }
        for (name, a) in alarms {
            let evaluation = number(&ctx, attr(a, "evaluation_periods"));
            let datapoints = match attr(a, "datapoints_to_alarm") {
                None => evaluation.clone(),
                some => number(&ctx, some),
            };
            match (evaluation, datapoints) {
                (Ok(e), Ok(d)) if d >= 2.0 && d <= e => {}
                (e, d) => v.push(format!(
                    "aws_cloudwatch_metric_alarm.{name}: fires on one blip (datapoints_to_alarm {d:?} of evaluation_periods {e:?}); want N ≥ 2 of M"
                )),
            }
        }
    }
    let budgets = resources(&m.root, "aws_budgets_budget");
    if budgets.is_empty() {
        v.push("no aws_budgets_budget: nobody hears of a bill that grows".into());
    }
    for (name, b) in budgets {
        let notified = b.body().blocks().filter(|n| n.identifier() == "notification").any(|n| {
            !string_list(attr(n, "subscriber_sns_topic_arns")).is_empty()
                || attr(n, "subscriber_email_addresses").is_some()
        });
        if !notified {
            v.push(format!("aws_budgets_budget.{name} notifies nobody"));
        }
    }
    v
}

// ------------------------------------------------------------------------------------------------
// The real configuration passes every rule.

fn assert_clean(rule: &str, violations: Vec<String>) {
    assert!(violations.is_empty(), "{rule}:\n  {}", violations.join("\n  "));
}

#[test]
fn infra_follows_every_rule() {
    let s = Sources::load();
    let m = s.model();
    assert_clean("every function has a Lambda", rule_every_function_has_a_lambda(&m));
    assert_clean("env vars match the configs", rule_env_vars_match_config(&m));
    assert_clean("IAM scoped", rule_iam_scoped(&m));
    assert_clean("SQS mappings report failures", rule_sqs_mappings_report_failures(&m));
    assert_clean("queues have a DLQ and a depth alarm", rule_queues_have_dlq_and_alarm(&m));
    assert_clean("visibility ≥ 6 × timeout", rule_visibility_covers_consumer(&m));
    assert_clean("timing fits", rule_timing_fits(&m));
    assert_clean("table matches the code", rule_table_matches_code(&m));
    assert_clean("payloads decode", rule_payloads_decode(&m));
    assert_clean("standard structure", rule_standard_structure(&s, &m));
    assert_clean("no customer key unless opted in", rule_no_customer_key_unless_opted_in(&m));
    assert_clean("credentials scoped per pair", rule_credentials_scoped_per_pair(&m));
    assert_clean("required alarms", rule_required_alarms(&m));
}

#[test]
fn the_rules_see_what_they_check() {
    // Guards against a rule passing because it found nothing to look at.
    let s = Sources::load();
    let m = s.model();
    assert_eq!(lambda_modules(&m).len(), s.functions.len());
    let bins: BTreeSet<&str> = s.functions.iter().map(|f| f.bin.as_str()).collect();
    assert!(bins.is_superset(&BTreeSet::from(["puller", "processor", "notifier", "importer"])), "{bins:?}");
    assert_eq!(resources(&m.root, "aws_lambda_event_source_mapping").len(), 4);
    assert!(resources(&m.root, "aws_sqs_queue").len() >= 4);
    assert!(dead_letter_queues(&m).len() >= 2, "{:?}", dead_letter_queues(&m));
    let (required, optional) = env_reads(&s.functions.iter().find(|f| f.bin == "puller").unwrap().lib_rs);
    assert_eq!(
        required,
        BTreeSet::from(
            [
                "TABLE_NAME",
                "ORDERS_QUEUE_URL",
                "QUARANTINE_QUEUE_URL",
                "MAIL_QUEUE_URL",
                "SECRET_PREFIX",
                "CREDENTIAL_EXPIRY_PREFIX",
                "NOTICE_TOPIC_ARN"
            ]
            .map(String::from)
        )
    );
    assert!(optional.contains("FIRST_LOOKBACK_HOURS") && optional.contains("RATE_SCALE"), "{optional:?}");
    assert!(optional.contains("FOLLOW_UP_QUEUE_URL") && optional.contains("FOLLOW_UP_GAP_SECONDS"), "{optional:?}");
    let (statements, key_policies) = iam_statements(&m);
    assert!(statements.len() >= 15, "{} IAM statements found", statements.len());
    assert_eq!(key_policies, BTreeSet::from(["kms".to_string()]));
    let ctx = context(&m.root);
    let orders = resources(&m.root, "aws_sqs_queue").into_iter().find(|(n, _)| *n == "orders").unwrap().1;
    assert_eq!(number(&ctx, attr(orders, "visibility_timeout_seconds")), Ok(185.0));
}

// ------------------------------------------------------------------------------------------------
// Each rule catches a deliberate break of a copy.

fn violations_of(rule: fn(&Model) -> Vec<String>, s: Sources) -> Vec<String> {
    rule(&s.model())
}

fn assert_caught(violations: Vec<String>, expect: &str) {
    assert!(
        violations.iter().any(|v| v.contains(expect)),
        "expected a violation mentioning {expect:?}, got {violations:#?}"
    );
}

#[test]
fn catches_a_function_without_a_lambda() {
    let mut s = Sources::load();
    s.functions.push(FunctionSource {
        dir: "refunder".into(),
        bin: "refunder".into(),
        lib_rs: "env.required(\"TABLE_NAME\")".into(),
    });
    assert_caught(
        violations_of(rule_every_function_has_a_lambda, s),
        "functions/refunder (binary refunder) has no Lambda",
    );

    let s = Sources::load().edit("functions.tf", "function      = \"notifier\"", "function      = \"notifer\"");
    let v = violations_of(rule_every_function_has_a_lambda, s);
    assert_caught(v.clone(), "functions/notifier (binary notifier) has no Lambda");
    assert_caught(v, "deploys \"notifer\", which is no binary");

    let s = Sources::load().edit(
        "modules/lambda_function/main.tf",
        "architectures    = [\"arm64\"]",
        "architectures    = [\"x86_64\"]",
    );
    assert_caught(violations_of(rule_every_function_has_a_lambda, s), "architectures is not [\"arm64\"]");
}

#[test]
fn catches_a_missing_unread_or_forbidden_env_var() {
    let s = Sources::load().edit("functions.tf", "    MAIL_QUEUE_URL = aws_sqs_queue.mail.url\n", "");
    assert_caught(violations_of(rule_env_vars_match_config, s), "MAIL_QUEUE_URL is required by functions/processor");

    let s = Sources::load().edit(
        "functions.tf",
        "    LEASE_SECONDS         = tostring(var.notifier_lease_seconds)\n",
        "    LEASE_SECONDS         = tostring(var.notifier_lease_seconds)\n    LEASE_SECS            = \"60\"\n",
    );
    assert_caught(
        violations_of(rule_env_vars_match_config, s),
        "LEASE_SECS is set but functions/notifier/src/lib.rs never reads it",
    );

    let s = Sources::load().edit(
        "functions.tf",
        "    FIRST_LOOKBACK_HOURS     = tostring(var.first_lookback_hours)\n",
        "    FIRST_LOOKBACK_HOURS     = tostring(var.first_lookback_hours)\n    RATE_SCALE               = \"1\"\n",
    );
    assert_caught(violations_of(rule_env_vars_match_config, s), "RATE_SCALE must never be set");

    // The code starts reading a new variable that Terraform does not set.
    let mut s = Sources::load();
    let processor = s.functions.iter_mut().find(|f| f.bin == "processor").unwrap();
    processor.lib_rs = processor.lib_rs.replacen(
        "table_name: env.required(\"TABLE_NAME\"),",
        "table_name: env.required(\"TABLE_NAME\"),\n            shops: env.required(\"SHOPS_TABLE\"),",
        1,
    );
    assert!(processor.lib_rs.contains("SHOPS_TABLE"));
    assert_caught(violations_of(rule_env_vars_match_config, s), "SHOPS_TABLE is required by functions/processor");
}

#[test]
fn catches_wildcard_iam() {
    let s = Sources::load().edit(
        "functions.tf",
        "    sid       = \"Watermarks\"\n    actions   = [\"dynamodb:GetItem\", \"dynamodb:PutItem\", \"dynamodb:DeleteItem\"]",
        "    sid       = \"Watermarks\"\n    actions   = [\"dynamodb:*\"]",
    );
    assert_caught(
        violations_of(rule_iam_scoped, s),
        "data.aws_iam_policy_document.puller statement Watermarks: action dynamodb:* is a wildcard",
    );

    let s = Sources::load().edit(
        "functions.tf",
        "    sid       = \"MailJobs\"\n    actions   = [\"sqs:SendMessage\"]\n    resources = [aws_sqs_queue.mail.arn]",
        "    sid       = \"MailJobs\"\n    actions   = [\"sqs:SendMessage\"]\n    resources = [\"*\"]",
    );
    assert_caught(violations_of(rule_iam_scoped, s), "statement MailJobs: Resource \"*\"");

    let s = Sources::load().edit(
        "functions.tf",
        "resources = [\"${aws_dynamodb_table.main.arn}/index/by_bundle\"]",
        "resources = [\"${aws_dynamodb_table.main.arn}/index/*\"]",
    );
    assert_caught(violations_of(rule_iam_scoped, s), "statement BundleIndex: resource");

    // Objects under the import folder only, never the whole bucket.
    let s = Sources::load().edit(
        "imports.tf",
        "resources = [\"${aws_s3_bucket.imports.arn}/${local.import_prefix}*\"]",
        "resources = [\"${aws_s3_bucket.imports.arn}/*\"]",
    );
    assert_caught(violations_of(rule_iam_scoped, s), "statement DroppedFiles: resource");

    // kms:* is allowed in the key policy's account-root statement only.
    let s = Sources::load().edit(
        "scheduler.tf",
        "actions   = [\"kms:Decrypt\", \"kms:GenerateDataKey\"]",
        "actions   = [\"kms:*\"]",
    );
    assert_caught(
        violations_of(rule_iam_scoped, s),
        "data.aws_iam_policy_document.scheduler statement ProjectKey: action kms:*",
    );

    // An inline jsonencode policy is read too.
    let s = Sources::load().edit(
        "scheduler.tf",
        "  policy = data.aws_iam_policy_document.scheduler.json",
        "  policy = jsonencode({ Version = \"2012-10-17\", Statement = [{ Effect = \"Allow\", Action = \"lambda:*\", Resource = \"*\" }] })",
    );
    let v = violations_of(rule_iam_scoped, s);
    assert_caught(v.clone(), "aws_iam_role_policy.scheduler.policy Statement[0]: action lambda:* is a wildcard");
    assert_caught(v, "aws_iam_role_policy.scheduler.policy Statement[0]: Resource \"*\"");
}

#[test]
fn catches_a_mapping_without_batch_item_failures() {
    let s = Sources::load().edit(
        "functions.tf",
        "  maximum_batching_window_in_seconds = local.batching_window_seconds\n  function_response_types            = [\"ReportBatchItemFailures\"]\n\n  # Not above",
        "  maximum_batching_window_in_seconds = local.batching_window_seconds\n\n  # Not above",
    );
    assert_caught(violations_of(rule_sqs_mappings_report_failures, s), "aws_lambda_event_source_mapping.processor");
}

#[test]
fn catches_a_queue_without_dlq_or_depth_alarm() {
    let s = Sources::load().edit(
        "sqs.tf",
        "  redrive_policy = jsonencode({\n    deadLetterTargetArn = aws_sqs_queue.mail_dlq.arn\n    maxReceiveCount     = local.max_receive_count\n  })\n",
        "",
    );
    let v = violations_of(rule_queues_have_dlq_and_alarm, s);
    assert_caught(v, "aws_sqs_queue.mail has no DLQ");

    let s = Sources::load().edit(
        "alarms.tf",
        "dimensions          = { QueueName = aws_sqs_queue.orders_dlq.name }",
        "dimensions          = { QueueName = aws_sqs_queue.orders.name }",
    );
    assert_caught(violations_of(rule_queues_have_dlq_and_alarm, s), "aws_sqs_queue.orders_dlq has no depth alarm");

    // A DLQ's alarm must count its messages: the age of the oldest one does not fire on arrival.
    let s = Sources::load().edit(
        "alarms.tf",
        "  metric_name         = \"NumberOfMessagesSent\"\n  dimensions          = { QueueName = aws_sqs_queue.pull_failures.name }",
        "  metric_name         = \"ApproximateAgeOfOldestMessage\"\n  dimensions          = { QueueName = aws_sqs_queue.pull_failures.name }",
    );
    assert_caught(violations_of(rule_queues_have_dlq_and_alarm, s), "aws_sqs_queue.pull_failures has no depth alarm");

    // The quarantine has a depth alarm too.
    let s = Sources::load().edit(
        "alarms.tf",
        "dimensions          = { QueueName = aws_sqs_queue.quarantine.name }",
        "dimensions          = { QueueName = aws_sqs_queue.orders.name }",
    );
    assert_caught(violations_of(rule_queues_have_dlq_and_alarm, s), "aws_sqs_queue.quarantine has no depth alarm");

    // Quarantined orders back in the orders DLQ would be redriven with the redrivable ones.
    let s = Sources::load().edit(
        "functions.tf",
        "QUARANTINE_QUEUE_URL     = aws_sqs_queue.quarantine.url",
        "QUARANTINE_QUEUE_URL     = aws_sqs_queue.orders_dlq.url",
    );
    assert_caught(
        violations_of(rule_queues_have_dlq_and_alarm, s),
        "aws_sqs_queue.orders_dlq is the puller's quarantine and a redrive DLQ",
    );

    // The puller's failure destination makes pull_failures a DLQ; without it, it needs a DLQ of its own.
    let s = Sources::load()
        .edit("functions.tf", "  async_failure_queue_arn = aws_sqs_queue.pull_failures.arn\n", "")
        .edit("scheduler.tf", &schedule_dlq(240, "pull_failures"), &schedule_dlq(240, "orders_dlq"))
        .edit("scheduler.tf", &schedule_dlq(3600, "pull_failures"), &schedule_dlq(3600, "orders_dlq"))
        .edit("scheduler.tf", &schedule_dlq(600, "pull_failures"), &schedule_dlq(600, "orders_dlq"));
    assert_caught(violations_of(rule_queues_have_dlq_and_alarm, s), "aws_sqs_queue.pull_failures has no DLQ");
}

/// A schedule's retry policy (told apart by its event age) and dead-letter queue, as scheduler.tf writes them.
fn schedule_dlq(max_age_s: u32, queue: &str) -> String {
    format!(
        "      maximum_event_age_in_seconds = {max_age_s}\n      maximum_retry_attempts       = 2\n    }}\n\n    \
         dead_letter_config {{\n      arn = aws_sqs_queue.{queue}.arn"
    )
}

#[test]
fn catches_a_visibility_timeout_under_six_timeouts() {
    let s = Sources::load().edit(
        "sqs.tf",
        "  visibility_timeout_seconds        = 6 * local.processor_timeout + local.batching_window_seconds\n",
        "  visibility_timeout_seconds        = 60\n",
    );
    assert_caught(
        violations_of(rule_visibility_covers_consumer, s),
        "aws_sqs_queue.orders: visibility timeout 60 s is under 6 × module.processor timeout 30 s",
    );

    // Raising the consumer's timeout without the queue's: the notifier gets a literal 60 s.
    let s =
        Sources::load().edit("functions.tf", "  timeout       = local.notifier_timeout\n", "  timeout       = 60\n");
    assert_caught(
        violations_of(rule_visibility_covers_consumer, s),
        "aws_sqs_queue.mail: visibility timeout 185 s is under 6 × module.notifier timeout 60 s",
    );
}

#[test]
fn catches_a_lease_or_page_budget_that_does_not_fit() {
    let s = Sources::load().edit(
        "variables.tf",
        "variable \"notifier_lease_seconds\" {\n  description = \"LEASE_SECONDS: how long a mail claim blocks other senders; must be shorter than the mail queue's visibility timeout.\"\n  type        = number\n  default     = 120",
        "variable \"notifier_lease_seconds\" {\n  description = \"LEASE_SECONDS: how long a mail claim blocks other senders; must be shorter than the mail queue's visibility timeout.\"\n  type        = number\n  default     = 600",
    );
    assert_caught(
        violations_of(rule_timing_fits, s),
        "LEASE_SECONDS 600 must be over the timeout 30 and under the mail queue's visibility timeout 185",
    );

    let s = Sources::load().edit(
        "functions.tf",
        "  timeout       = var.puller_timeout_seconds\n",
        "  timeout       = 60\n",
    );
    assert_caught(
        violations_of(rule_timing_fits, s),
        "timeout 60 s leaves no room for pages with PAGE_BUDGET_SECONDS 45",
    );
}

#[test]
fn catches_a_table_unlike_the_code() {
    let s = Sources::load().edit("dynamodb.tf", "    projection_type = \"KEYS_ONLY\"", "    projection_type = \"ALL\"");
    assert_caught(
        violations_of(rule_table_matches_code, s),
        "by_bundle.projection_type is Some(\"ALL\"), the code uses \"KEYS_ONLY\"",
    );

    let s = Sources::load().edit("dynamodb.tf", "    attribute_name = \"expires_at\"", "    attribute_name = \"ttl\"");
    assert_caught(violations_of(rule_table_matches_code, s), "ttl.attribute_name");

    let s = Sources::load().edit(
        "dynamodb.tf",
        "  point_in_time_recovery {\n    enabled = true",
        "  point_in_time_recovery {\n    enabled = false",
    );
    assert_caught(violations_of(rule_table_matches_code, s), "point_in_time_recovery.enabled");
}

#[test]
fn catches_payloads_the_code_cannot_read() {
    let s = Sources::load().edit(
        "scheduler.tf",
        "      marketplace = each.value.marketplace\n",
        "      marketplace = each.value.marketplace\n      source      = \"scheduler\"\n",
    );
    assert_caught(violations_of(rule_payloads_decode, s), "is no PullEvent or CheckEvent");

    let s = Sources::load().edit(
        "scheduler.tf",
        "input    = jsonencode({ digest = each.key })",
        "input    = jsonencode({ shop = each.key })",
    );
    assert_caught(violations_of(rule_payloads_decode, s), "is no DigestEvent");

    let s = Sources::load().edit(
        "dynamodb.tf",
        "    shop_name  = { S = each.value.shop_name }",
        "    name       = { S = each.value.shop_name }",
    );
    assert_caught(
        violations_of(rule_payloads_decode, s),
        "aws_dynamodb_table_item.shop_settings: item is no ShopSettings",
    );

    let s = Sources::load().edit(
        "dynamodb.tf",
        "    sk         = { S = \"SETTINGS\" }",
        "    sk         = { S = \"SHOP\" }",
    );
    assert_caught(violations_of(rule_payloads_decode, s), "the code reads SHOP#shop-1/SETTINGS");

    let s = Sources::load().edit(
        "dynamodb.tf",
        "    rules_toml = { S = each.value.rules }\n",
        "    rules_toml = { S = each.value.rules }\n    templates  = { M = {} }\n",
    );
    assert_caught(violations_of(rule_payloads_decode, s), "writes templates, which `ichigen shop` owns");

    let s = Sources::load().edit("dynamodb.tf", "    ignore_changes = [item]\n", "");
    assert_caught(violations_of(rule_payloads_decode, s), "no lifecycle ignore_changes = [item]");
}

#[test]
fn catches_unpinned_versions_and_missing_tags() {
    let s = Sources::load().edit("versions.tf", "      version = \">= 5.100, < 7.0\"\n", "");
    let m = s.model();
    assert_caught(rule_standard_structure(&s, &m), "the aws provider version is not pinned");
    let s = Sources::load().edit("versions.tf", "\">= 5.100, < 7.0\"", "\">= 5.100\"");
    let m = s.model();
    assert_caught(rule_standard_structure(&s, &m), "the aws provider version is not pinned");

    let s = Sources::load().edit("providers.tf", "  default_tags {", "  ignore_tags {");
    let m = s.model();
    assert_caught(rule_standard_structure(&s, &m), "provider \"aws\" has no default_tags");

    let s =
        Sources::load().edit("modules/lambda_function/main.tf", "  retention_in_days = var.log_retention_days\n", "");
    let m = s.model();
    assert_caught(rule_standard_structure(&s, &m), "keeps logs forever");
}

#[test]
fn catches_a_customer_key_without_the_opt_in() {
    let s = Sources::load().edit(
        "variables.tf",
        "  type        = bool\n  default     = false\n}\n\nvariable \"monthly_budget_usd\"",
        "  type        = bool\n  default     = true\n}\n\nvariable \"monthly_budget_usd\"",
    );
    assert_caught(violations_of(rule_no_customer_key_unless_opted_in, s), "customer_managed_key must default to false");

    let s =
        Sources::load().edit("kms.tf", "  count = var.customer_managed_key ? 1 : 0\n\n  description", "  description");
    assert_caught(
        violations_of(rule_no_customer_key_unless_opted_in, s),
        "resource.aws_kms_key.main exists without the opt-in",
    );

    let s = Sources::load().edit(
        "dynamodb.tf",
        "    kms_key_arn = local.kms_key_arn",
        "    kms_key_arn = aws_kms_key.main[0].arn",
    );
    assert_caught(
        violations_of(rule_no_customer_key_unless_opted_in, s),
        "aws_dynamodb_table.main.kms_key_arn names a KMS key directly",
    );

    let s = Sources::load().edit(
        "scheduler.tf",
        "    for_each = var.customer_managed_key ? [1] : []",
        "    for_each = [1]",
    );
    assert_caught(
        violations_of(rule_no_customer_key_unless_opted_in, s),
        "data.aws_iam_policy_document.scheduler grants kms: actions in a dynamic statement not switched",
    );

    let s = Sources::load().edit(
        "functions.tf",
        "    sid       = \"MailJobs\"\n    actions   = [\"sqs:SendMessage\"]",
        "    sid       = \"MailJobs\"\n    actions   = [\"sqs:SendMessage\", \"kms:GenerateDataKey\"]",
    );
    assert_caught(
        violations_of(rule_no_customer_key_unless_opted_in, s),
        "data.aws_iam_policy_document.processor grants [\"sqs:SendMessage\", \"kms:GenerateDataKey\"] always",
    );
}

#[test]
fn catches_credentials_not_scoped_per_pair() {
    let s = Sources::load().edit(
        "functions.tf",
        "      resources = [for pair in aws_ssm_parameter.credentials : pair.arn]",
        "      resources = [\"arn:aws:ssm:ap-northeast-1:123456789012:parameter${local.secret_prefix}\"]",
    );
    assert_caught(
        violations_of(rule_credentials_scoped_per_pair, s),
        "statement MarketplaceCredentials: resources must be exactly the credential parameters' ARNs",
    );

    let s = Sources::load().edit(
        "functions.tf",
        "      sid       = \"MarketplaceCredentials\"\n      actions   = [\"ssm:GetParameter\", \"ssm:PutParameter\"]",
        "      sid       = \"MarketplaceCredentials\"\n      actions   = [\"ssm:GetParameter\", \"ssm:PutParameter\", \"ssm:GetParametersByPath\"]",
    );
    assert_caught(
        violations_of(rule_credentials_scoped_per_pair, s),
        "ssm:GetParametersByPath: the puller needs it alone",
    );

    // Listing the credentials' path would hand every pair's secret to one call.
    let s = Sources::load().edit(
        "functions.tf",
        "parameter${trimsuffix(local.expiry_prefix, \"/\")}",
        "parameter${trimsuffix(local.secret_prefix, \"/\")}",
    );
    assert_caught(violations_of(rule_credentials_scoped_per_pair, s), "on the expiry records' path");

    let s = Sources::load().edit(
        "functions.tf",
        "    sid       = \"MailJobs\"\n    actions   = [\"sqs:SendMessage\"]",
        "    sid       = \"MailJobs\"\n    actions   = [\"sqs:SendMessage\", \"secretsmanager:GetSecretValue\"]",
    );
    assert_caught(
        violations_of(rule_credentials_scoped_per_pair, s),
        "secretsmanager:GetSecretValue: the credentials are in SSM",
    );

    let s = Sources::load().edit("parameters.tf", "    ignore_changes = [value]\n  }\n}\n\n# When", "  }\n}\n\n# When");
    assert_caught(violations_of(rule_credentials_scoped_per_pair, s), "ignore_changes must hold value");

    let s = Sources::load().edit(
        "parameters.tf",
        "  type        = \"SecureString\"\n  tier        = \"Standard\"",
        "  type        = \"SecureString\"\n  tier        = \"Advanced\"",
    );
    assert_caught(violations_of(rule_credentials_scoped_per_pair, s), "tier must be \"Standard\"");

    let s = Sources::load().edit(
        "functions.tf",
        "    SECRET_PREFIX            = local.secret_prefix",
        "    SECRET_PREFIX            = \"/ichigen/\"",
    );
    assert_caught(violations_of(rule_credentials_scoped_per_pair, s), "SECRET_PREFIX is \"/ichigen/\"");

    // The notifier reads the relay settings: not every pair's credentials, and never writes them.
    let s = Sources::load().edit(
        "functions.tf",
        "      resources = [for key, pair in local.relay_pairs : aws_ssm_parameter.credentials[key].arn]",
        "      resources = [for pair in aws_ssm_parameter.credentials : pair.arn]",
    );
    assert_caught(
        violations_of(rule_credentials_scoped_per_pair, s),
        "statement RelaySettings: resources must be exactly the relay marketplaces' credential ARNs",
    );
    let s = Sources::load().edit(
        "functions.tf",
        "      sid       = \"RelaySettings\"\n      actions   = [\"ssm:GetParameter\"]",
        "      sid       = \"RelaySettings\"\n      actions   = [\"ssm:GetParameter\", \"ssm:PutParameter\"]",
    );
    assert_caught(violations_of(rule_credentials_scoped_per_pair, s), "the notifier only reads relay settings");
    let s = Sources::load().edit(
        "functions.tf",
        "    SECRET_PREFIX         = local.secret_prefix",
        "    SECRET_PREFIX         = \"/x/\"",
    );
    assert_caught(violations_of(rule_credentials_scoped_per_pair, s), "module.notifier: SECRET_PREFIX is \"/x/\"");
}

#[test]
fn catches_a_missing_alarm_or_one_that_fires_on_a_blip() {
    let s = Sources::load().edit(
        "alarms.tf",
        "  metric_name         = \"Reputation.ComplaintRate\"",
        "  metric_name         = \"Reputation.Complaints\"",
    );
    assert_caught(
        violations_of(rule_required_alarms, s),
        "no alarm with an action on AWS/SES Reputation.ComplaintRate",
    );

    let s = Sources::load().edit(
        "alarms.tf",
        "  datapoints_to_alarm = local.pull_failure_period_count - 1",
        "  datapoints_to_alarm = 1",
    );
    assert_caught(
        violations_of(rule_required_alarms, s),
        "aws_cloudwatch_metric_alarm.pull_failures: fires on one blip",
    );

    let s = Sources::load().edit(
        "alarms.tf",
        "  dimensions          = { QueueName = aws_sqs_queue.mail.name }",
        "  dimensions          = { QueueName = aws_sqs_queue.mail_dlq.name }",
    );
    assert_caught(
        violations_of(rule_required_alarms, s),
        "aws_sqs_queue.mail (consumed by notifier) has no ApproximateAgeOfOldestMessage alarm",
    );

    let s = Sources::load().edit(
        "alarms.tf",
        "resource \"aws_budgets_budget\" \"monthly\"",
        "resource \"aws_budgets_budget_action\" \"monthly\"",
    );
    assert_caught(violations_of(rule_required_alarms, s), "no aws_budgets_budget");
}
