//! The sender's memory per file, from the number of files sent at once:
//! the chunk read from disk per `send_all`, and the bytes a file's stream
//! may hold unacknowledged in the core.
//!
//! Owns: these sizes. Never lets their sum over all files grow with the
//! number of files beyond the floors below (one file: 4 chunks of 1 MiB
//! read ahead and a 64 MiB queue, what a long fat path needs in flight;
//! 100 files: 25 MiB of chunks and 64 MiB of queues, where a fixed queue
//! each would read every byte of many files into memory before the first
//! was acknowledged).

/// Unacknowledged bytes all file streams together may hold in the core.
/// One file gets all of it: the core's default `max_send_queue`, which
/// keeps a 1 Gbit/s x 200 ms path full; a smaller queue caps the bytes in
/// flight below the path's bandwidth-delay product.
const SEND_QUEUE_TOTAL: u64 = 64 << 20;
/// The least queue a file's stream gets, however many files: four
/// `send_all` segments.
const SEND_QUEUE_MIN: u64 = 256 << 10;
/// Chunks a file's reader thread may be ahead of its stream.
pub(crate) const AHEAD: usize = 4;
/// Bytes read ahead of the streams for all files together.
const READ_AHEAD_TOTAL: usize = 4 << 20;
/// The largest chunk.
const CHUNK_MAX: usize = 1 << 20;
/// The least chunk: one `send_all` segment.
const CHUNK_MIN: usize = 64 << 10;

/// Bytes read from disk per `send_all` call with `files` files at once.
pub(crate) fn chunk_size(files: usize) -> usize {
    (READ_AHEAD_TOTAL / (AHEAD * files.max(1))).clamp(CHUNK_MIN, CHUNK_MAX)
}

/// `StreamLimits::max_send_queue` for a sender of `files` files at once.
pub(crate) fn send_queue(files: usize) -> u64 {
    (SEND_QUEUE_TOTAL / files.max(1) as u64).clamp(SEND_QUEUE_MIN, SEND_QUEUE_TOTAL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_file_gets_everything_many_share_it() {
        assert_eq!(chunk_size(1), 1 << 20);
        assert_eq!(chunk_size(4), 256 << 10);
        assert_eq!(chunk_size(16), 64 << 10);
        assert_eq!(chunk_size(100), 64 << 10);
        assert_eq!(chunk_size(0), 1 << 20);
        assert_eq!(send_queue(1), 64 << 20);
        assert_eq!(send_queue(0), 64 << 20);
        assert_eq!(send_queue(32), 2 << 20);
        assert_eq!(send_queue(256), 256 << 10);
        assert_eq!(send_queue(1_000), 256 << 10);
    }

    #[test]
    fn the_total_stays_bounded_as_files_grow() {
        let total = |n: usize| n as u64 * (send_queue(n) + (AHEAD * chunk_size(n)) as u64);
        assert!(total(1) <= 68 << 20);
        assert!(total(100) <= 90 << 20, "{}", total(100));
        assert_eq!(total(1_000), 1_000 * ((256 << 10) + (256 << 10)));
    }
}
