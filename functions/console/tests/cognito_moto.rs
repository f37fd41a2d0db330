//! The console Lambda's router as `build` makes it from its config (SSM parameters read on moto),
//! served on 127.0.0.1 and driven over HTTP like a browser: sessions, Cognito sign-in, a release
//! with its audit entry and its thank-you.
//!
//! moto implements the Cognito user pool API (CreateUserPool, AdminCreateUser,
//! AdminSetUserPassword, AdminInitiateAuth issuing real RS256 ID tokens) and serves the pool's
//! JWKS at `{moto}/{pool id}/.well-known/jwks.json`, but not the hosted UI nor its
//! `/oauth2/token` endpoint. **This test serves that one endpoint itself** on 127.0.0.1: it stands
//! in for the piece of AWS moto lacks, answering the code exchange with the ID token moto issued
//! for the staff member (and recording the request, so the PKCE verifier our code sends is
//! checked against the challenge it sent to `/oauth2/authorize`). Everything of ours is real:
//! the redirect to the hosted UI, the signed state cookie, the callback, the ID token's
//! verification against moto's JWKS (signature, issuer, audience, expiry, token_use), the session
//! kept in DynamoDB, the release through the console, the audit entry, its thank-you job on the
//! SQS mail queue, and that job sent through SES by the notifier's own handler (as its Lambda's
//! event source mapping would deliver it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use aws_sdk_dynamodb::types::AttributeValue;
use axum::extract::{Form, State};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use ichigen_aws::DynamoStore;
use ichigen_console_fn::{Config, build};
use ichigen_core::pipeline::memory::MemoryMailQueue;
use ichigen_core::pipeline::{OrderKey, ProcessSettings, Processor, ShopDirectory, ShopSettings};
use ichigen_core::sample::SampleOrders;
use ichigen_core::{Marketplace, Order, OrderStatus};
use ichigen_testkit::moto;
use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};
use serde_json::{Value, json};

const SHOP: &str = "shop-1";
const MAIL_FROM: &str = "shop@example.jp";
const TABLE: &str = "ichigen";
const STAFF_NAME: &str = "佐藤 花子";
const PASSWORD: &str = "Ichigen-Test-Passw0rd!";

/// A call of the Cognito user pool API (AWS JSON 1.1) on moto, in the test's account.
async fn cognito(endpoint: &str, account: &str, action: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{endpoint}/"))
        .header("x-amz-target", format!("AWSCognitoIdentityProviderService.{action}"))
        .header("content-type", "application/x-amz-json-1.1")
        .header(moto::ACCOUNT_HEADER, account)
        .header(
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261201/{}/cognito-idp/aws4_request, SignedHeaders=host, Signature=0",
                moto::REGION
            ),
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{action}: {status} {text}");
    serde_json::from_str(&text).unwrap()
}

/// What the stand-in token endpoint answers and what it was asked.
#[derive(Default)]
struct TokenEndpoint {
    /// The ID token the next exchange returns.
    id_token: String,
    /// The forms it received.
    requests: Vec<HashMap<String, String>>,
}

async fn token(
    State(state): State<Arc<Mutex<TokenEndpoint>>>,
    Form(form): Form<HashMap<String, String>>,
) -> axum::Json<Value> {
    let mut s = state.lock().unwrap();
    s.requests.push(form);
    axum::Json(json!({"id_token": s.id_token, "access_token": "a", "token_type": "Bearer", "expires_in": 3600}))
}

/// One test's AWS and console.
struct World {
    endpoint: String,
    account: String,
    store: DynamoStore,
    dynamodb: aws_sdk_dynamodb::Client,
    sqs: aws_sdk_sqs::Client,
    mail_queue: String,
    notifier: ichigen_notifier::AwsNotifier,
    console: String,
    tokens: Arc<Mutex<TokenEndpoint>>,
    http: reqwest::Client,
    /// ID tokens moto issued: for the console's client, and for another client of the pool.
    id_token: String,
    other_client_token: String,
}

impl World {
    async fn new() -> World {
        let endpoint = moto::endpoint();
        let account = moto::fresh_account();
        let sdk = moto::sdk_config(&endpoint, &account).await;
        let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
        ichigen_aws::create_table(&dynamodb, TABLE).await.unwrap();
        aws_sdk_sesv2::Client::new(&sdk).create_email_identity().email_identity(MAIL_FROM).send().await.unwrap();
        let store = DynamoStore::new(dynamodb.clone(), TABLE);
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let mail_queue = sqs.create_queue().queue_name("ichigen-mail").send().await.unwrap().queue_url.unwrap();
        let notifier = ichigen_notifier::build(
            &ichigen_notifier::Config {
                table_name: TABLE.into(),
                configuration_set: None,
                lease: std::time::Duration::from_secs(120),
                secret_prefix: "/ichigen/test/credentials/".into(),
            },
            &sdk,
        );
        let mut shop = ShopSettings::new(SHOP, "いちげん商店", MAIL_FROM);
        shop.rules_toml = "[[condition]]\nname = \"のし指定\"\nremarks_keyword = [\"のし\"]\n".into();
        store.put_shop(&shop).await.unwrap();

        // The shop's user pool, the console's app client, another client, one staff member.
        let pool = cognito(&endpoint, &account, "CreateUserPool", json!({"PoolName": "ichigen-staff"})).await;
        let pool_id = pool["UserPool"]["Id"].as_str().unwrap().to_string();
        let client_of = async |name: &str| {
            let c = cognito(
                &endpoint,
                &account,
                "CreateUserPoolClient",
                json!({"UserPoolId": pool_id, "ClientName": name, "GenerateSecret": false, "ReadAttributes": ["name", "email"],
                       "ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
            )
            .await;
            c["UserPoolClient"]["ClientId"].as_str().unwrap().to_string()
        };
        let client_id = client_of("console").await;
        let other_client = client_of("another-app").await;
        cognito(
            &endpoint,
            &account,
            "AdminCreateUser",
            json!({"UserPoolId": pool_id, "Username": "sato", "MessageAction": "SUPPRESS",
                   "UserAttributes": [{"Name": "name", "Value": STAFF_NAME}, {"Name": "email", "Value": "sato@example.jp"}]}),
        )
        .await;
        cognito(
            &endpoint,
            &account,
            "AdminSetUserPassword",
            json!({"UserPoolId": pool_id, "Username": "sato", "Password": PASSWORD, "Permanent": true}),
        )
        .await;
        let sign_in = async |client: &str| {
            let auth = cognito(
                &endpoint,
                &account,
                "AdminInitiateAuth",
                json!({"UserPoolId": pool_id, "ClientId": client, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
                       "AuthParameters": {"USERNAME": "sato", "PASSWORD": PASSWORD}}),
            )
            .await;
            auth["AuthenticationResult"]["IdToken"].as_str().unwrap().to_string()
        };
        let id_token = sign_in(&client_id).await;
        let other_client_token = sign_in(&other_client).await;

        // The stand-in for the hosted UI's token endpoint.
        let tokens = Arc::new(Mutex::new(TokenEndpoint::default()));
        let token_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let token_url = format!("http://{}", token_listener.local_addr().unwrap());
        let token_app = axum::Router::new().route("/oauth2/token", post(token)).with_state(tokens.clone());
        tokio::spawn(async move { axum::serve(token_listener, token_app).await });

        // The console, configured as the Lambda is: env values, the rest from SSM.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let console = format!("http://{}", listener.local_addr().unwrap());
        let ssm = aws_sdk_ssm::Client::new(&sdk);
        ssm.put_parameter()
            .name("/ichigen/test/console/client")
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .value(json!({"client_id": client_id, "console_url": console}).to_string())
            .send()
            .await
            .unwrap();
        ssm.put_parameter()
            .name("/ichigen/test/console/cookie-key")
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .value(format!("{:032x}{:032x}", rand_u128(), rand_u128()))
            .send()
            .await
            .unwrap();
        let config = Config {
            table_name: TABLE.into(),
            shop_id: SHOP.into(),
            mail_queue_url: mail_queue.clone(),
            pool_id: pool_id.clone(),
            cognito_domain: token_url,
            client_parameter: "/ichigen/test/console/client".into(),
            cookie_key_parameter: "/ichigen/test/console/cookie-key".into(),
            jwks_url: Some(format!("{endpoint}/{pool_id}/.well-known/jwks.json")),
        };
        let router = build(&config, &sdk).await.unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        World {
            endpoint,
            account,
            store,
            dynamodb,
            sqs,
            mail_queue,
            notifier,
            console,
            tokens,
            http,
            id_token,
            other_client_token,
        }
    }

    /// A Yahoo order held by the shop's のし condition, as the processor stores it.
    async fn held_order(&self) -> Order {
        let mut order = SampleOrders::new(5).clean_order(Marketplace::Yahoo, 1);
        order.shop_id = SHOP.into();
        order.remarks = "のし希望".into();
        order.buyer.email = Some(format!("buyer-{}@example.jp", self.account));
        let processor = Processor::new(
            self.store.clone(),
            self.store.clone(),
            MemoryMailQueue::new(),
            ichigen_marketplaces::policies(),
            ProcessSettings::default(),
        );
        let done = processor.process(order.clone(), Utc::now().fixed_offset()).await.unwrap();
        assert_eq!(done.status, OrderStatus::OnHold);
        assert!(!done.mails.contains(&ichigen_core::pipeline::MailKind::ThankYou), "a held order's thank-you waits");
        order
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut r = self.http.get(format!("{}{path}", self.console));
        if let Some(c) = cookie {
            r = r.header("cookie", c);
        }
        r.send().await.unwrap()
    }

    async fn post(&self, path: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> reqwest::Response {
        let mut r = self.http.post(format!("{}{path}", self.console)).form(form);
        if let Some(c) = cookie {
            r = r.header("cookie", c);
        }
        r.send().await.unwrap()
    }

    /// `/login`: the authorize URL's query and the sign-in cookie (`name=value`).
    async fn start_sign_in(&self) -> (HashMap<String, String>, String) {
        let r = self.get("/login", None).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let location = r.headers()[LOCATION].to_str().unwrap().to_string();
        let set_cookie = r.headers()[SET_COOKIE].to_str().unwrap().to_string();
        for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/auth/callback"] {
            assert!(set_cookie.contains(attribute), "{set_cookie}");
        }
        let url = reqwest::Url::parse(&location).unwrap();
        assert_eq!(url.path(), "/oauth2/authorize");
        let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
        (query, set_cookie.split(';').next().unwrap().to_string())
    }

    /// The callback with `id_token` answering the code exchange.
    async fn callback(&self, id_token: &str, state: &str, login_cookie: &str) -> reqwest::Response {
        self.tokens.lock().unwrap().id_token = id_token.to_string();
        self.get(&format!("/auth/callback?code=the-code&state={state}"), Some(login_cookie)).await
    }
}

fn rand_u128() -> u128 {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).unwrap();
    u128::from_le_bytes(bytes)
}

/// `token`'s claims signed by a key of our own (same `kid` as the pool's key).
fn signed_by_another_key(token: &str) -> String {
    let payload = token.split('.').nth(1).unwrap();
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "RS256", "typ": "JWT", "kid": "dummy"}).to_string());
    let message = format!("{header}.{payload}");
    let key = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let mut signature = vec![0u8; key.public_modulus_len()];
    key.sign(
        &aws_lc_rs::signature::RSA_PKCS1_SHA256,
        &aws_lc_rs::rand::SystemRandom::new(),
        message.as_bytes(),
        &mut signature,
    )
    .unwrap();
    format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn session_cookie(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("ichigen_session=") && !v.contains("Max-Age=0"))
        .map(str::to_string)
}

#[tokio::test]
async fn staff_sign_in_with_cognito_and_a_release_is_audited_and_mailed_once() {
    let world = World::new().await;
    let order = world.held_order().await;
    let key = OrderKey::of(&order);
    let order_path = format!("/orders/yahoo/{}", order.order_id);

    // Without a session: pages go to the sign-in, actions are refused, nothing changes.
    let r = world.get("/orders", None).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/login");
    assert_eq!(world.get(&order_path, None).await.status(), StatusCode::SEE_OTHER);
    let refused = world.post(&format!("{order_path}/release"), None, &[("csrf", "x")]).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let forged = world.post(&format!("{order_path}/release"), Some("ichigen_session=0123abcd"), &[("csrf", "x")]).await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED, "a made-up session cookie");
    assert_eq!(world.store.get_order(&key).await.status, OrderStatus::OnHold);

    // /login: to the hosted UI with the app client, our callback, a state and an S256 challenge.
    let (query, login_cookie) = world.start_sign_in().await;
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["redirect_uri"], format!("{}/auth/callback", world.console));
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["code_challenge"].len(), 43, "base64url of a SHA-256");

    // Refused: a token signed by another key, one for another app client, a state not ours.
    let r = world.callback(&signed_by_another_key(&world.id_token), &query["state"], &login_cookie).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(session_cookie(&r).is_none());
    let r = world.callback(&world.other_client_token, &query["state"], &login_cookie).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(session_cookie(&r).is_none());
    let r = world.callback(&world.id_token, "another-state", &login_cookie).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(session_cookie(&r).is_none());
    let r = world.callback(&world.id_token, &query["state"], "ichigen_login=made.up.cookie").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "a sign-in cookie not signed by the console");

    // The real token: a session, kept in DynamoDB, cookie Secure and HttpOnly.
    let r = world.callback(&world.id_token, &query["state"], &login_cookie).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/orders");
    let set_cookie = session_cookie(&r).expect("a session cookie");
    for attribute in ["HttpOnly", "Secure", "SameSite=Lax"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    // The code exchange carried our client, code, callback and the verifier of the challenge.
    let exchange = world.tokens.lock().unwrap().requests.last().cloned().unwrap();
    assert_eq!(exchange["grant_type"], "authorization_code");
    assert_eq!(exchange["client_id"], query["client_id"]);
    assert_eq!(exchange["code"], "the-code");
    assert_eq!(exchange["redirect_uri"], query["redirect_uri"]);
    let challenge = URL_SAFE_NO_PAD
        .encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, exchange["code_verifier"].as_bytes()));
    assert_eq!(challenge, query["code_challenge"]);
    let sessions = world.items_with_pk_prefix("SESSION#").await;
    assert_eq!(sessions.len(), 1);
    let cookie_value = cookie.split_once('=').unwrap().1;
    assert!(!format!("{sessions:?}").contains(cookie_value), "the cookie itself is not stored");
    assert_eq!(sessions[0]["staff"].as_s().unwrap(), STAFF_NAME);
    assert!(sessions[0]["expires_at"].as_n().is_ok(), "expires by TTL");

    // Signed in: the list shows the held order and who is signed in.
    let list = world.get("/orders", Some(&cookie)).await;
    assert_eq!(list.status(), StatusCode::OK);
    let list = list.text().await.unwrap();
    assert!(list.contains(STAFF_NAME) && list.contains(&order.order_id), "{list}");

    // A POST without the session's CSRF token changes nothing.
    let r = world.post(&format!("{order_path}/release"), Some(&cookie), &[("csrf", "x")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(world.store.get_order(&key).await.status, OrderStatus::OnHold);

    // Release through the order's page.
    let page = world.get(&order_path, Some(&cookie)).await.text().await.unwrap();
    let csrf = page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let r = world.post(&format!("{order_path}/release"), Some(&cookie), &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_ne!(world.store.get_order(&key).await.status, OrderStatus::OnHold);

    // The audit entry names the staff member: on 監査ログ and in the table.
    let audit = world.get("/audit", Some(&cookie)).await.text().await.unwrap();
    assert!(audit.contains(STAFF_NAME) && audit.contains(&order.order_id), "{audit}");
    let entries = world.items_with_sk_prefix(&format!("SHOP#{SHOP}"), "AUDIT#").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["staff"].as_s().unwrap(), STAFF_NAME);
    assert_eq!(entries[0]["action"].as_s().unwrap(), "release");
    let on_order =
        world.items_with_sk_prefix(&format!("SHOP#{SHOP}"), &format!("OAUDIT#yahoo#{}#", order.order_id)).await;
    assert_eq!(on_order.len(), 1);

    // Its thank-you waits on the mail queue (the console sends no mail itself): nothing went out
    // yet; the notifier's handler sends it through SES, once.
    let buyer = order.buyer.email.clone().unwrap();
    let to_buyer = async || {
        let sent = moto::ses_messages(&world.endpoint, &world.account).await;
        sent.iter().filter(|m| m.to == [buyer.as_str()]).count()
    };
    assert_eq!(to_buyer().await, 0, "the console itself sends nothing");
    let jobs = world.deliver_mail().await;
    assert_eq!(jobs, (1, 0), "one job, handled");
    assert_eq!(to_buyer().await, 1);
    // Releasing again queues nothing more; delivering the job again sends nothing more.
    let r = world.post(&format!("{order_path}/release"), Some(&cookie), &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(world.deliver_mail().await, (0, 0));
    let job = json!({"shop_id": SHOP, "marketplace": "yahoo", "order_id": order.order_id, "kind": "thank_you"});
    world.sqs.send_message().queue_url(&world.mail_queue).message_body(job.to_string()).send().await.unwrap();
    assert_eq!(world.deliver_mail().await, (1, 0), "a redelivered job is handled");
    assert_eq!(to_buyer().await, 1, "and sends nothing twice");

    // Logging out ends the session in the table.
    let r = world.post("/logout", Some(&cookie), &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(world.items_with_pk_prefix("SESSION#").await.is_empty());
    let r = world.get("/orders", Some(&cookie)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

trait GetOrder {
    async fn get_order(&self, key: &OrderKey) -> ichigen_core::pipeline::StoredOrder;
}

impl GetOrder for DynamoStore {
    async fn get_order(&self, key: &OrderKey) -> ichigen_core::pipeline::StoredOrder {
        use ichigen_core::pipeline::OrderStore;
        self.get(key).await.unwrap().unwrap()
    }
}

impl World {
    /// What Lambda's event source mapping does for the notifier: the mail queue's messages, in
    /// SQS events, to the notifier's handler; (handled, failed).
    async fn deliver_mail(&self) -> (usize, usize) {
        let drained = ichigen_aws::drain(&self.sqs, &self.mail_queue, |messages| {
            let mut event = SqsEvent::default();
            for m in messages {
                let mut record = SqsMessage::default();
                record.message_id = Some(m.message_id);
                record.receipt_handle = Some(m.receipt_handle);
                record.body = Some(m.body);
                record.attributes.extend(m.attributes);
                event.records.push(record);
            }
            async move {
                let mut metrics = ichigen_lambda::Metrics::new("notifier");
                let response = ichigen_notifier::handle(&self.notifier, None, event, &mut metrics).await;
                response.batch_item_failures.into_iter().map(|f| f.item_identifier).collect()
            }
        })
        .await
        .unwrap();
        (drained.handled, drained.failed)
    }

    async fn items_with_sk_prefix(&self, pk: &str, prefix: &str) -> Vec<HashMap<String, AttributeValue>> {
        self.dynamodb
            .query()
            .table_name(TABLE)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :p)")
            .expression_attribute_names("#pk", "pk")
            .expression_attribute_names("#sk", "sk")
            .expression_attribute_values(":pk", AttributeValue::S(pk.into()))
            .expression_attribute_values(":p", AttributeValue::S(prefix.into()))
            .send()
            .await
            .unwrap()
            .items
            .unwrap_or_default()
    }

    async fn items_with_pk_prefix(&self, prefix: &str) -> Vec<HashMap<String, AttributeValue>> {
        let items = self.dynamodb.scan().table_name(TABLE).send().await.unwrap().items.unwrap_or_default();
        items
            .into_iter()
            .filter(|i| i.get("pk").and_then(|v| v.as_s().ok()).is_some_and(|pk| pk.starts_with(prefix)))
            .collect()
    }
}
