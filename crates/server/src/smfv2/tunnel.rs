//! The HTTPS tunnel endpoint (brief §4.3): a device behind NAT keeps one TLS connection open
//! to mpc, and mpc pushes down it.
//!
//! The tunnel shares the SMFv2 listener's port: the listener reads the request head and hands
//! a `POST /tunnel.cgi` to [`Service::tunnel`] with the raw TLS stream, before any body is
//! read (the tunnel's body never ends). One port keeps the device's firewall rules and the
//! certificate the same as for its pulls.
//!
//! 1. The device authenticates as at the RS (Basic `distid:RS-SA-key`, compared in constant
//!    time); mpc answers `HTTP/1.1 200 OK` and a header block, and keeps the stream open.
//!    A failed authentication gets an HTTP error. A device a rule refuses (R12.3, R11.1, D6,
//!    …) is not: the reference client retries a refused tunnel every 30 s without end and
//!    keeps heartbeating, so it is let in and told to pull (step 4).
//! 2. The device sends `push-confirmation-start` (method `https-tunnel`); mpc answers with a
//!    transaction id, then sends `push-confirmation-done` under a new chunk id; the device's
//!    success answer confirms push. Its tunnel then enters this node's registry
//!    ([`super::push`]) and the device starts its heartbeats.
//! 3. Echo requests are answered; a tunnel silent for three echo intervals (the device echoes
//!    every interval), or not confirmed within a minute, is closed.
//! 4. The registry's commands send `pull-config` or close the tunnel. A refused device —
//!    withdrawn while tunnelled, or refused when it confirms — is not confirmed into the
//!    registry but sent `pull-config`: it answers, leaves push-wait (its heartbeats stop) and
//!    pulls, and the RS refuses the pull with the rule. The tunnel ends at its answer, or
//!    after [`STEP_TIMEOUT`] without one.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::sync::mpsc;

use super::chunk::{self, Decoder, Frame};
use super::http;
use super::listener::{Role, STEP_TIMEOUT, Service};
use super::message::{self, DistributionId, ResultCode};
use super::push::{Command, QUEUE};
use crate::device::cache::Verdict;

/// Where devices open their tunnel, on the listener's port.
pub const TUNNEL_PATH: &str = "/tunnel.cgi";

/// How long a device may take to confirm push once its tunnel is open.
const CONFIRM_WITHIN: Duration = Duration::from_secs(60);

/// The answer that opens the tunnel: the device checks its status line is exactly
/// `HTTP/1.1 200`, then reads chunks.
const OPENED: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n";

/// The first chunk id of mpc's own requests down a tunnel; each request takes the next.
const FIRST_ID: u32 = 1000;

type Error = Box<dyn std::error::Error + Send + Sync>;

async fn send<S: AsyncWrite + Unpin>(stream: &mut S, bytes: &[u8]) -> Result<(), Error> {
    tokio::time::timeout(STEP_TIMEOUT, async {
        stream.write_all(bytes).await?;
        stream.flush().await
    })
    .await??;
    Ok(())
}

async fn refuse<S: AsyncWrite + Unpin>(stream: &mut S) -> Result<(), Error> {
    let write = http::write_response(stream, 403, "Forbidden", "text/plain", b"");
    tokio::time::timeout(STEP_TIMEOUT, write).await??;
    let _ = tokio::time::timeout(STEP_TIMEOUT, stream.shutdown()).await;
    Ok(())
}

/// A transaction id for a push confirmation: positive, to fit the client's `int`.
fn transaction_id() -> u32 {
    let mut bytes = [0u8; 4];
    // Without randomness the id is still valid; it only names this confirmation.
    let _ = getrandom::fill(&mut bytes);
    (u32::from_be_bytes(bytes) & 0x7fff_ffff).max(1)
}

/// Where a tunnel stands.
struct Session {
    serial: String,
    distribution_id: DistributionId,
    conn: u64,
    /// Given to the registry at confirmation.
    tx: Option<mpsc::Sender<Command>>,
    transaction: Option<u32>,
    confirmed: bool,
    next_id: u32,
    /// Set once the device was told to pull because a rule refuses it: the tunnel ends at its
    /// answer, or at this instant.
    ending: Option<tokio::time::Instant>,
}

impl Session {
    fn request_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.checked_add(1).unwrap_or(FIRST_ID);
        id
    }
}

/// What a tunnel message leads to.
enum Next {
    Continue,
    End,
}

impl Service {
    /// Serves one tunnel until it ends (see the module doc). `rest` holds the bytes read past
    /// the request head.
    pub(super) async fn tunnel<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        mut stream: S,
        head: &http::Request,
        rest: Vec<u8>,
        peer: SocketAddr,
    ) -> Result<(), Error> {
        let (user, _) = head.basic_auth().unwrap_or_default();
        let Some((serial, identity)) = self.authenticate(head, &user, Role::Rs).await? else {
            tracing::info!(%peer, distribution_id = %user, "SMFv2 tunnel: authentication failed");
            return refuse(&mut stream).await;
        };
        let Ok(distribution_id) = DistributionId::parse(&identity.distribution_id) else {
            return refuse(&mut stream).await;
        };
        if let Verdict::Refused(r) | Verdict::Incomplete(r) = self.verdict(&serial).await? {
            // Let in all the same, to be told to pull when it confirms (see the module doc).
            let store = &self.state.store;
            self.tell(store, &serial, "push.refused", Some(r.rule), &r.message_en)
                .await?;
        }
        send(&mut stream, OPENED).await?;
        let (tx, rx) = mpsc::channel(QUEUE);
        let mut session = Session {
            serial,
            distribution_id,
            conn: self.registry.connection(),
            tx: Some(tx),
            transaction: None,
            confirmed: false,
            next_id: FIRST_ID,
            ending: None,
        };
        let result = self.run(&mut stream, &mut session, rx, rest).await;
        self.registry.closed(&session.serial, session.conn);
        let _ = tokio::time::timeout(STEP_TIMEOUT, stream.shutdown()).await;
        result
    }

    async fn run<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        stream: &mut S,
        session: &mut Session,
        mut rx: mpsc::Receiver<Command>,
        rest: Vec<u8>,
    ) -> Result<(), Error> {
        let mut decoder = Decoder::new();
        decoder.feed(&rest);
        let idle = Duration::from_secs(u64::from(self.echo_interval) * 3);
        let confirm_by = tokio::time::Instant::now() + CONFIRM_WITHIN;
        let mut quiet_until = tokio::time::Instant::now() + idle;
        let mut buf = vec![0u8; 4096];
        loop {
            while let Some(frame) = decoder.next_frame()? {
                match frame {
                    Frame::EchoRequest => send(stream, chunk::ECHO_RESPONSE).await?,
                    Frame::EchoResponse => {}
                    Frame::End => {
                        send(stream, chunk::END).await?;
                        return Ok(());
                    }
                    Frame::Message { id, body } => {
                        if let Next::End = self.message(stream, session, id, &body).await? {
                            return Ok(());
                        }
                    }
                }
            }
            let mut wake = if session.confirmed {
                quiet_until
            } else {
                quiet_until.min(confirm_by)
            };
            if let Some(ending) = session.ending {
                wake = wake.min(ending);
            }
            tokio::select! {
                read = stream.read(&mut buf) => {
                    let n = read?;
                    if n == 0 {
                        return Ok(());
                    }
                    decoder.feed(&buf[..n]);
                    quiet_until = tokio::time::Instant::now() + idle;
                }
                command = rx.recv() => match command {
                    Some(Command::PullConfig { revision }) => {
                        let id = session.request_id();
                        let request = message::render_pull_config(session.distribution_id);
                        send(stream, &chunk::encode_message(id, request.as_bytes())).await?;
                        let revision = revision.map_or_else(
                            || "the item's defaults".to_owned(),
                            |r| format!("revision {r}"),
                        );
                        self.tell(&self.state.store, &session.serial, "push.pull-config", None,
                            &format!("pull-config sent: {revision} awaits the device")).await?;
                    }
                    Some(Command::Withdraw { rule, why }) => {
                        self.withdraw(stream, session, &rule, &why).await?;
                    }
                    Some(Command::Close { rule, why }) => {
                        send(stream, chunk::END).await?;
                        self.tell(&self.state.store, &session.serial, "push.closed",
                            rule.as_deref(), &why).await?;
                        return Ok(());
                    }
                    None => return Ok(()),
                },
                () = tokio::time::sleep_until(wake) => {
                    tracing::debug!(serial = %session.serial, "SMFv2 tunnel timed out");
                    return Ok(());
                }
            }
        }
    }

    /// Tells a device a rule refuses to pull (it is refused there with `rule`), and has the
    /// tunnel end at its answer or after [`STEP_TIMEOUT`].
    async fn withdraw<S: AsyncWrite + Unpin>(
        &self,
        stream: &mut S,
        session: &mut Session,
        rule: &str,
        why: &str,
    ) -> Result<(), Error> {
        if session.ending.is_some() {
            return Ok(());
        }
        session.ending = Some(tokio::time::Instant::now() + STEP_TIMEOUT);
        let id = session.request_id();
        let request = message::render_pull_config(session.distribution_id);
        send(stream, &chunk::encode_message(id, request.as_bytes())).await?;
        let detail = format!("pull-config sent to be refused: {why}");
        self.tell(
            &self.state.store,
            &session.serial,
            "push.withdrawn",
            Some(rule),
            &detail,
        )
        .await?;
        Ok(())
    }

    /// Handles one message the device sent down the tunnel.
    async fn message<S: AsyncWrite + Unpin>(
        &self,
        stream: &mut S,
        session: &mut Session,
        id: u32,
        body: &[u8],
    ) -> Result<Next, Error> {
        let Ok(text) = std::str::from_utf8(body) else {
            return Ok(Next::End);
        };
        if let Ok(request) = message::parse_request(text) {
            if request.kind != "push-confirmation-start" {
                tracing::debug!(serial = %session.serial, kind = %request.kind,
                    "SMFv2 tunnel: request not served");
                let answer = message::render_result(&request.kind, ResultCode::ServerBusy)?;
                send(stream, &chunk::encode_message(id, answer.as_bytes())).await?;
                return Ok(Next::Continue);
            }
            if request.distribution_id != session.distribution_id.to_string() {
                let answer =
                    message::render_result(&request.kind, ResultCode::DistributionIdMismatch)?;
                send(stream, &chunk::encode_message(id, answer.as_bytes())).await?;
                return Ok(Next::Continue);
            }
            let transaction = transaction_id();
            session.transaction = Some(transaction);
            let answer = message::render_push_confirmation_start(transaction);
            send(stream, &chunk::encode_message(id, answer.as_bytes())).await?;
            let done = message::render_push_confirmation_done(session.distribution_id, transaction);
            let id = session.request_id();
            send(stream, &chunk::encode_message(id, done.as_bytes())).await?;
            return Ok(Next::Continue);
        }
        let Ok(response) = message::parse_response(text) else {
            tracing::debug!(serial = %session.serial, "SMFv2 tunnel: not an ARMS message");
            return Ok(Next::End);
        };
        let store = &self.state.store;
        match response.kind.as_str() {
            "push-confirmation-done" if session.transaction.is_some() && !session.confirmed => {
                if response.result_code != Some(100) {
                    let detail = format!("push confirmation answered {:?}", response.result_code);
                    self.tell(store, &session.serial, "push.failed", None, &detail)
                        .await?;
                    return Ok(Next::End);
                }
                if let Verdict::Refused(r) | Verdict::Incomplete(r) =
                    self.verdict(&session.serial).await?
                {
                    // Not confirmed into push-wait: told to pull, and refused there.
                    self.withdraw(stream, session, r.rule, &r.message_en)
                        .await?;
                    return Ok(Next::Continue);
                }
                let served = mpc_storage::smfv2::served(store, &session.serial).await?;
                session.confirmed = true;
                if let Some(tx) = session.tx.take() {
                    self.registry
                        .open(&session.serial, session.conn, tx, served.as_deref());
                }
                self.tell(
                    store,
                    &session.serial,
                    "push.confirmed",
                    None,
                    "push confirmed over the HTTPS tunnel",
                )
                .await?;
                // A change made between the device's pull and now is announced at once.
                self.check(&session.serial).await?;
            }
            "pull-config" => {
                let code = response
                    .result_code
                    .map_or_else(|| "no code".to_owned(), |c| c.to_string());
                self.tell(
                    store,
                    &session.serial,
                    "push.pull-config.answered",
                    None,
                    &format!("pull-config answered {code}"),
                )
                .await?;
                if session.ending.is_some() {
                    // It pulls now, and is refused there.
                    send(stream, chunk::END).await?;
                    return Ok(Next::End);
                }
            }
            other => {
                tracing::debug!(serial = %session.serial, kind = other,
                    "SMFv2 tunnel: unexpected response");
            }
        }
        Ok(Next::Continue)
    }
}
