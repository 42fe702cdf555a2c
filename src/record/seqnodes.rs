//! [`SeqNodes`]: the sequential znodes one server holds (path → token), in about 12 bytes a
//! znode instead of two heap strings. An hour at 2,000 ops/s with 10 % creates leaves ~720,000 of
//! them on each server; the read-back, `readback.json.gz` and the audit hold three servers' worth.
//!
//! A path `/zkchaos/seq/s-<10 digits>` (ZooKeeper's `%010d` counter, up to `u32::MAX`) is kept as
//! its number; a token `<session>-<index>` as the workload writes it (canonical decimal, session
//! below 2^23, index below 2^40) packed into one `u64`. Anything else — a znode someone else
//! created, a value that is not the workload's, a wrapped counter — is kept as text, so it is
//! read, audited and written back exactly like the rest, never dropped or rewritten: the JSON
//! ([`json`]) is byte for byte what the former `BTreeMap<String, Option<String>>`
//! wrote. [`TokenIndex`] answers "which znode holds this token" for the audit, [`PathSet`] holds
//! the audit's deleted paths the same way.

use crate::plan::keyspace::SEQ_PREFIX;
use std::cmp::Ordering;
use std::collections::{btree_map, BTreeMap, HashSet};
use std::fmt;

mod json;
#[cfg(test)]
mod tests;

const INDEX_BITS: u32 = 40;
const SESSION_BITS: u32 = 23;
/// A stored token with this bit set is an index into [`SeqNodes::texts`].
const TEXT_BIT: u64 = 1 << 63;
/// The znode's value held no token.
const NO_TOKEN: u64 = u64::MAX;
/// Digits of the counter in a sequential znode's name.
const SEQ_DIGITS: usize = 10;

/// The number of a sequential znode path `/zkchaos/seq/s-<10 digits>`; `None` for any other path
/// (including a counter past `u32::MAX` or a wrapped, negative one).
pub fn seq_number(path: &str) -> Option<u32> {
    let digits = path.strip_prefix(SEQ_PREFIX)?;
    if digits.len() != SEQ_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// `s` as a decimal number if it is written canonically (no sign, no leading zero), so that
/// formatting the number gives `s` back.
fn canonical<T: std::str::FromStr>(s: &str) -> Option<T> {
    let ok = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s.len() == 1 || !s.starts_with('0'));
    if ok {
        s.parse().ok()
    } else {
        None
    }
}

/// `(session, index)` of a token `<session>-<index>` as the workload writes it.
pub fn parse_token(token: &str) -> Option<(u32, u64)> {
    let (session, index) = token.split_once('-')?;
    Some((canonical(session)?, canonical(index)?))
}

/// The packed form of a token, if it is the workload's and fits.
fn pack(token: &str) -> Option<u64> {
    let (session, index) = parse_token(token)?;
    let session = u64::from(session);
    (session < 1 << SESSION_BITS && index < 1 << INDEX_BITS).then_some(session << INDEX_BITS | index)
}

/// A token as stored: the workload's `<session>-<index>`, or any other text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRef<'a> {
    Ours { session: u32, index: u64 },
    Text(&'a str),
}

impl TokenRef<'_> {
    /// Whether this is the token written as `token`.
    pub fn is(&self, token: &str) -> bool {
        match *self {
            TokenRef::Ours { session, index } => parse_token(token) == Some((session, index)),
            TokenRef::Text(t) => t == token,
        }
    }
}

impl fmt::Display for TokenRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenRef::Ours { session, index } => write!(f, "{session}-{index}"),
            TokenRef::Text(t) => f.write_str(t),
        }
    }
}

/// A sequential znode's path as stored: its number, or the whole path when it is not ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqPath<'a> {
    Numbered(u32),
    Named(&'a str),
}

impl fmt::Display for SeqPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SeqPath::Numbered(n) => write!(f, "{SEQ_PREFIX}{n:010}"),
            SeqPath::Named(p) => f.write_str(p),
        }
    }
}

/// Text formatted on the stack (a numbered path is 25 bytes, a packed token at most 21).
struct StackText {
    bytes: [u8; 32],
    len: usize,
}

impl StackText {
    fn of(args: fmt::Arguments<'_>) -> StackText {
        let mut t = StackText { bytes: [0; 32], len: 0 };
        // Only ever called with a path or a packed token, which fit.
        let _ = fmt::Write::write_fmt(&mut t, args);
        t
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

impl fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// `Numbered(n)`'s path compared with `path` as strings (the order of the JSON file).
fn cmp_numbered(n: u32, path: &str) -> Ordering {
    StackText::of(format_args!("{}", SeqPath::Numbered(n))).as_str().cmp(path)
}

/// One numbered znode: its number and its stored token, in 12 bytes.
#[derive(Debug, Clone, Copy)]
struct Entry {
    num: u32,
    tok_hi: u32,
    tok_lo: u32,
}

impl Entry {
    fn new(num: u32, tok: u64) -> Entry {
        Entry { num, tok_hi: (tok >> 32) as u32, tok_lo: tok as u32 }
    }

    fn tok(&self) -> u64 {
        u64::from(self.tok_hi) << 32 | u64::from(self.tok_lo)
    }
}

/// Sequential znode path → the token decoded from its value, if any (see the module doc).
#[derive(Clone, Default)]
pub struct SeqNodes {
    /// Numbered znodes, sorted by number, no number twice.
    numbered: Vec<Entry>,
    /// Every other path.
    named: BTreeMap<Box<str>, u64>,
    /// Tokens that are not the workload's, referenced by stored tokens with [`TEXT_BIT`].
    texts: Vec<Box<str>>,
}

impl SeqNodes {
    pub fn new() -> SeqNodes {
        SeqNodes::default()
    }

    pub fn len(&self) -> usize {
        self.numbered.len() + self.named.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Record `path` holding `token` (replacing what `path` held). Cheapest in path order, as the
    /// file and a read-back deliver them; out of order costs a shift of the entries after it.
    pub fn insert(&mut self, path: &str, token: Option<&str>) {
        let tok = match token {
            None => NO_TOKEN,
            Some(t) => pack(t).unwrap_or_else(|| self.push_text(t.into())),
        };
        match seq_number(path) {
            Some(n) => self.insert_numbered(n, tok),
            None => {
                self.named.insert(path.into(), tok);
            }
        }
    }

    fn push_text(&mut self, text: Box<str>) -> u64 {
        self.texts.push(text);
        TEXT_BIT | (self.texts.len() - 1) as u64
    }

    fn insert_numbered(&mut self, num: u32, tok: u64) {
        let e = Entry::new(num, tok);
        if self.numbered.last().is_none_or(|last| last.num < num) {
            self.numbered.push(e);
            return;
        }
        match self.numbered.binary_search_by_key(&num, |e| e.num) {
            Ok(i) => self.numbered[i] = e,
            Err(i) => self.numbered.insert(i, e),
        }
    }

    /// Keep only the paths `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(SeqPath<'_>) -> bool) {
        self.numbered.retain(|e| keep(SeqPath::Numbered(e.num)));
        self.named.retain(|p, _| keep(SeqPath::Named(p)));
    }

    /// Give back spare capacity (after filling).
    pub fn shrink_to_fit(&mut self) {
        self.numbered.shrink_to_fit();
        self.texts.shrink_to_fit();
    }

    fn token(&self, tok: u64) -> Option<TokenRef<'_>> {
        if tok == NO_TOKEN {
            None
        } else if tok & TEXT_BIT != 0 {
            Some(TokenRef::Text(&self.texts[(tok & !TEXT_BIT) as usize]))
        } else {
            Some(TokenRef::Ours { session: (tok >> INDEX_BITS) as u32, index: tok & ((1 << INDEX_BITS) - 1) })
        }
    }

    fn stored(&self, path: SeqPath<'_>) -> Option<u64> {
        match path {
            SeqPath::Numbered(n) => self.numbered.binary_search_by_key(&n, |e| e.num).ok().map(|i| self.numbered[i].tok()),
            SeqPath::Named(p) => self.named.get(p).copied(),
        }
    }

    /// `Some(token)` if `path` is present (`Some(None)`: present, its value held no token).
    pub fn get(&self, path: &str) -> Option<Option<TokenRef<'_>>> {
        self.stored(path_of(path)).map(|t| self.token(t))
    }

    pub fn contains_key(&self, path: &str) -> bool {
        self.contains(path_of(path))
    }

    pub fn contains(&self, path: SeqPath<'_>) -> bool {
        self.stored(path).is_some()
    }

    /// Every (path, token), in the order of the paths as strings.
    pub fn iter(&self) -> Iter<'_> {
        Iter { nodes: self, next: 0, named: self.named.iter().peekable() }
    }

    /// The tokens held, for lookups by token.
    pub fn token_index(&self) -> TokenIndex<'_> {
        let mut packed = Vec::with_capacity(self.numbered.len());
        let mut texts = HashSet::new();
        for tok in self.numbered.iter().map(Entry::tok).chain(self.named.values().copied()) {
            match self.token(tok) {
                Some(TokenRef::Text(t)) => {
                    texts.insert(t);
                }
                Some(TokenRef::Ours { .. }) => packed.push(tok),
                None => {}
            }
        }
        packed.sort_unstable();
        packed.dedup();
        packed.shrink_to_fit();
        TokenIndex { packed, texts }
    }
}

fn path_of(path: &str) -> SeqPath<'_> {
    seq_number(path).map_or(SeqPath::Named(path), SeqPath::Numbered)
}

impl PartialEq for SeqNodes {
    fn eq(&self, other: &SeqNodes) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for SeqNodes {}

impl fmt::Debug for SeqNodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter().map(|(p, t)| (p.to_string(), t.map(|t| t.to_string())))).finish()
    }
}

/// [`SeqNodes::iter`].
pub struct Iter<'a> {
    nodes: &'a SeqNodes,
    next: usize,
    named: std::iter::Peekable<btree_map::Iter<'a, Box<str>, u64>>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (SeqPath<'a>, Option<TokenRef<'a>>);

    fn next(&mut self) -> Option<Self::Item> {
        let numbered = self.nodes.numbered.get(self.next);
        let named_first = match (numbered, self.named.peek()) {
            (Some(e), Some((p, _))) => cmp_numbered(e.num, p) == Ordering::Greater,
            (None, _) => true,
            (Some(_), None) => false,
        };
        if named_first {
            let (p, tok) = self.named.next()?;
            return Some((SeqPath::Named(p), self.nodes.token(*tok)));
        }
        let e = numbered?;
        self.next += 1;
        Some((SeqPath::Numbered(e.num), self.nodes.token(e.tok())))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.nodes.numbered.len() - self.next + self.named.len();
        (n, Some(n))
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// Which tokens one server's sequential znodes hold (the audit's lookups of creates whose path
/// is not known): packed tokens sorted, other texts in a set.
pub struct TokenIndex<'a> {
    packed: Vec<u64>,
    texts: HashSet<&'a str>,
}

impl TokenIndex<'_> {
    pub fn contains(&self, token: &str) -> bool {
        match pack(token) {
            Some(p) => self.packed.binary_search(&p).is_ok(),
            None => self.texts.contains(token),
        }
    }
}

/// How many paths some of `servers` hold and others do not.
pub fn count_not_on_all(servers: &[&SeqNodes]) -> u64 {
    let all = servers.len();
    let mut cursors = vec![0usize; all];
    let mut count = 0u64;
    loop {
        let at = |s: &SeqNodes, c: usize| s.numbered.get(c).map(|e| e.num);
        let Some(min) = servers.iter().zip(&cursors).filter_map(|(s, c)| at(s, *c)).min() else { break };
        let mut holders = 0;
        for (s, c) in servers.iter().zip(cursors.iter_mut()) {
            if at(s, *c) == Some(min) {
                holders += 1;
                *c += 1;
            }
        }
        count += u64::from(holders < all);
    }
    let mut named: BTreeMap<&str, usize> = BTreeMap::new();
    for p in servers.iter().flat_map(|s| s.named.keys()) {
        *named.entry(p).or_default() += 1;
    }
    count + named.values().filter(|c| **c < all).count() as u64
}

/// A set of paths, sequential znodes' held as numbers (the audit's deleted paths).
#[derive(Debug, Clone, Default)]
pub struct PathSet {
    numbered: HashSet<u32>,
    named: HashSet<Box<str>>,
}

impl PathSet {
    pub fn insert(&mut self, path: &str) -> bool {
        match path_of(path) {
            SeqPath::Numbered(n) => self.numbered.insert(n),
            SeqPath::Named(p) => self.named.insert(p.into()),
        }
    }

    pub fn contains(&self, path: &str) -> bool {
        self.contains_path(path_of(path))
    }

    pub fn contains_path(&self, path: SeqPath<'_>) -> bool {
        match path {
            SeqPath::Numbered(n) => self.numbered.contains(&n),
            SeqPath::Named(p) => self.named.contains(p),
        }
    }

    pub fn len(&self) -> usize {
        self.numbered.len() + self.named.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = SeqPath<'_>> {
        self.numbered.iter().map(|n| SeqPath::Numbered(*n)).chain(self.named.iter().map(|p| SeqPath::Named(p)))
    }
}
