//! A running app on a fresh database, and a small client for it.

#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use mpc_server::{AppState, ServerConfig, app};
use mpc_storage::accounts;
use mpc_storage::testing::TestDb;
use serde_json::{Value, json};
use tower::ServiceExt;

pub struct TestApp {
    pub db: TestDb,
    pub router: Router,
    pub operator: String,
    /// The key sealing secrets at rest, which every node of one database shares.
    pub key: mpc_storage::controller::SecretKey,
}

/// Another server node on the same database: its own store (pool), caches and replay guard.
pub struct Node {
    pub store: mpc_storage::Store,
    pub router: Router,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    /// Asserts a problem+json answer with this status and code.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        assert_eq!(
            self.headers["content-type"], "application/problem+json",
            "{}",
            self.text
        );
        assert_eq!(self.code(), code, "{}", self.text);
        assert_eq!(self.body["status"], status);
        assert!(self.body["title"].is_string() && self.body["detail"].is_string());
    }
}

/// Reads a response whole.
pub async fn reply(response: axum::response::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        text,
    }
}

impl TestApp {
    pub async fn new(db: TestDb) -> TestApp {
        Self::with_config(db, ServerConfig::default()).await
    }

    pub async fn with_config(db: TestDb, config: ServerConfig) -> TestApp {
        let (_, operator) = accounts::bootstrap_operator(&db.store)
            .await
            .unwrap()
            .expect("fresh database");
        let key = mpc_storage::controller::SecretKey::random();
        let state = AppState::new(db.store.clone(), key.clone());
        let router = app(state, &config);
        TestApp {
            db,
            router,
            operator,
            key,
        }
    }

    /// A second server node on this app's database, as another process would run it.
    pub async fn node(&self, config: &ServerConfig) -> Node {
        let store = mpc_storage::Store::open(&self.db.url)
            .await
            .expect("second node opens the database");
        let router = app(AppState::new(store.clone(), self.key.clone()), config);
        Node { store, router }
    }

    /// Sends `req` to `node` instead of this app's own router.
    pub async fn request_to(&self, node: &Node, req: Request<Body>) -> Reply {
        reply(node.router.clone().oneshot(req).await.unwrap()).await
    }

    pub async fn request(&self, req: Request<Body>) -> Reply {
        reply(self.router.clone().oneshot(req).await.unwrap()).await
    }

    /// Sends `body` (when given) as JSON with `token` (when given) as bearer.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        let body = match body {
            Some(v) => {
                req = req.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.request(req.body(body).unwrap()).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    /// Creates a contractor with one user and returns (contractor id, user id, token).
    pub async fn contractor_with_user(
        &self,
        name: &str,
        username: &str,
    ) -> (String, String, String) {
        let c = self
            .post(
                "/api/v1/contractors",
                &self.operator,
                json!({ "name": name }),
            )
            .await;
        assert_eq!(c.status, StatusCode::CREATED, "{}", c.text);
        let cid = c.body["id"].as_str().unwrap().to_owned();
        let u = self
            .post(
                &format!("/api/v1/contractors/{cid}/users"),
                &self.operator,
                json!({ "username": username }),
            )
            .await;
        assert_eq!(u.status, StatusCode::CREATED, "{}", u.text);
        let uid = u.body["id"].as_str().unwrap().to_owned();
        let t = self
            .post(
                &format!("/api/v1/users/{uid}/tokens"),
                &self.operator,
                json!({ "label": "test" }),
            )
            .await;
        assert_eq!(t.status, StatusCode::CREATED, "{}", t.text);
        (cid, uid, t.body["secret"].as_str().unwrap().to_owned())
    }
}

/// Ids a request's acceptance created, by kind of effect (`contract_created`, `option_created`,
/// `group_created`).
pub fn created(view: &Value, effect: &str) -> Vec<String> {
    view["decision"]["effects"]
        .as_array()
        .map(|effects| {
            effects
                .iter()
                .filter(|e| e["effect"] == effect)
                .filter_map(|e| e["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

impl TestApp {
    /// Submits `request` for `contractor` as the operator and accepts it on `on`.
    pub async fn accepted(&self, contractor: &str, request: Value, on: &str) -> Value {
        let reply = self
            .post(
                &format!("/api/v1/contractors/{contractor}/requests"),
                &self.operator,
                json!({ "request": request, "submitted_on": on, "accept": { "on": on } }),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "{request}: {}",
            reply.text
        );
        reply.body
    }

    /// A management, and a service adapter of `device_type` under it with the ultra
    /// send-back option: the smallest eligible set-up. Returns (management, adapter).
    pub async fn eligible_setup(
        &self,
        contractor: &str,
        device_type: &str,
        on: &str,
    ) -> (String, String) {
        let m = self
            .accepted(
                contractor,
                json!({"kind": "apply_contract", "contract_kind": "management"}),
                on,
            )
            .await;
        let m = created(&m, "contract_created")[0].clone();
        let a = self
            .accepted(
                contractor,
                json!({"kind": "apply_contract", "contract_kind": "service_adapter", "item": "internet_gateway",
                       "device_type": device_type, "management_id": m}),
                on,
            )
            .await;
        let a = created(&a, "contract_created")[0].clone();
        self.accepted(
            contractor,
            json!({"kind": "add_option", "contract_id": a, "option_kind": "ultra_sendback",
                   "install_address": "東京都千代田区大手町1-1-1"}),
            on,
        )
        .await;
        (m, a)
    }

    /// A contractor named `name` with [`TestApp::eligible_setup`]'s management and
    /// internet_gateway SEIL/X4 (¥3,000/month) with send-back (¥1,500/month), accepted on
    /// 2026-09-10 and billed from 2026-09-15. Returns (contractor, management, adapter).
    pub async fn billed_customer(&self, name: &str) -> (String, String, String) {
        let k = self
            .post(
                "/api/v1/contractors",
                &self.operator,
                json!({ "name": name }),
            )
            .await
            .body["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (m, a) = self.eligible_setup(&k, "SEIL/X4", "2026-09-10").await;
        for c in [&m, &a] {
            let r = self
                .post(
                    &format!("/api/v1/contracts/{c}/billing-start"),
                    &self.operator,
                    json!({"on": "2026-09-15"}),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        }
        (k, m, a)
    }
}

impl TestApp {
    /// Prices every key through the API with `mpc_storage::testing::sample_prices` (see
    /// there for the yen) and sets the issuer.
    pub async fn price_everything(&self) {
        let prices: Vec<Value> = mpc_storage::testing::sample_prices()
            .into_iter()
            .map(|p| json!({"key": p.key.to_string(), "effective_from": p.effective_from.to_string(), "amount": p.amount.0}))
            .collect();
        let reply = self
            .call(
                Method::PUT,
                "/api/v1/prices",
                Some(&self.operator),
                Some(json!({ "prices": prices })),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let issuer = self
            .call(
                Method::PUT,
                "/api/v1/issuer",
                Some(&self.operator),
                Some(json!({"name": "株式会社MPCネットワークス", "registration_number": "T1234567890123", "address": "東京都千代田区大手町1-1"})),
            )
            .await;
        assert_eq!(issuer.status, StatusCode::OK, "{}", issuer.text);
    }
}
