//! What one operation does against ZooKeeper, and how its result maps to an outcome.
//!
//! | zookeeper_client result                              | class          | read   | write         |
//! |------------------------------------------------------|----------------|--------|---------------|
//! | `Ok`                                                 | —              | Ok     | Ok            |
//! | our `tokio::time::timeout(op_timeout)` elapsed       | Timeout        | Fail   | Indeterminate |
//! | `Error::Timeout` (client-side)                       | Timeout        | Fail   | Indeterminate |
//! | `Error::ConnectionLoss`                              | ConnectionLoss | Fail   | Indeterminate |
//! | `Error::SessionExpired`, client already expired      | SessionExpired | Fail   | Fail (not sent) |
//! | `Error::SessionExpired` while outstanding            | SessionExpired | Fail   | Indeterminate |
//! | `Error::ClientClosed` / `NoHosts` / no session yet   | NotConnected   | Fail   | Fail (not sent) |
//! | `Error::NoNode` / `NodeExists` / `BadVersion`        | same name      | Fail   | Fail          |
//! | `Error::NoAuth` / `NotReadOnly`                      | same name      | Fail   | Fail          |
//! | `AuthFailed`, `SessionMoved`, `NotEmpty`, `Throttled`, `QuotaExceeded`, `InvalidAcl`, `BadArguments`, `MarshallingError`, `Unimplemented`, `UnexpectedErrorCode`, other definite server errors | Other | Fail | Fail |
//! | `Custom` carrying a socket error or "no response from connection" | ConnectionLoss | Fail | Indeterminate |
//! | `UnmarshalError`, `UnexpectedError`, `RuntimeInconsistent`, other `Custom`, unknown | Other | Fail | Indeterminate |
//!
//! "Read" is get/exists; "write" is set/create/delete/multi. A multi's error is the error of the
//! failing sub-operation (`MultiWriteError` → `Error`).

use crate::record::{ErrorClass, OpKind, Outcome};
use zookeeper_client as zk;

/// Why an operation did not succeed, before classification.
#[derive(Debug, Clone)]
pub enum Failure {
    /// `op_timeout` elapsed.
    Elapsed,
    /// The session slot has no client (being recreated).
    NoClient,
    /// The client was already terminal (expired/closed) before the request: never sent.
    NotSent(zk::Error),
    /// The call returned an error.
    Zk(zk::Error),
}

/// Map a failure to its outcome and error class (the table in the module doc).
pub fn classify(kind: OpKind, failure: &Failure) -> (Outcome, ErrorClass) {
    let write = kind.is_write();
    let unknown = if write { Outcome::Indeterminate } else { Outcome::Fail };
    match failure {
        Failure::Elapsed => (unknown, ErrorClass::Timeout),
        Failure::NoClient => (Outcome::Fail, ErrorClass::NotConnected),
        Failure::NotSent(e) => (Outcome::Fail, class_of(e)),
        Failure::Zk(e) => {
            let class = class_of(e);
            let outcome = match e {
                zk::Error::Timeout | zk::Error::ConnectionLoss | zk::Error::SessionExpired => unknown,
                zk::Error::ClientClosed | zk::Error::NoHosts => Outcome::Fail,
                zk::Error::UnmarshalError { .. }
                | zk::Error::UnexpectedError(_)
                | zk::Error::RuntimeInconsistent
                | zk::Error::Custom(_) => unknown,
                zk::Error::NoNode
                | zk::Error::NodeExists
                | zk::Error::BadVersion
                | zk::Error::NoAuth
                | zk::Error::NotReadOnly
                | zk::Error::AuthFailed
                | zk::Error::SessionMoved
                | zk::Error::NotEmpty
                | zk::Error::Throttled
                | zk::Error::QuotaExceeded
                | zk::Error::InvalidAcl
                | zk::Error::BadArguments(_)
                | zk::Error::MarshallingError
                | zk::Error::Unimplemented
                | zk::Error::NoChildrenForEphemerals
                | zk::Error::NoWatcher
                | zk::Error::ReconfigDisabled
                | zk::Error::UnexpectedErrorCode(_) => Outcome::Fail,
                _ => unknown,
            };
            (outcome, class)
        }
    }
}

pub fn class_of(e: &zk::Error) -> ErrorClass {
    match e {
        zk::Error::Timeout => ErrorClass::Timeout,
        zk::Error::ConnectionLoss => ErrorClass::ConnectionLoss,
        zk::Error::SessionExpired => ErrorClass::SessionExpired,
        zk::Error::ClientClosed | zk::Error::NoHosts => ErrorClass::NotConnected,
        zk::Error::NoNode => ErrorClass::NoNode,
        zk::Error::NodeExists => ErrorClass::NodeExists,
        zk::Error::BadVersion => ErrorClass::BadVersion,
        zk::Error::NotReadOnly => ErrorClass::NotReadOnly,
        zk::Error::NoAuth => ErrorClass::NoAuth,
        zk::Error::Custom(_) if lost_connection_text(&e.to_string()) => ErrorClass::ConnectionLoss,
        _ => ErrorClass::Other,
    }
}

/// `zookeeper-client` 0.11 reports a broken connection as `Error::Custom`: the socket's I/O error
/// (`session/mod.rs`, `depot.rs`: `Error::other(io)`, e.g. "Connection reset by peer (os error
/// 104)") or "no response from connection in <N>ms". Those are connection losses, not "other".
pub fn lost_connection_text(text: &str) -> bool {
    text.starts_with("no response from connection")
        || text.contains("(os error ")
        || text.contains("Connection reset")
        || text.contains("Broken pipe")
        || text.contains("end of file")
}

/// The session must be replaced after this failure.
pub fn session_lost(failure: &Failure) -> bool {
    matches!(
        failure,
        Failure::Zk(zk::Error::SessionExpired | zk::Error::ClientClosed | zk::Error::AuthFailed)
            | Failure::NotSent(_)
            | Failure::NoClient
    )
}

/// The value written for `token`: the token, then `|` and `.` padding up to `size` bytes (never
/// truncated, so a token longer than `size` is written whole). Tokens never contain `|`.
pub fn payload(token: &str, size: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(size.max(token.len()));
    v.extend_from_slice(token.as_bytes());
    if v.len() < size {
        v.push(b'|');
        v.resize(size, b'.');
    }
    v
}

/// The token a value was written with (inverse of [`payload`]); `None` if it is not one.
pub fn token_of(data: &[u8]) -> Option<&str> {
    let end = data.iter().position(|&b| b == b'|').unwrap_or(data.len());
    let s = std::str::from_utf8(&data[..end]).ok()?;
    (!s.is_empty()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_errors_the_client_reports_as_custom_are_connection_loss() {
        // Texts exactly as zookeeper-client 0.11 formats them (session/mod.rs, depot.rs).
        assert!(lost_connection_text("no response from connection in 4000ms"));
        assert!(lost_connection_text("Connection reset by peer (os error 104)"));
        assert!(lost_connection_text("Broken pipe (os error 32)"));
        assert!(lost_connection_text("failed to fill whole buffer: unexpected end of file"));
        assert!(!lost_connection_text("fail to read ca: permission denied"));
        assert!(!lost_connection_text("encounter writable server 127.0.0.1:2181"));
    }

    #[test]
    fn payload_round_trip() {
        for (tok, size) in [("3-17", 100usize), ("0-123456789", 4), ("init", 5), ("1-1", 0)] {
            let p = payload(tok, size);
            assert!(p.len() >= size);
            assert_eq!(token_of(&p), Some(tok));
            assert_eq!(payload(tok, size), p, "deterministic");
        }
        assert_eq!(payload("a", 4), b"a|..");
        assert_eq!(token_of(b""), None);
        assert_eq!(token_of(&[0xff, 0xfe]), None);
    }

    #[test]
    fn mapping() {
        use zk::Error as E;
        assert_eq!(classify(OpKind::Get, &Failure::Elapsed), (Outcome::Fail, ErrorClass::Timeout));
        assert_eq!(classify(OpKind::Set, &Failure::Elapsed), (Outcome::Indeterminate, ErrorClass::Timeout));
        assert_eq!(
            classify(OpKind::Create, &Failure::Zk(E::ConnectionLoss)),
            (Outcome::Indeterminate, ErrorClass::ConnectionLoss)
        );
        assert_eq!(classify(OpKind::Set, &Failure::Zk(E::BadVersion)), (Outcome::Fail, ErrorClass::BadVersion));
        assert_eq!(classify(OpKind::Delete, &Failure::Zk(E::NoNode)), (Outcome::Fail, ErrorClass::NoNode));
        assert_eq!(
            classify(OpKind::Multi, &Failure::NotSent(E::SessionExpired)),
            (Outcome::Fail, ErrorClass::SessionExpired)
        );
        assert_eq!(
            classify(OpKind::Multi, &Failure::Zk(E::SessionExpired)),
            (Outcome::Indeterminate, ErrorClass::SessionExpired)
        );
        assert_eq!(classify(OpKind::Get, &Failure::NoClient), (Outcome::Fail, ErrorClass::NotConnected));
        assert_eq!(classify(OpKind::Set, &Failure::Zk(E::NotEmpty)), (Outcome::Fail, ErrorClass::Other));
        assert_eq!(classify(OpKind::Set, &Failure::Zk(E::RuntimeInconsistent)).0, Outcome::Indeterminate);
    }
}
