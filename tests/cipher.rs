//! Packet ciphers end to end: the initiator's choice protects the session
//! on both sides, whatever the responder prefers, across key updates.

mod common;

use common::{config, Pair};
use stt::__private::crypto::TAG_LEN;
use stt::__private::wire::SHORT_HEADER_LEN;
use stt::{Cipher, Provider};

const SHORT: u8 = 0x80;

/// The short-header datagrams a sent to b, in order.
fn short_from_a(p: &Pair) -> impl Iterator<Item = &Vec<u8>> {
    p.sent
        .iter()
        .filter(|(a_to_b, d)| *a_to_b && d[0] & SHORT == 0)
        .map(|(_, d)| d)
}

fn run(initiator: Cipher, responder: Cipher, provider_b: Provider) -> Pair {
    let a = config("a")
        .cipher(initiator)
        .key_update_after_packets(40)
        .build()
        .unwrap();
    let b = config("b")
        .cipher(responder)
        .provider(provider_b)
        .build()
        .unwrap();
    let mut p = Pair::new(a, b);
    let (sa, sb) = p.connect();
    assert_eq!(p.a.session(sa).unwrap().cipher(), Some(initiator));
    assert_eq!(p.b.session(sb).unwrap().cipher(), Some(initiator));
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    p.a.session_mut(sa).unwrap().send(3, data.clone()).unwrap();
    p.b.session_mut(sb)
        .unwrap()
        .send(4, &b"and back"[..])
        .unwrap();
    let got = p.drive_reading_b(sb, 3);
    assert_eq!(got, vec![data], "{initiator:?} message whole");
    assert_eq!(p.recv_all_a(sa, 4), vec![b"and back".to_vec()]);
    assert!(
        p.a.session(sa).unwrap().stats().key_updates_sent >= 2,
        "keys rotated under {initiator:?}"
    );
    p
}

#[test]
fn the_initiators_cipher_wins_and_carries_data_across_key_updates() {
    for &p in Provider::all() {
        run(Cipher::Aes256Gcm, Cipher::ChaCha20Poly1305, p);
        run(Cipher::ChaCha20Poly1305, Cipher::Aes256Gcm, p);
        run(Cipher::Aes256Gcm, Cipher::Aes256Gcm, p);
    }
}

#[test]
fn the_ciphers_give_different_bytes_on_the_wire() {
    let sent = |c| {
        let p = run(c, c, Provider::default());
        short_from_a(&p).cloned().collect::<Vec<_>>()
    };
    let (x, y) = (sent(Cipher::ChaCha20Poly1305), sent(Cipher::Aes256Gcm));
    assert!(!x.is_empty() && !y.is_empty());
    // Same seeds, same traffic: the first packets differ in their sealed
    // bytes, not in their headers.
    assert_eq!(
        x[0][..SHORT_HEADER_LEN],
        y[0][..SHORT_HEADER_LEN],
        "same header"
    );
    assert_ne!(
        x[0][SHORT_HEADER_LEN..],
        y[0][SHORT_HEADER_LEN..],
        "different ciphertext"
    );
}

/// An AES-256-GCM packet that fills its datagram carries whole 16-byte
/// blocks of plaintext (`Cipher::whole_blocks`: up to 15 bytes short of
/// the datagram size); a ChaCha20-Poly1305 one fills the datagram.
#[test]
fn aes_packets_carry_whole_blocks_and_chacha_packets_fill_the_datagram() {
    // The most common length of a's short-header datagrams (the full data
    // packets of the 300 KB message), and the session's datagram size.
    let common = |c| {
        let p = run(c, c, Provider::default());
        let mut counts = std::collections::BTreeMap::new();
        for d in short_from_a(&p) {
            *counts.entry(d.len()).or_insert(0u32) += 1;
        }
        let (len, _) = counts.into_iter().max_by_key(|&(_, n)| n).unwrap();
        let id = p.a.sessions().next().unwrap();
        (len, p.a.session(id).unwrap().stats().datagram_size)
    };
    let (chacha, size) = common(Cipher::ChaCha20Poly1305);
    assert_eq!(chacha, size, "ChaCha20 packets fill the datagram");
    let (aes, aes_size) = common(Cipher::Aes256Gcm);
    assert_eq!(aes_size, size, "the same path search under both ciphers");
    let plaintext = aes - SHORT_HEADER_LEN - TAG_LEN;
    assert_eq!(plaintext % 16, 0, "whole blocks: {aes} bytes");
    assert!(size - aes < 16, "at most 15 bytes short: {aes} of {size}");
}
