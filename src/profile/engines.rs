//! Checks of `[[cluster.engines]]` and `cluster.placement`: names, endpoint schemes, addresses,
//! TLS files only where they mean something.

use super::ProfileError;
use crate::plan::ClusterPlan;
use std::net::IpAddr;

fn invalid(field: String, value: &str, reason: &str) -> ProfileError {
    ProfileError::Invalid { field, value: format!("{value:?}"), reason: reason.to_string() }
}

/// Check the engines and the placement of a cluster plan.
pub(super) fn validate_engines(c: &ClusterPlan) -> Result<(), ProfileError> {
    for (i, e) in c.engines.iter().enumerate() {
        let f = |k: &str| format!("cluster.engines[{i}].{k}");
        let name_ok = !e.name.is_empty()
            && e.name.len() <= 32
            && e.name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_');
        if !name_ok {
            return Err(invalid(f("name"), &e.name, "is not a short name; use 1 to 32 letters, digits, '-' or '_', e.g. name = \"th1\""));
        }
        if c.engines[..i].iter().any(|o| o.name == e.name) {
            return Err(invalid(f("name"), &e.name, "is used by an earlier engine; give every engine its own name"));
        }
        let scheme = e.endpoint.split_once("://").map(|(s, rest)| (s, rest.is_empty()));
        match scheme {
            Some(("unix" | "tcp" | "ssh" | "http" | "https", false)) => {}
            _ => {
                return Err(invalid(
                    f("endpoint"),
                    &e.endpoint,
                    "is not a Docker engine endpoint; use unix:///path/docker.sock, tcp://host:port or ssh://user@host",
                ))
            }
        }
        if e.address.parse::<IpAddr>().is_err() {
            return Err(invalid(
                f("address"),
                &e.address,
                "is not an IP address; give the address at which the control node and the other engines reach this engine's servers, e.g. address = \"10.231.77.11\"",
            ));
        }
        let tls = [("tls_ca", &e.tls_ca), ("tls_cert", &e.tls_cert), ("tls_key", &e.tls_key)];
        let set = tls.iter().filter(|(_, v)| v.is_some()).count();
        if set > 0 && !e.endpoint.starts_with("tcp://") && !e.endpoint.starts_with("https://") {
            let (k, _) = tls.iter().find(|(_, v)| v.is_some()).unwrap();
            return Err(invalid(f(k), "set", "applies to tcp:// endpoints only; remove it or use a tcp:// endpoint"));
        }
        if set > 0 && set < 3 {
            let (k, _) = tls.iter().find(|(_, v)| v.is_none()).unwrap();
            return Err(ProfileError::MissingKey {
                key: f(k),
                detail: "TLS needs all three of tls_ca, tls_cert and tls_key (PEM files)".into(),
            });
        }
    }
    for (i, name) in c.placement.iter().enumerate() {
        if !c.engines.iter().any(|e| &e.name == name) {
            let names: Vec<&str> = c.engines.iter().map(|e| e.name.as_str()).collect();
            let reason = if names.is_empty() {
                "names an engine, but no [[cluster.engines]] are listed; list the engines or remove cluster.placement".to_string()
            } else {
                format!("is not a listed engine; use one of {}", names.join(", "))
            };
            return Err(ProfileError::Invalid { field: format!("cluster.placement[{i}]"), value: format!("{name:?}"), reason });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::EnginePlan;

    fn engine(name: &str, endpoint: &str, address: &str) -> EnginePlan {
        EnginePlan::new(name, endpoint, address)
    }

    fn field(c: &ClusterPlan) -> String {
        match validate_engines(c).unwrap_err() {
            ProfileError::Invalid { field, .. } | ProfileError::MissingKey { key: field, .. } => field,
            e => panic!("unexpected {e}"),
        }
    }

    #[test]
    fn good_engines_pass() {
        let c = ClusterPlan {
            engines: vec![
                engine("th1", "unix:///run/zkchaos-th1/docker.sock", "10.231.77.11"),
                engine("th2", "tcp://10.231.77.12:2375", "10.231.77.12"),
            ],
            placement: vec!["th2".into()],
            ..ClusterPlan::default()
        };
        validate_engines(&c).unwrap();
    }

    #[test]
    fn each_bad_field_is_named() {
        let base = |e: EnginePlan| ClusterPlan { engines: vec![e], ..ClusterPlan::default() };
        assert_eq!(field(&base(engine("a b", "unix:///x", "10.0.0.1"))), "cluster.engines[0].name");
        assert_eq!(field(&base(engine("a", "/var/run/docker.sock", "10.0.0.1"))), "cluster.engines[0].endpoint");
        assert_eq!(field(&base(engine("a", "unix:///x", "host-a"))), "cluster.engines[0].address");
        let mut e = engine("a", "unix:///x", "10.0.0.1");
        e.tls_ca = Some("ca.pem".into());
        assert_eq!(field(&base(e.clone())), "cluster.engines[0].tls_ca");
        e.endpoint = "tcp://10.0.0.1:2376".into();
        assert_eq!(field(&base(e)), "cluster.engines[0].tls_cert");
        let dup = ClusterPlan {
            engines: vec![engine("a", "unix:///x", "10.0.0.1"), engine("a", "unix:///y", "10.0.0.2")],
            ..ClusterPlan::default()
        };
        assert_eq!(field(&dup), "cluster.engines[1].name");
        let placement = ClusterPlan { placement: vec!["nope".into()], ..base(engine("a", "unix:///x", "10.0.0.1")) };
        assert_eq!(field(&placement), "cluster.placement[0]");
    }
}
