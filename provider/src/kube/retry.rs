//! Retrying a request whose failure says nothing about the request itself: the connection was
//! refused, reset or timed out, or the API server answered 429, 500, 502, 503 or 504 (or
//! said that it could not connect to itself, as while it shuts down). Each
//! retry waits longer (exponential backoff with jitter, or the server's `retryAfterSeconds`),
//! and none starts after the operation's deadline. kube's own retry layer is switched off in
//! both client builders so a request is never retried twice over.
//!
//! What a retry must mean is the caller's business: server-side apply is idempotent, a GET or
//! LIST reads again, and a delete whose first try may have happened treats a 404 as success.
//!
//! Until the API server has answered a client once ([`Contact`]), a failed connection is
//! retried for [`FIRST_CONTACT_BUDGET`] only: it is nearly always a wrong address or a cluster
//! that is down, and the user wants to hear so at once. After an answer it is a restart or a
//! network blip, worth the whole budget. A watch that breaks right after it opened is opened
//! again with the same backoff ([`Reopen`]), so a sick API server sees no hot loop.

use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// How long one request is retried when its caller has no deadline of its own.
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(30);
/// How long failed connections are retried before the API server has ever answered, counted
/// from the client's first try: four or five tries with the backoff below, enough for a local
/// API server that is restarting (a few seconds) and far less than a user waits for a typo.
pub const FIRST_CONTACT_BUDGET: Duration = Duration::from_secs(5);
/// A watch open this long (or one that delivered an event) was healthy: its next break
/// starts the re-open backoff over. Twice the longest backoff wait.
const WATCH_HEALTHY: Duration = Duration::from_secs(10);
/// First wait, and the longest one.
const BASE: Duration = Duration::from_millis(200);
const CAP: Duration = Duration::from_secs(5);
/// How long one try waits for its answer. The API server answers every request that is not
/// a watch within its own request timeout (60 s by default), with a 504 if need be; an answer
/// that has not come by then was lost with a connection that stays open (a proxy or load
/// balancer that dropped it without a reset), and waiting for the client's read timeout
/// would hold the operation for five minutes.
const TRY_TIMEOUT: Duration = Duration::from_secs(60);
/// A 500 may be the server failing the same way every time (a malformed value through
/// server-side apply answers 500): a few tries, not the whole budget.
const MAX_INTERNAL_ERROR_RETRIES: u32 = 3;

/// Why a failed request may be sent again.
#[derive(Debug, PartialEq, Eq)]
pub enum Retryable {
    /// The connection failed (refused, reset, closed early, timed out).
    Connection,
    /// The API server is overloaded or unavailable (429, 502, 503, 504); it may say how long
    /// to wait.
    Unavailable { retry_after: Option<Duration> },
    /// 500: worth a few more tries only.
    InternalError,
}

/// Whether `e` is worth retrying, and why.
pub fn classify(e: &kube::Error) -> Option<Retryable> {
    match e {
        kube::Error::Api(s) => match s.code {
            429 | 502 | 503 | 504 => Some(Retryable::Unavailable {
                retry_after: s
                    .details
                    .as_ref()
                    .map(|d| d.retry_after_seconds)
                    .filter(|&s| s > 0)
                    .map(|s| Duration::from_secs(u64::from(s))),
            }),
            500 => Some(Retryable::InternalError),
            // The API server could not reach itself or etcd (it is shutting down or starting):
            // e.g. 422 "failed to allocate IP: ... dial tcp ...: connect: connection refused".
            // Nothing is wrong with the request; a few more tries, as for a 500.
            _ if s.message.contains("connect: connection refused") => {
                Some(Retryable::InternalError)
            }
            _ => None,
        },
        kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::ReadEvents(_) => {
            broken_connection(e).then_some(Retryable::Connection)
        }
        _ => None,
    }
}

/// Whether anything in `e`'s chain of causes is a failed or broken connection.
fn broken_connection(e: &(dyn std::error::Error + 'static)) -> bool {
    use std::io::ErrorKind::*;
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                ConnectionRefused
                    | ConnectionReset
                    | ConnectionAborted
                    | NotConnected
                    | BrokenPipe
                    | TimedOut
                    | UnexpectedEof
            )
        {
            return true;
        }
        if let Some(h) = c.downcast_ref::<hyper::Error>()
            && (h.is_incomplete_message() || h.is_closed() || h.is_canceled() || h.is_timeout())
        {
            return true;
        }
        if let Some(h) = c.downcast_ref::<hyper_util::client::legacy::Error>()
            && h.is_connect()
        {
            return true;
        }
        cause = c.source();
    }
    false
}

/// The wait before retry number `attempt` (0 for the first retry) of a request that failed
/// for `why`, or `None` when the wait would end after `deadline`. `jitter` in [0, 1) spreads
/// the clients that failed together.
pub fn next_delay(
    why: &Retryable,
    attempt: u32,
    now: Instant,
    deadline: Instant,
    jitter: f64,
) -> Option<Duration> {
    let exp = BASE.saturating_mul(1u32 << attempt.min(16)).min(CAP);
    // Half fixed, half random: never a hot loop, never all clients at once.
    let backoff = exp / 2 + exp.mul_f64(jitter.clamp(0.0, 1.0) / 2.0);
    let delay = match why {
        Retryable::Unavailable {
            retry_after: Some(after),
        } => backoff.max(*after),
        _ => backoff,
    };
    (now + delay <= deadline).then_some(delay)
}

/// The failures of one request so far. Every failure lengthens the backoff; only 500s count
/// toward their own small limit, so a request that met a reset and two 503s still gets its
/// tries when a 500 follows.
#[derive(Debug, Default)]
struct Failures {
    count: u32,
    internal: u32,
}

impl Failures {
    /// Count a failure for `why`: the wait before the next try, or `None` when the request
    /// must not be tried again (too many 500s, or the wait would end after `deadline`).
    fn next(
        &mut self,
        why: &Retryable,
        now: Instant,
        deadline: Instant,
        jitter: f64,
    ) -> Option<Duration> {
        if *why == Retryable::InternalError {
            if self.internal >= MAX_INTERNAL_ERROR_RETRIES {
                return None;
            }
            self.internal += 1;
        }
        let delay = next_delay(why, self.count, now, deadline, jitter)?;
        self.count += 1;
        Some(delay)
    }

    /// How many failures were retried so far.
    fn retried(&self) -> u32 {
        self.count
    }
}

/// Whether the API server has answered one client yet (any HTTP answer shows that the address
/// is right and something serves it), and when that client first tried. One per client.
#[derive(Debug, Default)]
pub struct Contact {
    answered: AtomicBool,
    first_try: OnceLock<Instant>,
}

impl Contact {
    fn trying(&self, now: Instant) {
        self.first_try.get_or_init(|| now);
    }

    fn answered(&self) {
        self.answered.store(true, Ordering::Relaxed);
    }

    /// Until when a failure for `why` is retried, for a request whose own deadline is
    /// `deadline`: a failed connection before any answer only within the first-contact
    /// budget (shared by all requests, so a run that never reaches the server fails once).
    fn retry_deadline(&self, why: &Retryable, deadline: Instant) -> Instant {
        match self.first_try.get() {
            Some(&first)
                if *why == Retryable::Connection && !self.answered.load(Ordering::Relaxed) =>
            {
                deadline.min(first + FIRST_CONTACT_BUDGET)
            }
            _ => deadline,
        }
    }
}

/// Paces the re-opening of one watch: the first open goes at once; after the watch ended or
/// broke, the next waits as a retry would, longer each time it breaks again soon, starting
/// over once a watch delivered an event or stayed open [`WATCH_HEALTHY`].
#[derive(Debug, Default)]
pub struct Reopen {
    breaks: u32,
    last_open: Option<Instant>,
}

impl Reopen {
    /// The wait before opening the watch at `now` (after it, the open counts as done); never
    /// past `deadline`. `jitter` in [0, 1) as for [`next_delay`].
    pub fn before_open(&mut self, now: Instant, deadline: Instant, jitter: f64) -> Duration {
        let Some(last) = self.last_open else {
            self.last_open = Some(now);
            return Duration::ZERO;
        };
        if now.saturating_duration_since(last) >= WATCH_HEALTHY {
            self.breaks = 0;
        }
        let delay = next_delay(&Retryable::Connection, self.breaks, now, deadline, jitter)
            .unwrap_or_else(|| deadline.saturating_duration_since(now));
        self.breaks = self.breaks.saturating_add(1);
        self.last_open = Some(now + delay);
        delay
    }

    /// The watch delivered an event: it works, its next break is a first one.
    pub fn delivered(&mut self) {
        self.breaks = 0;
    }

    /// Sleep as [`Reopen::before_open`] says, before opening the watch `what`.
    pub async fn pause(&mut self, what: &str, deadline: Instant) {
        let delay = self.before_open(Instant::now(), deadline, jitter());
        if !delay.is_zero() {
            tracing::debug!(
                watch = what,
                delay_ms = delay.as_millis() as u64,
                "opening the watch again"
            );
            tokio::time::sleep(delay).await;
        }
    }
}

/// A number in [0, 1) from the process's random hash keys and the clock.
fn jitter() -> f64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::UNIX_EPOCH
            .elapsed()
            .map_or(0, |d| d.as_nanos()),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Run `send` until it succeeds, fails in a way a retry cannot fix, or the next try would
/// start after `deadline` (or after the first-contact budget, see [`Contact`]). `what` names
/// the request in the log.
pub async fn until<T, F, Fut>(
    contact: &Contact,
    what: &str,
    deadline: Instant,
    send: F,
) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, kube::Error>>,
{
    until_with(contact, what, deadline, TRY_TIMEOUT, send).await
}

/// [`until`], each try given up after `try_timeout` without an answer (and retried as a
/// broken connection).
async fn until_with<T, F, Fut>(
    contact: &Contact,
    what: &str,
    deadline: Instant,
    try_timeout: Duration,
    mut send: F,
) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, kube::Error>>,
{
    let mut failures = Failures::default();
    loop {
        contact.trying(Instant::now());
        let e = match tokio::time::timeout(try_timeout, send()).await {
            Ok(Ok(v)) => {
                contact.answered();
                return Ok(v);
            }
            Ok(Err(e)) => e,
            Err(_) => no_answer(try_timeout),
        };
        if matches!(e, kube::Error::Api(_)) {
            contact.answered();
        }
        let Some(why) = classify(&e) else {
            return Err(e);
        };
        let until = contact.retry_deadline(&why, deadline);
        let Some(delay) = failures.next(&why, Instant::now(), until, jitter()) else {
            return Err(e);
        };
        tracing::warn!(request = what, attempt = failures.retried(), delay_ms = delay.as_millis() as u64, error = %e, "transient API error; retrying");
        tokio::time::sleep(delay).await;
    }
}

/// The error of a try that got no answer within `waited`: a timed-out connection, so it is
/// retried as one.
fn no_answer(waited: Duration) -> kube::Error {
    kube::Error::Service(Box::new(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!(
            "no answer from the API server within {}s",
            waited.as_secs_f64()
        ),
    )))
}

impl super::Cluster {
    /// [`until`] for this cluster's client, with the default budget from now.
    pub async fn retry<T, F, Fut>(&self, what: &str, send: F) -> Result<T, kube::Error>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, kube::Error>>,
    {
        until(&self.contact, what, Instant::now() + DEFAULT_BUDGET, send).await
    }

    /// [`until`] for this cluster's client.
    pub async fn retry_until<T, F, Fut>(
        &self,
        what: &str,
        deadline: Instant,
        send: F,
    ) -> Result<T, kube::Error>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, kube::Error>>,
    {
        until(&self.contact, what, deadline, send).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;
    use kube::core::response::StatusDetails;

    fn api(code: u16, retry_after: u32) -> kube::Error {
        kube::Error::Api(Box::new(Status {
            code,
            details: serde_json::from_value::<StatusDetails>(
                serde_json::json!({ "retryAfterSeconds": retry_after }),
            )
            .ok(),
            ..Status::default()
        }))
    }

    fn io(kind: std::io::ErrorKind) -> std::io::Error {
        std::io::Error::new(kind, "test")
    }

    #[test]
    fn transient_errors_are_retried_and_answers_about_the_request_are_not() {
        assert_eq!(
            classify(&api(429, 2)),
            Some(Retryable::Unavailable {
                retry_after: Some(Duration::from_secs(2))
            })
        );
        for code in [502, 503, 504] {
            assert_eq!(
                classify(&api(code, 0)),
                Some(Retryable::Unavailable { retry_after: None })
            );
        }
        assert_eq!(classify(&api(500, 0)), Some(Retryable::InternalError));
        for code in [400, 401, 403, 404, 409, 410, 422] {
            assert_eq!(classify(&api(code, 0)), None, "{code}");
        }
        // A server that could not reach itself while restarting: a few more tries.
        let mut restarting = Status {
            code: 422,
            message: "Service \"web\" is invalid: spec.clusterIPs: Invalid value: [\"\"]: failed to allocate IP: Post \"https://127.0.0.1:6443/apis/networking.k8s.io/v1/ipaddresses\": dial tcp 127.0.0.1:6443: connect: connection refused".into(),
            ..Status::default()
        };
        assert_eq!(
            classify(&kube::Error::Api(Box::new(restarting.clone()))),
            Some(Retryable::InternalError)
        );
        restarting.message =
            "Service \"web\" is invalid: spec.ports[0].port: Invalid value: 0".into();
        assert_eq!(classify(&kube::Error::Api(Box::new(restarting))), None);
        use std::io::ErrorKind::*;
        for kind in [ConnectionRefused, ConnectionReset, TimedOut, UnexpectedEof] {
            let e = kube::Error::Service(Box::new(io(kind)));
            assert_eq!(classify(&e), Some(Retryable::Connection), "{kind:?}");
            assert_eq!(
                classify(&kube::Error::ReadEvents(io(kind))),
                Some(Retryable::Connection)
            );
        }
        // A cause further down the chain counts (a connect error wrapping the refusal).
        #[derive(Debug, thiserror::Error)]
        #[error("connect failed")]
        struct Wrapper(#[source] std::io::Error);
        let wrapped = kube::Error::Service(Box::new(Wrapper(io(ConnectionRefused))));
        assert_eq!(classify(&wrapped), Some(Retryable::Connection));
        assert_eq!(
            classify(&kube::Error::Service(Box::new(io(PermissionDenied)))),
            None
        );
        let bad_json = serde_json::from_str::<u8>("x").unwrap_err();
        assert_eq!(classify(&kube::Error::SerdeError(bad_json)), None);
    }

    #[test]
    fn backoff_grows_to_its_cap_with_jitter_and_stops_at_the_deadline() {
        let now = Instant::now();
        let far = now + Duration::from_secs(3600);
        let conn = Retryable::Connection;
        let d = |attempt, jitter| next_delay(&conn, attempt, now, far, jitter).unwrap();
        assert_eq!(d(0, 0.0), Duration::from_millis(100));
        assert_eq!(d(1, 0.0), Duration::from_millis(200));
        assert_eq!(d(2, 0.0), Duration::from_millis(400));
        assert!(d(0, 0.99) > d(0, 0.0) && d(0, 0.99) < Duration::from_millis(200));
        assert_eq!(d(30, 0.0), CAP / 2);
        assert!(d(30, 0.99) <= CAP);
        // No wait ends past the deadline.
        let soon = now + Duration::from_millis(150);
        assert_eq!(
            next_delay(&conn, 0, now, soon, 0.0),
            Some(Duration::from_millis(100))
        );
        assert_eq!(next_delay(&conn, 1, now, soon, 0.0), None);
        // The server's Retry-After is honoured, and bounded by the deadline too.
        let busy = Retryable::Unavailable {
            retry_after: Some(Duration::from_secs(3)),
        };
        assert_eq!(
            next_delay(&busy, 0, now, far, 0.5),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            next_delay(&busy, 0, now, now + Duration::from_secs(2), 0.5),
            None
        );
    }

    #[test]
    fn only_500s_count_toward_their_limit() {
        let now = Instant::now();
        let far = now + Duration::from_secs(3600);
        let internal = Retryable::InternalError;
        // A 500 answered every time: a few retries, then the error.
        let mut always = Failures::default();
        for _ in 0..MAX_INTERNAL_ERROR_RETRIES {
            assert!(always.next(&internal, now, far, 0.0).is_some());
        }
        assert_eq!(always.next(&internal, now, far, 0.0), None);
        // Other failures before a 500 do not use up its tries, but they do lengthen the wait.
        let mut mixed = Failures::default();
        let busy = Retryable::Unavailable { retry_after: None };
        for why in [Retryable::Connection, busy, Retryable::Connection] {
            assert!(mixed.next(&why, now, far, 0.0).is_some());
        }
        assert_eq!(
            mixed.next(&internal, now, far, 0.0),
            Some(Duration::from_millis(800))
        );
        assert_eq!(mixed.retried(), 4);
        // A failure whose wait would end past the deadline is not counted as retried.
        let mut late = Failures::default();
        assert_eq!(late.next(&internal, now, now, 0.0), None);
        assert_eq!(late.retried(), 0);
    }

    #[test]
    fn before_any_answer_failed_connections_get_the_first_contact_budget_only() {
        let contact = Contact::default();
        let t = Instant::now();
        let far = t + Duration::from_secs(300);
        contact.trying(t);
        // The budget counts from the client's first try, whichever request it was.
        contact.trying(t + Duration::from_secs(3));
        let conn = Retryable::Connection;
        assert_eq!(contact.retry_deadline(&conn, far), t + FIRST_CONTACT_BUDGET);
        let soon = t + Duration::from_secs(1);
        assert_eq!(contact.retry_deadline(&conn, soon), soon);
        // An overloaded server did answer: its 503 gets the request's whole budget.
        let busy = Retryable::Unavailable { retry_after: None };
        assert_eq!(contact.retry_deadline(&busy, far), far);
        contact.answered();
        assert_eq!(contact.retry_deadline(&conn, far), far);
    }

    #[tokio::test]
    async fn until_gives_up_on_an_unreachable_server_at_once_but_not_on_one_that_answered() {
        use std::sync::atomic::AtomicU32;
        let refused = || kube::Error::Service(Box::new(io(std::io::ErrorKind::ConnectionRefused)));
        let tries = AtomicU32::new(0);
        let send = || {
            tries.fetch_add(1, Ordering::Relaxed);
            async { Err::<(), _>(refused()) }
        };
        // Nothing answered since the first try, a budget ago: one more try, however far the
        // request's own deadline.
        let contact = Contact::default();
        let first = Instant::now().checked_sub(FIRST_CONTACT_BUDGET);
        contact.trying(first.unwrap_or_else(Instant::now));
        let far = Instant::now() + Duration::from_secs(60);
        assert!(until(&contact, "get", far, send).await.is_err());
        assert_eq!(tries.swap(0, Ordering::Relaxed), 1);
        // Any answer (a 404 too) shows the server is there: connections failing after it are
        // retried until the request's deadline (tries at about 0, 0.1 and 0.3 s).
        let missing = until(&contact, "get", far, || async { Err::<(), _>(api(404, 0)) }).await;
        assert!(matches!(missing, Err(kube::Error::Api(_))));
        let deadline = Instant::now() + Duration::from_millis(700);
        assert!(until(&contact, "get", deadline, send).await.is_err());
        assert!(tries.load(Ordering::Relaxed) >= 3, "{tries:?}");
    }

    #[tokio::test]
    async fn a_try_without_an_answer_is_given_up_and_retried_as_a_broken_connection() {
        use std::sync::atomic::AtomicU32;
        let contact = Contact::default();
        contact.answered();
        let tries = AtomicU32::new(0);
        // An answer that never comes, on a connection that stays open.
        let send = || {
            tries.fetch_add(1, Ordering::Relaxed);
            std::future::pending::<Result<(), kube::Error>>()
        };
        let deadline = Instant::now() + Duration::from_millis(400);
        let try_timeout = Duration::from_millis(50);
        let e = until_with(&contact, "get", deadline, try_timeout, send)
            .await
            .expect_err("no answer is an error");
        assert_eq!(classify(&e), Some(Retryable::Connection));
        assert!(
            e.to_string().contains("no answer from the API server"),
            "{e}"
        );
        // Retried until the deadline, then the error.
        assert!(tries.load(Ordering::Relaxed) >= 2, "{tries:?}");
    }

    #[test]
    fn a_watch_breaking_again_soon_is_reopened_with_a_growing_wait() {
        let t = Instant::now();
        let far = t + Duration::from_secs(600);
        let mut reopen = Reopen::default();
        // The first open goes at once.
        assert_eq!(reopen.before_open(t, far, 0.0), Duration::ZERO);
        // Each break right after the open waits longer, as retries do.
        let mut now = t;
        let mut waits = Vec::new();
        for _ in 0..8 {
            let wait = reopen.before_open(now, far, 0.0);
            waits.push(wait.as_millis());
            now += wait + Duration::from_millis(10);
        }
        assert_eq!(waits, [100, 200, 400, 800, 1600, 2500, 2500, 2500]);
        // Jitter spreads the waits.
        let mut jittered = Reopen::default();
        jittered.before_open(t, far, 0.0);
        assert!(jittered.before_open(t, far, 0.9) > Duration::from_millis(100));
        // A watch that delivered an event worked: its next break starts over.
        reopen.delivered();
        assert_eq!(
            reopen.before_open(now, far, 0.0),
            Duration::from_millis(100)
        );
        assert_eq!(
            reopen.before_open(now, far, 0.0),
            Duration::from_millis(200)
        );
        // So does one that stayed open a while without events (the server ends each watch).
        now += WATCH_HEALTHY + Duration::from_secs(1);
        assert_eq!(
            reopen.before_open(now, far, 0.0),
            Duration::from_millis(100)
        );
        // No wait ends past the deadline.
        let close = now + Duration::from_millis(150);
        assert_eq!(
            reopen.before_open(now, close, 0.0),
            Duration::from_millis(150)
        );
    }

    #[test]
    fn jitter_is_in_range() {
        for _ in 0..100 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j));
        }
    }
}
