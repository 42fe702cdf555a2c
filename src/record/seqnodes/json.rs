//! [`SeqNodes`] as JSON: the object `{"<path>": "<token>" | null, ...}` in path order, exactly
//! what `BTreeMap<String, Option<String>>` reads and writes, so `readback.json(.gz)` keeps format
//! 1. Paths and tokens are parsed as they are read, without building a string per znode.

use super::{pack, seq_number, SeqNodes, SeqPath, StackText, TokenRef, NO_TOKEN};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use std::fmt;

impl Serialize for SeqPath<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            SeqPath::Numbered(_) => s.serialize_str(StackText::of(format_args!("{self}")).as_str()),
            SeqPath::Named(p) => s.serialize_str(p),
        }
    }
}

impl Serialize for TokenRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            TokenRef::Ours { .. } => s.serialize_str(StackText::of(format_args!("{self}")).as_str()),
            TokenRef::Text(t) => s.serialize_str(t),
        }
    }
}

impl Serialize for SeqNodes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.len()))?;
        for (path, token) in self.iter() {
            map.serialize_entry(&path, &token)?;
        }
        map.end()
    }
}

/// A string as read: parsed into its compact form, or kept whole.
enum Compact<T> {
    Parsed(T),
    Text(Box<str>),
}

/// Reads a string as [`Compact`] with `parse`.
struct CompactVisitor<T> {
    parse: fn(&str) -> Option<T>,
    expecting: &'static str,
}

impl<T> Visitor<'_> for CompactVisitor<T> {
    type Value = Compact<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Compact<T>, E> {
        Ok((self.parse)(v).map_or_else(|| Compact::Text(v.into()), Compact::Parsed))
    }
}

/// A path as read: its sequence number, or kept whole.
struct PathKey(Compact<u32>);

impl<'de> Deserialize<'de> for PathKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<PathKey, D::Error> {
        d.deserialize_str(CompactVisitor { parse: seq_number, expecting: "a sequential znode path" }).map(PathKey)
    }
}

/// A token as read: packed, or kept as text.
struct TokenValue(Compact<u64>);

impl<'de> Deserialize<'de> for TokenValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<TokenValue, D::Error> {
        d.deserialize_str(CompactVisitor { parse: pack, expecting: "a token (string)" }).map(TokenValue)
    }
}

struct NodesVisitor;

impl<'de> Visitor<'de> for NodesVisitor {
    type Value = SeqNodes;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of sequential znode paths to tokens (or null)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SeqNodes, A::Error> {
        let mut nodes = SeqNodes::new();
        // A path given twice keeps its last token, as a map read into a BTreeMap did.
        while let Some((path, token)) = map.next_entry::<PathKey, Option<TokenValue>>()? {
            let tok = match token.map(|t| t.0) {
                None => NO_TOKEN,
                Some(Compact::Parsed(p)) => p,
                Some(Compact::Text(t)) => nodes.push_text(t),
            };
            match path.0 {
                Compact::Parsed(n) => nodes.insert_numbered(n, tok),
                Compact::Text(p) => {
                    nodes.named.insert(p, tok);
                }
            }
        }
        nodes.shrink_to_fit();
        Ok(nodes)
    }
}

impl<'de> Deserialize<'de> for SeqNodes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<SeqNodes, D::Error> {
        d.deserialize_map(NodesVisitor)
    }
}
