//! A session's streams by id, stream 0 held apart from the rest.
//!
//! Owns: where each stream's record lives. Every session has stream 0 and
//! most idle ones have nothing else; a B-tree's first node (144 bytes for
//! 11 entries) would be paid for that one entry, so stream 0 sits in a
//! field of its own and the tree holds the others.
//! Never: decides anything about a stream (the manager does), or iterates
//! out of id order (stream 0 comes first, as in the tree).

use alloc::boxed::Box;
use alloc::collections::BTreeMap;

use super::stream::Stream;
use crate::ids::StreamId;

/// Stream 0's id, for iterators that hand out references.
static ZERO: StreamId = 0;

/// The streams of one session.
#[derive(Debug, Default)]
pub struct StreamMap {
    zero: Option<Box<Stream>>,
    /// Invariant: never holds id 0.
    rest: BTreeMap<StreamId, Box<Stream>>,
}

impl StreamMap {
    /// Streams held.
    pub fn len(&self) -> usize {
        self.rest.len() + usize::from(self.zero.is_some())
    }

    /// Whether stream `id` is held.
    pub fn contains_key(&self, id: &StreamId) -> bool {
        match id {
            0 => self.zero.is_some(),
            _ => self.rest.contains_key(id),
        }
    }

    /// Stream `id`.
    pub fn get(&self, id: &StreamId) -> Option<&Stream> {
        match id {
            0 => self.zero.as_deref(),
            _ => self.rest.get(id).map(|s| &**s),
        }
    }

    /// Stream `id`, to change.
    pub fn get_mut(&mut self, id: &StreamId) -> Option<&mut Stream> {
        match id {
            0 => self.zero.as_deref_mut(),
            _ => self.rest.get_mut(id).map(|s| &mut **s),
        }
    }

    /// Stream `id`, made by `make` if not held yet.
    pub fn get_or_insert_with(
        &mut self,
        id: StreamId,
        make: impl FnOnce() -> Box<Stream>,
    ) -> &mut Stream {
        match id {
            0 => self.zero.get_or_insert_with(make),
            _ => self.rest.entry(id).or_insert_with(make),
        }
    }

    /// Takes stream `id` out.
    pub fn remove(&mut self, id: &StreamId) -> Option<Box<Stream>> {
        match id {
            0 => self.zero.take(),
            _ => self.rest.remove(id),
        }
    }

    /// (id, stream), ascending by id.
    pub fn iter(&self) -> impl Iterator<Item = (&StreamId, &Stream)> {
        let zero = self.zero.as_deref().map(|s| (&ZERO, s));
        zero.into_iter()
            .chain(self.rest.iter().map(|(id, s)| (id, &**s)))
    }

    /// Ids, ascending.
    pub fn keys(&self) -> impl Iterator<Item = &StreamId> {
        self.iter().map(|(id, _)| id)
    }

    /// Streams, ascending by id.
    pub fn values(&self) -> impl Iterator<Item = &Stream> {
        self.iter().map(|(_, s)| s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Instant;
    use alloc::vec::Vec;

    fn stream() -> Box<Stream> {
        Box::new(Stream::new(Instant::ZERO, 500, 10, 10))
    }

    #[test]
    fn stream_zero_apart_and_order_kept() {
        let mut m = StreamMap::default();
        m.get_or_insert_with(7, stream);
        m.get_or_insert_with(0, stream);
        m.get_or_insert_with(3, stream);
        assert_eq!(m.len(), 3);
        assert!(!m.rest.contains_key(&0));
        assert_eq!(m.keys().copied().collect::<Vec<_>>(), [0, 3, 7]);
        assert!(m.contains_key(&0) && m.get(&0).is_some() && m.get_mut(&0).is_some());
        assert!(m.remove(&0).is_some());
        assert!(!m.contains_key(&0) && m.get(&0).is_none());
        assert_eq!(m.values().count(), 2);
        assert_eq!(m.len(), 2);
    }
}
