//! The injector: counts every port call by (port, method), and at the armed boundary — the Nth
//! call of one method — injects one fault. It also keeps what the harness observed on the way
//! (decided mails, hold episodes, claims and deliveries), which the invariant checker reads.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use chrono::{DateTime, FixedOffset};
use ichigen_core::OrderStatus;
use ichigen_core::pipeline::{MailKind, OrderKey, StaffDecision, StoredOrder};

/// What goes wrong at a boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    /// The call fails before reaching the adapter (a retryable `PortError`, `SendError::Unavailable`,
    /// or a retryable client error).
    Fail,
    /// The call is made on the real adapter, then reported as failed: the side effect happened
    /// but the caller does not know.
    Timeout,
    /// The call is made on the real adapter, then the process dies before the caller sees the
    /// answer; the run resumes with fresh use-case objects over the same SQLite file and outbox.
    Kill,
}

impl FaultKind {
    /// Every kind.
    pub const ALL: [FaultKind; 3] = [FaultKind::Fail, FaultKind::Timeout, FaultKind::Kill];

    /// The name in figures and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Fail => "fail",
            FaultKind::Timeout => "timeout",
            FaultKind::Kill => "kill",
        }
    }
}

impl std::fmt::Display for FaultKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for FaultKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FaultKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| format!("unknown fault kind {s:?}"))
    }
}

/// A port method: `OrderStore.put`, `OrderSource:rakuten.changed_orders` ...
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Method {
    /// The port (trait name, or the wrapper's label where one trait has several adapters).
    pub port: String,
    /// The method.
    pub method: &'static str,
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.port, self.method)
    }
}

/// One side-effect boundary: the `index`th call (1-based) of a method in a run.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Boundary {
    /// The method.
    pub method: Method,
    /// Which call.
    pub index: u64,
}

impl std::fmt::Display for Boundary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}#{}", self.method, self.index)
    }
}

/// A fault to inject once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fault {
    /// Where.
    pub at: Boundary,
    /// What.
    pub kind: FaultKind,
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at {}", self.kind, self.at)
    }
}

/// The panic payload of a simulated process death: caught at the harness boundary only.
#[derive(Debug, Clone, Copy)]
pub struct Killed;

/// What a wrapper does with the call it is making.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fire {
    /// Nothing: the call goes through.
    Pass,
    /// Fail without calling the adapter.
    Fail,
    /// Call the adapter, then report failure.
    Timeout,
    /// Call the adapter, then die.
    Kill,
}

/// A mail ledger claim the harness saw granted.
#[derive(Debug, Clone)]
pub struct SeenClaim {
    /// The mail.
    pub key: (OrderKey, MailKind),
    /// The claim's time.
    pub now: DateTime<FixedOffset>,
    /// Its lease end.
    pub lease_until: DateTime<FixedOffset>,
    /// Whether `mark_sent` was written for it.
    pub marked: bool,
}

/// A mail the outbox accepted, with what the store said about its order just before the send.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The outbox's message id.
    pub message_id: String,
    /// The claim it was sent under (index into [`Observed::claims`]), if any.
    pub claim: Option<usize>,
    /// The stored effective status at send time (`None`: not stored).
    pub status_at_send: Option<OrderStatus>,
}

/// What the harness saw through the wrappers during one scenario (all process lives).
#[derive(Debug, Default, Clone)]
pub struct Observed {
    /// (order, kind) that were ever written into an order's `mails_due`: decided mails.
    pub decided: BTreeSet<(OrderKey, MailKind)>,
    /// Times each order became held by its checks (not by a staff member's own hold).
    pub hold_episodes: BTreeMap<OrderKey, u32>,
    /// The last effective status written per order.
    pub last_status: BTreeMap<OrderKey, OrderStatus>,
    /// Mail jobs the notifier finished (sent, already sent, skipped, parked).
    pub settled: BTreeSet<(OrderKey, MailKind)>,
    /// Granted claims, in order.
    pub claims: Vec<SeenClaim>,
    /// The open claim per mail.
    pub open_claim: BTreeMap<(OrderKey, MailKind), usize>,
    /// Deliveries by message id.
    pub deliveries: BTreeMap<String, Delivery>,
    /// The mail the injected fault concerned, when it was injected at its send or its
    /// `mark_sent`: the one mail the documented duplicate window may touch.
    pub faulted_mail: Option<(OrderKey, MailKind)>,
}

/// The injector of one scenario: call counts, the armed fault, and the observations.
#[derive(Debug)]
pub struct Injector {
    armed: Option<Fault>,
    state: Mutex<State>,
    /// The observations.
    pub observed: Mutex<Observed>,
}

#[derive(Debug, Default)]
struct State {
    counts: BTreeMap<Method, u64>,
    fired: Option<Fault>,
}

impl Injector {
    /// An injector that injects `armed` (or nothing: a clean run that records boundaries).
    pub fn new(armed: Option<Fault>) -> Injector {
        Injector { armed, state: Mutex::new(State::default()), observed: Mutex::new(Observed::default()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The observations, locked.
    pub fn observed(&self) -> std::sync::MutexGuard<'_, Observed> {
        self.observed.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts a call of `port.method` and says what to do with it.
    pub fn enter(&self, port: &str, method: &'static str) -> Fire {
        let mut st = self.lock();
        let key = Method { port: port.to_string(), method };
        let n = st.counts.entry(key.clone()).or_insert(0);
        *n += 1;
        let index = *n;
        let Some(armed) = &self.armed else { return Fire::Pass };
        if st.fired.is_some() || armed.at.method != key || armed.at.index != index {
            return Fire::Pass;
        }
        st.fired = Some(armed.clone());
        match armed.kind {
            FaultKind::Fail => Fire::Fail,
            FaultKind::Timeout => Fire::Timeout,
            FaultKind::Kill => Fire::Kill,
        }
    }

    /// Calls made per method so far.
    pub fn counts(&self) -> BTreeMap<Method, u64> {
        self.lock().counts.clone()
    }

    /// The fault injected, once it was.
    pub fn fired(&self) -> Option<Fault> {
        self.lock().fired.clone()
    }

    /// A put the store accepted: records decided mails and hold episodes.
    pub fn stored(&self, order: &StoredOrder) {
        let key = order.key();
        let mut o = self.observed();
        for &kind in &order.mails_due {
            o.decided.insert((key.clone(), kind));
        }
        let before = o.last_status.insert(key.clone(), order.status);
        let by_checks = !matches!(order.staff, StaffDecision::Held { .. });
        if order.status == OrderStatus::OnHold && before != Some(OrderStatus::OnHold) && by_checks {
            *o.hold_episodes.entry(key).or_insert(0) += 1;
        }
    }

    /// A claim the ledger granted.
    pub fn claimed(&self, key: (OrderKey, MailKind), now: DateTime<FixedOffset>, lease_until: DateTime<FixedOffset>) {
        let mut o = self.observed();
        let at = o.claims.len();
        o.claims.push(SeenClaim { key: key.clone(), now, lease_until, marked: false });
        o.open_claim.insert(key, at);
    }

    /// A `mark_sent` the ledger wrote.
    pub fn marked(&self, key: &(OrderKey, MailKind)) {
        let mut o = self.observed();
        if let Some(at) = o.open_claim.remove(key) {
            o.claims[at].marked = true;
        }
    }

    /// A claim given back.
    pub fn released(&self, key: &(OrderKey, MailKind)) {
        self.observed().open_claim.remove(key);
    }

    /// A mail the outbox accepted.
    pub fn delivered(&self, key: (OrderKey, MailKind), message_id: String, status_at_send: Option<OrderStatus>) {
        let mut o = self.observed();
        let claim = o.open_claim.get(&key).copied();
        o.deliveries.insert(message_id.clone(), Delivery { message_id, claim, status_at_send });
    }

    /// The injected fault was at a call about `mail` (its send or its `mark_sent`).
    pub fn faulted_mail(&self, mail: (OrderKey, MailKind)) {
        self.observed().faulted_mail = Some(mail);
    }

    /// A job the notifier finished without error.
    pub fn settled(&self, key: (OrderKey, MailKind)) {
        self.observed().settled.insert(key);
    }
}
