//! [`SeqNodes`] on literal paths and tokens shaped as ZooKeeper and the workload produce them,
//! plus foreign ones; the former `BTreeMap<String, Option<String>>` is the oracle for the JSON.

use super::*;

#[test]
fn sequence_numbers_are_parsed_only_from_ten_digit_names() {
    assert_eq!(seq_number("/zkchaos/seq/s-0000000042"), Some(42));
    assert_eq!(seq_number("/zkchaos/seq/s-0000000000"), Some(0));
    assert_eq!(seq_number("/zkchaos/seq/s-4294967295"), Some(u32::MAX));
    for other in [
        "/zkchaos/seq/s-4294967296",  // past u32
        "/zkchaos/seq/s--2147483648", // ZooKeeper's counter after it wrapped
        "/zkchaos/seq/s-000000042",
        "/zkchaos/seq/s-00000000042",
        "/zkchaos/seq/s-00000000+2",
        "/zkchaos/seq/foreign",
        "/zkchaos/keys/k0",
    ] {
        assert_eq!(seq_number(other), None, "{other}");
    }
}

#[test]
fn only_canonical_workload_tokens_are_parsed() {
    assert_eq!(parse_token("3-7198487"), Some((3, 7198487)));
    assert_eq!(parse_token("0-0"), Some((0, 0)));
    for other in ["03-5", "3-05", "c1", "s0-1", "-5", "3-", "3-4-5", "+3-4", "3 -4", "", "4294967296-1"] {
        assert_eq!(parse_token(other), None, "{other}");
    }
}

#[test]
fn lookups_see_ours_foreign_and_tokenless_znodes() {
    let mut s = SeqNodes::new();
    s.insert("/zkchaos/seq/s-0000000002", Some("1-17"));
    s.insert("/zkchaos/seq/s-0000000001", Some("c1")); // out of order, foreign token
    s.insert("/zkchaos/seq/imported", Some("2-40")); // foreign name, our token
    s.insert("/zkchaos/seq/s-0000000003", None);
    // Parses, but does not pack (session ≥ 2^23): kept as text, still equal to itself.
    s.insert("/zkchaos/seq/s-0000000004", Some("8388608-1"));
    assert_eq!(s.len(), 5);
    assert_eq!(s.get("/zkchaos/seq/s-0000000002"), Some(Some(TokenRef::Ours { session: 1, index: 17 })));
    assert_eq!(s.get("/zkchaos/seq/s-0000000001"), Some(Some(TokenRef::Text("c1"))));
    assert_eq!(s.get("/zkchaos/seq/imported"), Some(Some(TokenRef::Ours { session: 2, index: 40 })));
    assert_eq!(s.get("/zkchaos/seq/s-0000000003"), Some(None));
    assert_eq!(s.get("/zkchaos/seq/s-0000000004"), Some(Some(TokenRef::Text("8388608-1"))));
    assert_eq!(s.get("/zkchaos/seq/s-0000000005"), None);
    assert!(s.contains_key("/zkchaos/seq/imported") && !s.contains_key("/zkchaos/seq/other"));
    assert!(s.get("/zkchaos/seq/s-0000000002").unwrap().unwrap().is("1-17"));
    assert!(!s.get("/zkchaos/seq/s-0000000002").unwrap().unwrap().is("01-17"));
    assert_eq!(s.get("/zkchaos/seq/s-0000000002").unwrap().unwrap().to_string(), "1-17");

    // A path written again keeps the last token; the replaced text is no longer found.
    s.insert("/zkchaos/seq/s-0000000001", Some("0-9"));
    let idx = s.token_index();
    assert!(idx.contains("0-9") && idx.contains("1-17") && idx.contains("2-40") && idx.contains("8388608-1"));
    assert!(!idx.contains("c1") && !idx.contains("1-18") && !idx.contains("01-17"));
}

#[test]
fn iteration_is_in_path_string_order_across_numbered_and_named() {
    let paths = [
        "/zkchaos/seq/s-0000000010",
        "/zkchaos/seq/zz",
        "/zkchaos/seq/s-0000000001-extra",
        "/zkchaos/seq/s--2147483648",
        "/zkchaos/seq/a",
        "/zkchaos/seq/s-0000000001",
        "/zkchaos/seq/s-99999999999",
        "/zkchaos/seq/s-0000000002",
    ];
    let mut s = SeqNodes::new();
    for p in paths {
        s.insert(p, Some("t"));
    }
    let mut sorted = paths.to_vec();
    sorted.sort();
    let got: Vec<String> = s.iter().map(|(p, _)| p.to_string()).collect();
    assert_eq!(got, sorted);
    assert_eq!(s.iter().len(), paths.len());
}

/// A readback's `seq` object, written as the former BTreeMap wrote it (sorted keys).
const LITERAL: &str = r#"{"/zkchaos/seq/foreign":"not-a-token","/zkchaos/seq/s-0000000001":"0-1","/zkchaos/seq/s-0000000002":null,"/zkchaos/seq/s-0000000003":"c3","/zkchaos/seq/s-2147483647":"3-7198487","/zkchaos/seq/s-4294967296":"1-2"}"#;

#[test]
fn json_is_what_the_btreemap_wrote_and_reads() {
    let nodes: SeqNodes = serde_json::from_str(LITERAL).unwrap();
    assert_eq!(nodes.len(), 6);
    assert_eq!(serde_json::to_string(&nodes).unwrap(), LITERAL);
    let former: BTreeMap<String, Option<String>> = serde_json::from_str(LITERAL).unwrap();
    let as_former: BTreeMap<String, Option<String>> =
        nodes.iter().map(|(p, t)| (p.to_string(), t.map(|t| t.to_string()))).collect();
    assert_eq!(as_former, former);
    assert_eq!(nodes.get("/zkchaos/seq/foreign"), Some(Some(TokenRef::Text("not-a-token"))));
    assert_eq!(nodes.get("/zkchaos/seq/s-4294967296"), Some(Some(TokenRef::Ours { session: 1, index: 2 })));

    // Out of order and a path twice: read like a BTreeMap (last one wins), written sorted.
    let shuffled = r#"{"/zkchaos/seq/s-0000000002":"0-2","/zkchaos/seq/b":"x","/zkchaos/seq/s-0000000001":"0-1","/zkchaos/seq/s-0000000002":"0-3"}"#;
    let nodes: SeqNodes = serde_json::from_str(shuffled).unwrap();
    let former: BTreeMap<String, Option<String>> = serde_json::from_str(shuffled).unwrap();
    assert_eq!(serde_json::to_string(&nodes).unwrap(), serde_json::to_string(&former).unwrap());

    let bad = serde_json::from_str::<SeqNodes>(r#"{"/zkchaos/seq/s-0000000001":7}"#).unwrap_err();
    assert!(bad.to_string().contains("a token (string)"), "{bad}");
}

#[test]
fn equality_is_by_content_not_by_storage() {
    let mut a = SeqNodes::new();
    a.insert("/zkchaos/seq/s-0000000001", Some("x"));
    a.insert("/zkchaos/seq/s-0000000001", Some("y"));
    let mut b = SeqNodes::new();
    b.insert("/zkchaos/seq/s-0000000001", Some("y"));
    assert_eq!(a, b);
    b.insert("/zkchaos/seq/s-0000000002", None);
    assert_ne!(a, b);
    assert_eq!(format!("{a:?}"), r#"{"/zkchaos/seq/s-0000000001": Some("y")}"#);
}

#[test]
fn paths_not_on_every_server_are_counted() {
    let of = |paths: &[&str]| {
        let mut s = SeqNodes::new();
        for p in paths {
            s.insert(p, Some("0-1"));
        }
        s
    };
    let a = of(&["/zkchaos/seq/s-0000000001", "/zkchaos/seq/s-0000000002", "/zkchaos/seq/x"]);
    let b = of(&["/zkchaos/seq/s-0000000002", "/zkchaos/seq/s-0000000003", "/zkchaos/seq/x"]);
    let c = of(&["/zkchaos/seq/s-0000000002", "/zkchaos/seq/y"]);
    assert_eq!(count_not_on_all(&[&a, &b, &c]), 4, "1, 3, x and y");
    assert_eq!(count_not_on_all(&[&a, &a]), 0);
    assert_eq!(count_not_on_all(&[&a, &SeqNodes::new()]), 3);
}

#[test]
fn retain_and_path_sets() {
    let mut s = SeqNodes::new();
    for p in ["/zkchaos/seq/s-0000000001", "/zkchaos/seq/s-0000000002", "/zkchaos/seq/x"] {
        s.insert(p, None);
    }
    let mut gone = PathSet::default();
    assert!(gone.insert("/zkchaos/seq/s-0000000002") && gone.insert("/zkchaos/seq/x"));
    assert!(!gone.insert("/zkchaos/seq/x"));
    assert_eq!(gone.len(), 2);
    assert!(gone.contains("/zkchaos/seq/s-0000000002") && !gone.contains("/zkchaos/seq/s-0000000001"));
    s.retain(|p| !gone.contains_path(p));
    assert_eq!(s.iter().map(|(p, _)| p.to_string()).collect::<Vec<_>>(), ["/zkchaos/seq/s-0000000001"]);
    let mut listed: Vec<String> = gone.iter().map(|p| p.to_string()).collect();
    listed.sort();
    assert_eq!(listed, ["/zkchaos/seq/s-0000000002", "/zkchaos/seq/x"]);
}
