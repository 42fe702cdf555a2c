//! Read-back: what each server holds under `/zkchaos/keys` and `/zkchaos/seq`, and which
//! ephemeral znodes `/zkchaos/eph/<token>` it still lists, read from that server alone.
//!
//! One session per server, connected to that server's own client address only, as the backend
//! reports it (a published 127.0.0.1 port, or an engine's address): a multi-host connect string
//! would fail over and hide a server that lost data. After a `sync`,
//! the children of both parents are listed and every znode's data is fetched with many requests
//! in flight at once (`buffer_unordered`): one round trip per znode in sequence would take
//! minutes for 100k znodes. Every call is bounded by a timeout, and the whole server by a
//! deadline; a server that cannot be read fully yields `error: Some(why)` (the audit then says
//! UNKNOWN for it) rather than a partial picture that would look like loss.
//!
//! Memory: an hour's run leaves ~720,000 sequential znodes. Their names arrive as one list of
//! strings (~50 MB); it is turned into sequence numbers at once ([`SeqListing`]), and servers
//! take turns to connect and list (each server's deadline starts with its turn); the answers go
//! straight into [`SeqNodes`] (~12 bytes a znode).
//!
//! Read-backs are stored as `readback.json.gz` ([`crate::record::readback`]) so `zkchaos analyze`
//! can re-run the audit.

use futures_util::stream::{self, StreamExt, TryStreamExt};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;
use zookeeper_client as zk;

use crate::plan::keyspace::{EPH_DIR, KEYS_DIR, SEQ_DIR, SEQ_PREFIX};
use crate::record::seqnodes::{seq_number, SeqNodes};
pub use crate::record::ServerReadback;

/// Limits of a read-back.
#[derive(Debug, Clone)]
pub struct ReadbackOptions {
    /// Bound on connecting (the session handshake) to one server.
    pub connect_timeout: Duration,
    /// Bound on each ZooKeeper call.
    pub call_timeout: Duration,
    /// Bound on reading one whole server.
    pub total_timeout: Duration,
    /// getData requests in flight per server.
    pub concurrency: usize,
    pub session_timeout: Duration,
}

impl Default for ReadbackOptions {
    fn default() -> Self {
        ReadbackOptions {
            connect_timeout: Duration::from_secs(10),
            call_timeout: Duration::from_secs(10),
            // An hour at 2,000 ops/s leaves ~720 k sequential znodes; read at ~20 k znodes/s here
            // that is ~40 s for one server, more on a loaded host: UNKNOWN for want of time would
            // cost more than waiting.
            total_timeout: Duration::from_secs(300),
            concurrency: 256,
            session_timeout: Duration::from_secs(20),
        }
    }
}

/// Read every server in parallel (connecting and listing in turn). `token_of` recovers the token
/// from a value (e.g. `|b| workload::token_of(b).map(str::to_owned)`).
pub async fn read_all<F>(servers: &[(u32, SocketAddr)], opts: &ReadbackOptions, token_of: &F) -> Vec<ServerReadback>
where
    F: Fn(&[u8]) -> Option<String> + Sync,
{
    // One server at a time connects and lists its children: the names of 720,000 znodes are
    // ~50 MB of strings until they are compacted, and three listings at once would be the run's
    // peak. Each server's deadline starts with its turn, so waiting does not eat into it.
    let listing = tokio::sync::Semaphore::new(1);
    futures_util::future::join_all(servers.iter().map(|(id, addr)| read_one(*id, *addr, opts, token_of, &listing)))
        .await
}

/// Read one server through `addr` (the backend's address of that server). Never fails: an
/// unreadable server is a readback with `error` set.
pub async fn read_server<F>(server: u32, addr: SocketAddr, opts: &ReadbackOptions, token_of: &F) -> ServerReadback
where
    F: Fn(&[u8]) -> Option<String> + Sync,
{
    read_one(server, addr, opts, token_of, &tokio::sync::Semaphore::new(1)).await
}

async fn read_one<F>(
    server: u32,
    addr: SocketAddr,
    opts: &ReadbackOptions,
    token_of: &F,
    listing: &tokio::sync::Semaphore,
) -> ServerReadback
where
    F: Fn(&[u8]) -> Option<String> + Sync,
{
    let started = std::time::Instant::now();
    let turn = match listing.acquire().await {
        Ok(turn) => turn,
        // Never closed; were it, the read-back could not proceed.
        Err(e) => return ServerReadback::unreadable(server, format!("read-back of zk{server} at {addr}: {e}")),
    };
    let result = tokio::time::timeout(opts.total_timeout, read_inner(server, addr, opts, token_of, turn)).await;
    match result {
        Ok(Ok(rb)) => {
            tracing::debug!(
                server,
                keys = rb.keys.len(),
                seq = rb.seq.len(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "read back"
            );
            rb
        }
        Ok(Err(why)) => ServerReadback::unreadable(server, why),
        Err(_) => ServerReadback::unreadable(
            server,
            format!("read-back of zk{server} at {addr} did not finish within {:?}", opts.total_timeout),
        ),
    }
}

async fn read_inner<F>(
    server: u32,
    addr: SocketAddr,
    opts: &ReadbackOptions,
    token_of: &F,
    turn: tokio::sync::SemaphorePermit<'_>,
) -> Result<ServerReadback, String>
where
    F: Fn(&[u8]) -> Option<String> + Sync,
{
    let connect_string = addr.to_string();
    let connect =
        zk::Client::connector().with_session_timeout(opts.session_timeout).with_fail_eagerly().connect(&connect_string);
    // fail_eagerly gives up after one try; retry until the connect deadline, since a server that
    // just restarted may take a moment to serve.
    let deadline = tokio::time::Instant::now() + opts.connect_timeout;
    let mut connect = Some(connect);
    let client = loop {
        let fut = match connect.take() {
            Some(f) => futures_util::future::Either::Left(f),
            None => futures_util::future::Either::Right(
                zk::Client::connector()
                    .with_session_timeout(opts.session_timeout)
                    .with_fail_eagerly()
                    .connect(&connect_string),
            ),
        };
        match tokio::time::timeout_at(deadline, fut).await {
            Ok(Ok(c)) => break c,
            Ok(Err(e)) if tokio::time::Instant::now() + Duration::from_millis(250) < deadline => {
                tracing::debug!(server, %addr, error = %e, "read-back connect failed; retrying");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Ok(Err(e)) => return Err(format!("connecting to zk{server} at {addr}: {e}")),
            Err(_) => {
                return Err(format!("connecting to zk{server} at {addr}: no session within {:?}", opts.connect_timeout))
            }
        }
    };
    let t = opts.call_timeout;
    call(t, client.sync("/"), || format!("sync on zk{server} at {addr}")).await?;
    let keys_names = list(&client, KEYS_DIR, t, server, addr).await?;
    // Listed after the sync: every session close or expiry committed before it has been
    // applied here, so a node of an ended session that is listed outlived its session.
    let mut ephemerals = list(&client, EPH_DIR, t, server, addr).await?;
    ephemerals.sort_unstable();
    let seq_listing = SeqListing::new(list(&client, SEQ_DIR, t, server, addr).await?);
    // Listed and compacted: the next server may list.
    drop(turn);

    let get_all = |paths: Box<dyn Iterator<Item = String> + Send>| {
        let client = &client;
        stream::iter(paths.map(move |path| {
            let fut = client.get_data(&path);
            async move {
                match tokio::time::timeout(t, fut).await {
                    Ok(Ok((data, stat))) => Ok(Some((path, stat.version as i64, token_of(&data)))),
                    // Deleted between list and get: absent.
                    Ok(Err(zk::Error::NoNode)) => Ok(None),
                    Ok(Err(e)) => Err(format!("getData {path} on zk{server} at {addr}: {e}")),
                    Err(_) => Err(format!("getData {path} on zk{server} at {addr}: no answer within {t:?}")),
                }
            }
        }))
        .buffer_unordered(opts.concurrency.max(1))
        .try_filter_map(|x| async move { Ok(x) })
    };
    let keys_paths = keys_names.into_iter().map(|name| format!("{KEYS_DIR}/{name}"));
    let keys: BTreeMap<String, (i64, Option<String>)> =
        get_all(Box::new(keys_paths)).map_ok(|(p, v, tok)| (p, (v, tok))).try_collect().await?;
    // Answers arrive nearly in the listing's (numeric) order: inserting them is cheap.
    let mut seq = get_all(Box::new(seq_listing.paths()))
        .try_fold(SeqNodes::new(), |mut seq, (p, _, tok)| async move {
            seq.insert(&p, tok.as_deref());
            Ok(seq)
        })
        .await?;
    seq.shrink_to_fit();
    // Dropping the last handle closes the session.
    drop(client);
    Ok(ServerReadback { keys, seq, ephemerals: Some(ephemerals), via: Some(crate::record::ReadVia::Live), ..ServerReadback::empty(server) })
}

/// The children of `SEQ_DIR`, the workload's `s-<10 digits>` as numbers (sorted), any other
/// name whole; the list of names is dropped once read.
struct SeqListing {
    numbers: Vec<u32>,
    other: Vec<String>,
}

impl SeqListing {
    fn new(names: Vec<String>) -> SeqListing {
        let mut numbers = Vec::with_capacity(names.len());
        let mut other = Vec::new();
        let mut path = String::new();
        for name in names {
            path.clear();
            path.push_str(SEQ_DIR);
            path.push('/');
            path.push_str(&name);
            match seq_number(&path) {
                Some(n) => numbers.push(n),
                None => other.push(path.clone()),
            }
        }
        numbers.sort_unstable();
        SeqListing { numbers, other }
    }

    fn paths(self) -> impl Iterator<Item = String> + Send {
        self.numbers.into_iter().map(|n| format!("{SEQ_PREFIX}{n:010}")).chain(self.other)
    }
}

async fn call<T>(
    t: Duration,
    fut: impl std::future::Future<Output = Result<T, zk::Error>>,
    what: impl Fn() -> String,
) -> Result<T, String> {
    match tokio::time::timeout(t, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{}: {e}", what())),
        Err(_) => Err(format!("{}: no answer within {t:?}", what())),
    }
}

/// Children of `parent`; a missing parent means none (e.g. a wiped server).
async fn list(
    client: &zk::Client,
    parent: &str,
    t: Duration,
    server: u32,
    addr: SocketAddr,
) -> Result<Vec<String>, String> {
    match tokio::time::timeout(t, client.list_children(parent)).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(zk::Error::NoNode)) => Ok(Vec::new()),
        Ok(Err(e)) => Err(format!("listing {parent} on zk{server} at {addr}: {e}")),
        Err(_) => Err(format!("listing {parent} on zk{server} at {addr}: no answer within {t:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_keeps_numbers_and_foreign_names() {
        // Children as ZooKeeper lists them (unordered), one created by someone else, one whose
        // counter wrapped.
        let names = ["s-0000000010", "s-0000000002", "imported", "s--2147483648", "s-0000000003"];
        let paths: Vec<String> = SeqListing::new(names.map(String::from).to_vec()).paths().collect();
        assert_eq!(
            paths,
            [
                "/zkchaos/seq/s-0000000002",
                "/zkchaos/seq/s-0000000003",
                "/zkchaos/seq/s-0000000010",
                "/zkchaos/seq/imported",
                "/zkchaos/seq/s--2147483648",
            ]
        );
    }

    #[tokio::test]
    async fn dead_servers_are_unreadable() {
        let opts = ReadbackOptions { connect_timeout: Duration::from_millis(600), ..Default::default() };
        let tok = |_: &[u8]| None;
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        drop(l);
        let rb = read_server(2, addr, &opts, &tok).await;
        let err = rb.error.unwrap();
        assert!(err.contains("zk2") && err.contains(&addr.to_string()), "{err}");
    }
}
