//! Endpoint configuration and its validating builder.
//!
//! Owns: every tunable of the core with its documented default, and the
//! derivation of the node's identity and the network key from the seeds.
//! Never: keeps the raw seeds around longer than the build; holds no
//! per-session state.

use alloc::sync::Arc;
use core::time::Duration;

use crate::crypto::{network_key, Cipher, Identity, NetworkKey, Provider, ResetKey};
use crate::endpoint::TicketConfig;
use crate::ids::NodeId;
use crate::recovery::RecoveryConfig;

use crate::streams::{DatagramLimits, StreamLimits, DEFAULT_SEGMENT_SIZE};

/// Shortest accepted `shared_seed`, in bytes.
pub const MIN_SHARED_SEED_LEN: usize = 16;
/// Shortest accepted `node_seed`, in bytes.
pub const MIN_NODE_SEED_LEN: usize = 16;
/// Smallest datagram size the protocol works with.
pub const MIN_DATAGRAM_SIZE: usize = 256;
/// Largest datagram size (a UDP payload).
pub const MAX_DATAGRAM_SIZE: usize = 65_527;
/// Default ceiling of the datagram size search: a 1500-byte MTU less 40
/// bytes of IPv6 and 8 of UDP. `docs/PERFORMANCE.md` ("Path MTU") has the
/// measurements behind it.
pub const DEFAULT_MAX_DATAGRAM_SIZE: usize = 1452;

/// Why a configuration was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `shared_seed` shorter than [`MIN_SHARED_SEED_LEN`].
    #[error("shared seed of {len} bytes is too short (at least {min})")]
    SharedSeedTooShort {
        /// Its length.
        len: usize,
        /// The minimum.
        min: usize,
    },
    /// `node_seed` shorter than [`MIN_NODE_SEED_LEN`].
    #[error("node seed of {len} bytes is too short (at least {min})")]
    NodeSeedTooShort {
        /// Its length.
        len: usize,
        /// The minimum.
        min: usize,
    },
    /// Datagram size outside [`MIN_DATAGRAM_SIZE`]..=[`MAX_DATAGRAM_SIZE`].
    #[error("datagram size {0} is outside {MIN_DATAGRAM_SIZE}..={MAX_DATAGRAM_SIZE}")]
    DatagramSize(usize),
    /// The base datagram size is below [`MIN_DATAGRAM_SIZE`] or above the
    /// ceiling (`max_datagram_size`).
    #[error("base datagram size {base} must be in {MIN_DATAGRAM_SIZE}..={ceiling} (the ceiling)")]
    BaseDatagramSize {
        /// The base size asked for.
        base: usize,
        /// The ceiling it must not exceed.
        ceiling: usize,
    },
    /// A limit or duration that must be positive is zero.
    #[error("{0} must be greater than zero")]
    Zero(&'static str),
    /// A maximum is below its initial value.
    #[error("{0}: the maximum is below the initial value")]
    MaxBelowInitial(&'static str),
    /// `streams.max_session_buffer` is below what one stream may make a
    /// session hold (`max_session_window + max_message_size`), so an honest
    /// peer could be closed for using a single stream within the limits.
    #[error(
        "streams.max_session_buffer must be at least {min} (max_session_window + max_message_size)"
    )]
    SessionBufferTooSmall {
        /// The smallest accepted value.
        min: u64,
    },
    /// `tickets.lifetime` is longer than `tickets.key_rotation`: a ticket
    /// would outlive the keys that open it.
    #[error("tickets.lifetime must not exceed tickets.key_rotation")]
    TicketLifetime,
}

/// A validated endpoint configuration. Build it with [`Config::builder`].
///
/// Once built it cannot be changed: every setting is read through a getter
/// of the same name, and a changed configuration comes from
/// [`Config::to_builder`], whose `build` validates it again.
///
/// ```
/// let config = stt::Config::builder(b"node-seed-0123456789", b"network-seed-0123456789")
///     .max_datagram_size(1400)
///     .build()?;
/// assert_eq!(config.max_datagram_size(), 1400);
/// let jumbo = config.to_builder().max_datagram_size(9000).build()?;
/// assert_eq!(jumbo.max_datagram_size(), 9000);
/// // Validated again: a size no UDP datagram can have is refused.
/// assert!(config.to_builder().max_datagram_size(70_000).build().is_err());
/// # Ok::<(), stt::ConfigError>(())
/// ```
///
/// Writing a setting of a built configuration does not compile:
///
/// ```compile_fail
/// let mut config = stt::Config::builder(b"node-seed-0123456789", b"network-seed-0123456789")
///     .build()
///     .unwrap();
/// config.max_datagram_size = 70_000;
/// ```
#[derive(Clone)]
pub struct Config {
    /// The seeds' lengths as validated, so `to_builder` re-validates the
    /// same values.
    node_seed_len: usize,
    shared_seed_len: usize,
    pub(crate) identity: Identity,
    /// Wiped on drop, as the identity's private key is.
    pub(crate) network_key: NetworkKey,
    pub(crate) provider: Provider,
    pub(crate) cipher: Cipher,
    /// Accept sessions initiated by others (`server_mode`).
    pub(crate) accept_incoming: bool,
    /// Give up a handshake after this long.
    pub(crate) handshake_timeout: Duration,
    /// Close a session after this long without hearing from the peer.
    pub(crate) idle_timeout: Duration,
    /// Send a keep-alive after this long without sending; `None`: never.
    pub(crate) keep_alive: Option<Duration>,
    /// Largest datagram sent (UDP payload): the ceiling of each session's
    /// datagram size search.
    pub(crate) max_datagram_size: usize,
    /// Datagram size every session starts at (and falls back to), which
    /// every path is assumed to carry; handshake packets fit it.
    pub(crate) base_datagram_size: usize,
    /// Sessions held at once.
    pub(crate) max_sessions: usize,
    /// Half-open (responder) handshakes held before cookies are required.
    pub(crate) max_half_open: usize,
    /// How long a Retry cookie stays valid.
    pub(crate) cookie_lifetime: Duration,
    /// Default segment size of `send_all`.
    pub(crate) segment_size: usize,
    /// Stream limits and windows.
    /// Shared with every session's stream manager (one copy per endpoint).
    pub(crate) streams: Arc<StreamLimits>,
    /// Unreliable datagrams: queue bounds, priority, what is accepted.
    pub(crate) datagrams: DatagramLimits,
    /// Loss recovery and congestion control.
    pub(crate) recovery: Arc<RecoveryConfig>,
    /// Update a direction's packet key after this many packets under it.
    pub(crate) key_update_after_packets: u64,
    /// Update a direction's packet key after this many bytes under it.
    pub(crate) key_update_after_bytes: u64,
    /// The static secret stateless reset tokens are derived from.
    pub(crate) reset_key: ResetKey,
    /// Stateless resets sent per second at most (and in one burst); 0:
    /// never answer a datagram for an unknown session.
    pub(crate) stateless_resets_per_sec: u32,
    /// Session tickets: issuing, resuming, their bounds.
    pub(crate) tickets: TicketConfig,
    /// The ticket keys' master secret, if the application stores one;
    /// else each endpoint draws its own from its seed.
    pub(crate) ticket_secret: Option<zeroize::Zeroizing<[u8; 32]>>,
}

impl core::fmt::Debug for Config {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Config")
            .field("node_id", &self.identity.node_id())
            .field("provider", &self.provider)
            .field("cipher", &self.cipher)
            .field("accept_incoming", &self.accept_incoming)
            .field("handshake_timeout", &self.handshake_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("keep_alive", &self.keep_alive)
            .field("max_datagram_size", &self.max_datagram_size)
            .field("base_datagram_size", &self.base_datagram_size)
            .field("max_sessions", &self.max_sessions)
            .field("max_half_open", &self.max_half_open)
            .field("segment_size", &self.segment_size)
            .field("streams", &self.streams)
            .field("datagrams", &self.datagrams)
            .field("key_update_after_packets", &self.key_update_after_packets)
            .field("key_update_after_bytes", &self.key_update_after_bytes)
            .field("stateless_resets_per_sec", &self.stateless_resets_per_sec)
            .field("tickets", &self.tickets)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Starts a configuration from the node's seed (its identity) and the
    /// network's shared seed (the pre-shared secret every node of the network
    /// holds).
    pub fn builder(node_seed: &[u8], shared_seed: &[u8]) -> ConfigBuilder {
        ConfigBuilder::new(node_seed, shared_seed)
    }

    /// A builder holding this configuration's identity, network key and
    /// every setting, to derive a changed configuration from it; its
    /// [`build`](ConfigBuilder::build) validates everything again. A built
    /// `Config` itself cannot be changed.
    pub fn to_builder(&self) -> ConfigBuilder {
        ConfigBuilder {
            draft: self.clone(),
        }
    }

    /// This node's identity (its static public key).
    pub fn node_id(&self) -> NodeId {
        self.identity.node_id()
    }

    /// The AEAD provider in use.
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// The packet cipher this node asks for in sessions it initiates.
    pub fn cipher(&self) -> Cipher {
        self.cipher
    }

    /// Accept sessions initiated by others (`server_mode`).
    pub fn accept_incoming(&self) -> bool {
        self.accept_incoming
    }

    /// Give up a handshake after this long.
    pub fn handshake_timeout(&self) -> Duration {
        self.handshake_timeout
    }

    /// Close a session after this long without hearing from the peer.
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// Send a keep-alive after this long without sending; `None`: never.
    pub fn keep_alive(&self) -> Option<Duration> {
        self.keep_alive
    }

    /// Largest datagram sent (UDP payload): the ceiling of each session's
    /// datagram size search.
    pub fn max_datagram_size(&self) -> usize {
        self.max_datagram_size
    }

    /// Datagram size every session starts at (and falls back to), which
    /// every path is assumed to carry; handshake packets fit it.
    pub fn base_datagram_size(&self) -> usize {
        self.base_datagram_size
    }

    /// Sessions held at once.
    pub fn max_sessions(&self) -> usize {
        self.max_sessions
    }

    /// Half-open (responder) handshakes held before cookies are required.
    pub fn max_half_open(&self) -> usize {
        self.max_half_open
    }

    /// How long a Retry cookie stays valid.
    pub fn cookie_lifetime(&self) -> Duration {
        self.cookie_lifetime
    }

    /// Default segment size of `send_all`.
    pub fn segment_size(&self) -> usize {
        self.segment_size
    }

    /// Stream limits and windows.
    pub fn streams(&self) -> StreamLimits {
        *self.streams
    }

    /// Loss recovery and congestion control.
    pub fn recovery(&self) -> &RecoveryConfig {
        &self.recovery
    }

    /// Update a direction's packet key after this many packets under it.
    pub fn key_update_after_packets(&self) -> u64 {
        self.key_update_after_packets
    }

    /// Update a direction's packet key after this many bytes under it.
    pub fn key_update_after_bytes(&self) -> u64 {
        self.key_update_after_bytes
    }

    /// Stateless resets sent per second at most; 0: none.
    pub fn stateless_resets_per_sec(&self) -> u32 {
        self.stateless_resets_per_sec
    }

    /// Session tickets and resumption (see [`ConfigBuilder::tickets`]).
    pub fn tickets(&self) -> TicketConfig {
        self.tickets
    }

    /// Unreliable datagram limits (see [`ConfigBuilder::datagrams`]).
    pub fn datagrams(&self) -> DatagramLimits {
        self.datagrams
    }
}

/// Builder of a [`Config`]; every setting has a documented default.
#[derive(Clone)]
pub struct ConfigBuilder {
    /// The configuration being built: every setting lands here unchecked,
    /// and `build` validates it whole before handing it out.
    draft: Config,
}

/// Default of [`ConfigBuilder::key_update_after_packets`]: 2^20 packets.
pub const DEFAULT_KEY_UPDATE_PACKETS: u64 = 1 << 20;
/// Default of [`ConfigBuilder::key_update_after_bytes`]: 1 GiB.
pub const DEFAULT_KEY_UPDATE_BYTES: u64 = 1 << 30;
/// Default of [`ConfigBuilder::stateless_resets_per_sec`].
pub const DEFAULT_STATELESS_RESETS_PER_SEC: u32 = 100;

impl ConfigBuilder {
    fn new(node_seed: &[u8], shared_seed: &[u8]) -> Self {
        let identity = Identity::from_seed(node_seed);
        ConfigBuilder {
            draft: Config {
                node_seed_len: node_seed.len(),
                shared_seed_len: shared_seed.len(),
                reset_key: identity.reset_key(),
                identity,
                network_key: NetworkKey::new(&zeroize::Zeroizing::new(network_key(shared_seed))),
                provider: Provider::default(),
                cipher: Cipher::default(),
                accept_incoming: true,
                handshake_timeout: Duration::from_secs(10),
                idle_timeout: Duration::from_secs(30),
                keep_alive: Some(Duration::from_secs(10)),
                max_datagram_size: DEFAULT_MAX_DATAGRAM_SIZE,
                base_datagram_size: crate::path::DEFAULT_BASE_DATAGRAM_SIZE,
                max_sessions: 10_000,
                max_half_open: 256,
                cookie_lifetime: Duration::from_secs(10),
                segment_size: DEFAULT_SEGMENT_SIZE,
                streams: Arc::new(StreamLimits::default()),
                datagrams: DatagramLimits::default(),
                recovery: Arc::new(RecoveryConfig::default()),
                key_update_after_packets: DEFAULT_KEY_UPDATE_PACKETS,
                key_update_after_bytes: DEFAULT_KEY_UPDATE_BYTES,
                stateless_resets_per_sec: DEFAULT_STATELESS_RESETS_PER_SEC,
                tickets: TicketConfig::default(),
                ticket_secret: None,
            },
        }
    }

    /// AEAD provider (default: `ring` when compiled in, else RustCrypto).
    pub fn provider(mut self, p: Provider) -> Self {
        self.draft.provider = p;
        self
    }
    /// Packet cipher for sessions this node initiates (default
    /// ChaCha20-Poly1305). The initiator chooses: a responder uses whatever
    /// the initiator asked for, so nodes with different settings still talk.
    /// AES-256-GCM is the faster choice on CPUs with AES instructions.
    pub fn cipher(mut self, c: Cipher) -> Self {
        self.draft.cipher = c;
        self
    }
    /// Accept sessions from others (default true; false for a pure client).
    pub fn accept_incoming(mut self, yes: bool) -> Self {
        self.draft.accept_incoming = yes;
        self
    }
    /// Handshake timeout (default 10 s).
    pub fn handshake_timeout(mut self, d: Duration) -> Self {
        self.draft.handshake_timeout = d;
        self
    }
    /// Idle timeout (default 30 s).
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.draft.idle_timeout = d;
        self
    }
    /// Keep-alive interval (default 10 s; `None` disables). A keep-alive
    /// is one PING, acknowledged at once by a resting peer; both sides
    /// release what only a busy session holds as soon as it is answered.
    pub fn keep_alive(mut self, d: Option<Duration>) -> Self {
        self.draft.keep_alive = d;
        self
    }
    /// Largest datagram, the ceiling of the path's datagram size search
    /// (default [`DEFAULT_MAX_DATAGRAM_SIZE`], 1452: fits a 1500-byte MTU
    /// over IPv6). Raise it for jumbo-frame paths or loopback.
    pub fn max_datagram_size(mut self, n: usize) -> Self {
        self.draft.max_datagram_size = n;
        self
    }
    /// Datagram size every session starts at and falls back to after a
    /// black hole (default 1200, which every IPv4 and IPv6 path carries).
    /// Equal to `max_datagram_size`, the size is fixed and never probed.
    pub fn base_datagram_size(mut self, n: usize) -> Self {
        self.draft.base_datagram_size = n;
        self
    }
    /// Sessions held at once (default 10,000).
    pub fn max_sessions(mut self, n: usize) -> Self {
        self.draft.max_sessions = n;
        self
    }
    /// Half-open handshakes before cookies are required (default 256).
    pub fn max_half_open(mut self, n: usize) -> Self {
        self.draft.max_half_open = n;
        self
    }
    /// Lifetime of Retry cookies (default 10 s).
    pub fn cookie_lifetime(mut self, d: Duration) -> Self {
        self.draft.cookie_lifetime = d;
        self
    }
    /// Default `send_all` segment size (default 64 KiB).
    pub fn segment_size(mut self, n: usize) -> Self {
        self.draft.segment_size = n;
        self
    }
    /// Stream limits and windows (see [`StreamLimits`] for defaults).
    /// What one session may buffer for the application is bounded by
    /// `streams.max_session_buffer` (128 MiB by default) whatever the peer
    /// does: past it the session closes with `Violation::FlowControl`.
    pub fn streams(mut self, s: StreamLimits) -> Self {
        self.draft.streams = Arc::new(s);
        self
    }
    /// Unreliable datagrams (see [`DatagramLimits`] for defaults): how
    /// large a DATAGRAM frame this node accepts (0 refuses them), the
    /// bounds of each session's send and receive queues, and their priority
    /// against the streams.
    pub fn datagrams(mut self, d: DatagramLimits) -> Self {
        self.draft.datagrams = d;
        self
    }
    /// Recovery and congestion control (see [`RecoveryConfig`]).
    pub fn recovery(mut self, r: RecoveryConfig) -> Self {
        self.draft.recovery = Arc::new(r);
        self
    }

    /// Update each direction's packet key after this many packets sealed
    /// under it (default 2^20). Limits what an attacker collects under one
    /// key; the update costs a hash and no round trip.
    pub fn key_update_after_packets(mut self, n: u64) -> Self {
        self.draft.key_update_after_packets = n;
        self
    }
    /// Update each direction's packet key after this many bytes sealed under
    /// it (default 1 GiB), whichever of packets and bytes comes first.
    pub fn key_update_after_bytes(mut self, n: u64) -> Self {
        self.draft.key_update_after_bytes = n;
        self
    }

    /// The secret stateless reset tokens are derived from (default: derived
    /// from the node's static key, so a node restarted with the same
    /// `node_seed` can reset the sessions it lost). Set it from a stored
    /// secret to keep it apart from the identity, or to share it between
    /// endpoints that answer for the same sessions. Anyone holding it can
    /// end this node's sessions: keep it as secret as the node seed.
    pub fn reset_key(mut self, secret: [u8; 32]) -> Self {
        self.draft.reset_key = ResetKey::new(&secret);
        self
    }
    /// Session tickets and resumption (see [`TicketConfig`]).
    pub fn tickets(mut self, t: TicketConfig) -> Self {
        self.draft.tickets = t;
        self
    }

    /// The master secret of this node's ticket keys. Unset (the default),
    /// every endpoint draws its own from its seed, so a restarted endpoint
    /// refuses the tickets it gave before (they fall back to the full
    /// handshake). Set it from a stored secret to honour tickets across
    /// restarts, or across endpoints that answer for one node; the strike
    /// register is not shared or kept, so a ticket may then be used once
    /// per endpoint and once more after each restart (docs/SECURITY.md).
    pub fn ticket_secret(mut self, secret: [u8; 32]) -> Self {
        self.draft.ticket_secret = Some(zeroize::Zeroizing::new(secret));
        self
    }

    /// Stateless resets this endpoint sends per second at most, in bursts of
    /// up to as many (default 100); 0 never answers a datagram for a
    /// session it does not know.
    pub fn stateless_resets_per_sec(mut self, n: u32) -> Self {
        self.draft.stateless_resets_per_sec = n;
        self
    }

    /// Checks every setting and builds the configuration.
    pub fn build(self) -> Result<Config, ConfigError> {
        let mut c = self.draft;
        if c.shared_seed_len < MIN_SHARED_SEED_LEN {
            return Err(ConfigError::SharedSeedTooShort {
                len: c.shared_seed_len,
                min: MIN_SHARED_SEED_LEN,
            });
        }
        if c.node_seed_len < MIN_NODE_SEED_LEN {
            return Err(ConfigError::NodeSeedTooShort {
                len: c.node_seed_len,
                min: MIN_NODE_SEED_LEN,
            });
        }
        if !(MIN_DATAGRAM_SIZE..=MAX_DATAGRAM_SIZE).contains(&c.max_datagram_size) {
            return Err(ConfigError::DatagramSize(c.max_datagram_size));
        }
        if !(MIN_DATAGRAM_SIZE..=c.max_datagram_size).contains(&c.base_datagram_size) {
            return Err(ConfigError::BaseDatagramSize {
                base: c.base_datagram_size,
                ceiling: c.max_datagram_size,
            });
        }
        let zero = [
            (c.handshake_timeout.is_zero(), "handshake_timeout"),
            (c.idle_timeout.is_zero(), "idle_timeout"),
            (c.keep_alive.is_some_and(|d| d.is_zero()), "keep_alive"),
            (c.max_sessions == 0, "max_sessions"),
            (c.cookie_lifetime.is_zero(), "cookie_lifetime"),
            (c.segment_size == 0, "segment_size"),
            (c.streams.max_streams == 0, "streams.max_streams"),
            (c.streams.stream_window == 0, "streams.stream_window"),
            (c.streams.session_window == 0, "streams.session_window"),
            (c.key_update_after_packets == 0, "key_update_after_packets"),
            (c.key_update_after_bytes == 0, "key_update_after_bytes"),
            (c.datagrams.send_queue_len == 0, "datagrams.send_queue_len"),
            (
                c.datagrams.send_queue_bytes == 0,
                "datagrams.send_queue_bytes",
            ),
            (c.datagrams.recv_queue_len == 0, "datagrams.recv_queue_len"),
            (
                c.datagrams.recv_queue_bytes == 0,
                "datagrams.recv_queue_bytes",
            ),
            (c.tickets.lifetime.is_zero(), "tickets.lifetime"),
        ];
        if let Some((_, name)) = zero.iter().find(|(z, _)| *z) {
            return Err(ConfigError::Zero(name));
        }
        if c.tickets.key_rotation < c.tickets.lifetime {
            return Err(ConfigError::TicketLifetime);
        }
        if c.streams.max_stream_window < c.streams.stream_window {
            return Err(ConfigError::MaxBelowInitial("streams.max_stream_window"));
        }
        if c.streams.max_session_window < c.streams.session_window {
            return Err(ConfigError::MaxBelowInitial("streams.max_session_window"));
        }
        let min_buffer = c
            .streams
            .max_session_window
            .saturating_add(c.streams.max_message_size);
        if c.streams.max_session_buffer < min_buffer {
            return Err(ConfigError::SessionBufferTooSmall { min: min_buffer });
        }
        // The window's unit starts at the base size (the initial window is
        // counted in datagrams a session can surely send); sessions move it
        // as their datagram size grows.
        Arc::make_mut(&mut c.recovery).max_datagram_size = c.base_datagram_size;
        c.datagrams.priority = c.datagrams.priority.min(crate::streams::MAX_PRIORITY);
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODE: &[u8] = b"node-seed-node-seed-node-seed!!!";
    const NET: &[u8] = b"shared_secret_32bytes_minimum!";

    #[test]
    fn defaults_build() {
        let c = Config::builder(NODE, NET).build().unwrap();
        assert_eq!(c.segment_size, 64 * 1024);
        assert_eq!(c.max_datagram_size, 1452);
        assert_eq!(c.base_datagram_size, 1200);
        assert_eq!(
            c.recovery.max_datagram_size, 1200,
            "window unit starts at the base"
        );
    }

    #[test]
    fn short_shared_seed_is_a_typed_error() {
        let e = Config::builder(NODE, b"short").build().unwrap_err();
        assert_eq!(e, ConfigError::SharedSeedTooShort { len: 5, min: 16 });
    }

    #[test]
    fn bad_limits_are_refused() {
        let e = Config::builder(NODE, NET).max_datagram_size(100).build();
        assert_eq!(e.unwrap_err(), ConfigError::DatagramSize(100));
        let e = Config::builder(NODE, NET)
            .max_datagram_size(1300)
            .base_datagram_size(1400)
            .build();
        assert_eq!(
            e.unwrap_err(),
            ConfigError::BaseDatagramSize {
                base: 1400,
                ceiling: 1300
            }
        );
        let e = Config::builder(NODE, NET).base_datagram_size(255).build();
        assert_eq!(
            e.unwrap_err(),
            ConfigError::BaseDatagramSize {
                base: 255,
                ceiling: 1452
            }
        );
        let c = Config::builder(NODE, NET)
            .max_datagram_size(1300)
            .base_datagram_size(1300)
            .build()
            .unwrap();
        assert_eq!((c.base_datagram_size, c.max_datagram_size), (1300, 1300));
        let e = Config::builder(NODE, NET).segment_size(0).build();
        assert_eq!(e.unwrap_err(), ConfigError::Zero("segment_size"));
        let e = Config::builder(NODE, NET)
            .key_update_after_packets(0)
            .build();
        assert_eq!(
            e.unwrap_err(),
            ConfigError::Zero("key_update_after_packets")
        );
        let s = StreamLimits {
            max_session_buffer: (64 << 20) + (16 << 20) - 1,
            ..StreamLimits::default()
        };
        let e = Config::builder(NODE, NET).streams(s).build();
        assert_eq!(
            e.unwrap_err(),
            ConfigError::SessionBufferTooSmall { min: 80 << 20 }
        );
        let s = StreamLimits {
            max_stream_window: 1,
            ..StreamLimits::default()
        };
        let e = Config::builder(NODE, NET).streams(s).build();
        assert_eq!(
            e.unwrap_err(),
            ConfigError::MaxBelowInitial("streams.max_stream_window")
        );
    }

    #[test]
    fn reset_key_follows_the_node_seed_unless_set() {
        let id = crate::ids::SessionId(42);
        let token = |c: &Config| c.reset_key.token(id);
        let a = Config::builder(NODE, NET).build().unwrap();
        let same_node = Config::builder(NODE, b"another network key!!")
            .build()
            .unwrap();
        assert_eq!(
            token(&a),
            token(&same_node),
            "the network key plays no part"
        );
        let other = Config::builder(b"another-node-seed-another-node!!", NET)
            .build()
            .unwrap();
        assert_ne!(token(&a), token(&other));
        let set = Config::builder(NODE, NET)
            .reset_key([1; 32])
            .build()
            .unwrap();
        assert_eq!(token(&set), ResetKey::new(&[1; 32]).token(id));
        assert_eq!(token(&set.to_builder().build().unwrap()), token(&set));
        assert_eq!(a.stateless_resets_per_sec(), 100);
    }

    #[test]
    fn same_node_seed_same_identity() {
        let a = Config::builder(NODE, NET).build().unwrap();
        let b = Config::builder(NODE, b"another network key!!")
            .build()
            .unwrap();
        assert_eq!(a.node_id(), b.node_id());
    }
}
