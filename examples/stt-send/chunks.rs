//! Read buffers the sender reuses: a file chunk is read into a buffer from
//! the pool, handed to the stream as [`Bytes`], and the buffer comes back
//! to the pool when the last copy of those bytes is dropped (the core drops
//! them once the listener acknowledged them).
//!
//! Owns: the free buffers and the chunk size. Never holds more than `keep`
//! free buffers, and never hands out a buffer whose old bytes are visible
//! (a taken buffer is empty; readers fill it from the file).
//!
//! Why: a fresh 1 MiB `Vec` per chunk is an `mmap` and, when dropped, a
//! `munmap` (glibc serves large blocks straight from the kernel, and with
//! many reader threads its arenas rarely settle on reusing them): with 100
//! files that was 750 mappings, 200,000 page faults and zeroed pages per
//! 800 MiB, and the file read copying into cold pages, about a tenth of the
//! sender's CPU (docs/ADAPTERS.md, round four).

use std::sync::{Arc, Mutex};

use bytes::Bytes;

/// Free buffers to hand out again, all of capacity `size`.
pub(crate) struct ChunkPool {
    free: Mutex<Vec<Vec<u8>>>,
    size: usize,
    keep: usize,
}

impl ChunkPool {
    /// A pool of chunks of `size` bytes keeping at most `keep` free ones.
    pub(crate) fn new(size: usize, keep: usize) -> Arc<Self> {
        Arc::new(ChunkPool {
            free: Mutex::new(Vec::new()),
            size: size.max(1),
            keep,
        })
    }

    /// Bytes per chunk.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// An empty buffer with room for one chunk.
    pub(crate) fn take(&self) -> Vec<u8> {
        let reused = self.free.lock().ok().and_then(|mut f| f.pop());
        reused.unwrap_or_else(|| Vec::with_capacity(self.size))
    }

    /// `buf`'s bytes, shared without a copy; `buf` comes back here once
    /// every clone and slice of them is gone.
    pub(crate) fn share(self: &Arc<Self>, buf: Vec<u8>) -> Bytes {
        Bytes::from_owner(Pooled {
            buf,
            pool: Arc::clone(self),
        })
    }

    fn give_back(&self, mut buf: Vec<u8>) {
        // Only buffers of the pool's size: a grown or shrunk one would
        // break `take`'s promise of room for one chunk.
        if buf.capacity() != self.size {
            return;
        }
        buf.clear();
        if let Ok(mut free) = self.free.lock() {
            if free.len() < self.keep {
                free.push(buf);
            }
        }
    }

    /// Free buffers held now.
    #[cfg(test)]
    fn free(&self) -> usize {
        self.free.lock().map(|f| f.len()).unwrap_or(0)
    }
}

/// A chunk lent out as `Bytes`.
struct Pooled {
    buf: Vec<u8>,
    pool: Arc<ChunkPool>,
}

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        self.pool.give_back(std::mem::take(&mut self.buf));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_comes_back_when_its_last_slice_drops() {
        let pool = ChunkPool::new(16, 4);
        let mut buf = pool.take();
        buf.extend_from_slice(b"0123456789");
        let ptr = buf.as_ptr();
        let bytes = pool.share(buf);
        let tail = bytes.slice(5..);
        drop(bytes);
        assert_eq!(pool.free(), 0, "a slice still holds the buffer");
        assert_eq!(&tail[..], b"56789");
        drop(tail);
        assert_eq!(pool.free(), 1);
        let again = pool.take();
        assert_eq!(again.as_ptr(), ptr, "the same allocation is reused");
        assert!(again.is_empty(), "old bytes are never visible");
        assert_eq!(again.capacity(), 16);
    }

    #[test]
    fn keeps_at_most_keep_and_only_its_size() {
        let pool = ChunkPool::new(8, 2);
        let shared: Vec<Bytes> = (0..3).map(|_| pool.share(pool.take())).collect();
        drop(shared);
        assert_eq!(pool.free(), 2);
        let _ = pool.take();
        let _ = pool.take();
        drop(pool.share(Vec::with_capacity(32)));
        assert_eq!(pool.free(), 0, "a buffer of another size is not kept");
    }
}
