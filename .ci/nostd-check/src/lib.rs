//! Links `stt` into a `#![no_std]` static library; see `Cargo.toml` for the
//! commands and for why a build failure here means something pulled in `std`.
//!
//! The exported function touches the packet key, the replay window, the
//! cookie key and the handshake so that their code is monomorphised and
//! linked, not just declared.
#![no_std]

use core::alloc::{GlobalAlloc, Layout};
use core::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use core::panic::PanicInfo;

// Internals, through the crate's hidden door (not API).
use stt::__private::crypto::{
    CookieKey, Handshake, Identity, PacketKey, Provider, ReplayWindow, TAG_LEN,
};
use stt::{Instant, SessionId};

/// Refuses every allocation: enough to link, never meant to run.
struct NoAlloc;

unsafe impl GlobalAlloc for NoAlloc {
    unsafe fn alloc(&self, _layout: Layout) -> *mut u8 {
        core::ptr::null_mut()
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}

#[global_allocator]
static ALLOCATOR: NoAlloc = NoAlloc;

#[panic_handler]
fn panic(_info: &PanicInfo) -> ! {
    loop {}
}

/// Seals a packet, records it in a replay window, mints a cookie and starts a
/// handshake; returns a byte of the result so nothing is optimised away.
#[no_mangle]
pub extern "C" fn stt_nostd_check(pn: u64) -> u32 {
    let key = PacketKey::new(Provider::default(), &[7; 32]);
    let mut packet = [0u8; 32 + TAG_LEN];
    if key.seal(pn, b"header", &mut packet).is_err() {
        return 0;
    }
    let mut window = ReplayWindow::new();
    if window.check(pn).is_ok() {
        window.record(pn);
    }
    let peer = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 4433));
    let cookie = CookieKey::new(&[1; 32]).issue(Instant::ZERO, &peer, SessionId(pn));
    let identity = Identity::from_seed(b"nostd");
    let mut msg = [0u8; 64];
    let written = Handshake::initiator(&identity, &[2; 32], [3; 32])
        .and_then(|mut h| h.write_message(&[], &mut msg))
        .unwrap_or(0);
    u32::from(packet[32]) ^ u32::from(cookie[4]) ^ written as u32
}
