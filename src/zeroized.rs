//! Buffers of secret bytes that grow without leaving copies behind. A `Vec` that outgrows its
//! allocation frees the old one as it is, so a secret read in pieces (a server's answer, stdin)
//! would stay in freed memory; here every outgrown buffer is zeroized first.

use std::io::Read;

use secrecy::zeroize::Zeroizing;

/// Appends `more` to `buf`; a buffer it outgrows is zeroized, never freed holding its bytes.
pub fn append(buf: &mut Zeroizing<Vec<u8>>, more: &[u8]) {
    if buf.capacity() - buf.len() < more.len() {
        let wanted = (buf.len() + more.len()).max(buf.capacity() * 2);
        let mut bigger = Zeroizing::new(Vec::with_capacity(wanted));
        bigger.extend_from_slice(buf);
        *buf = bigger;
    }
    buf.extend_from_slice(more);
}

/// What `reader` gives, up to `limit` bytes and one more, so that the caller can tell a reader
/// that holds more than `limit`.
///
/// # Errors
/// The reader's own error (an interrupted read is retried).
pub fn read_to_end(reader: impl Read, limit: u64) -> std::io::Result<Zeroizing<Vec<u8>>> {
    let mut reader = reader.take(limit.saturating_add(1));
    let mut buf = Zeroizing::new(Vec::new());
    let mut chunk = Zeroizing::new([0u8; 16 * 1024]);
    loop {
        match reader.read(&mut chunk[..]) {
            Ok(0) => return Ok(buf),
            Ok(n) => append(&mut buf, &chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_across_growth_and_reads_one_byte_past_the_limit() {
        let mut buf = Zeroizing::new(Vec::new());
        for i in 0..100u8 {
            append(&mut buf, &[i; 100]);
        }
        assert_eq!(buf.len(), 10_000);
        assert!(buf
            .chunks(100)
            .enumerate()
            .all(|(i, c)| c.iter().all(|&b| usize::from(b) == i)));

        let text = vec![b'x'; 40_000];
        assert_eq!(read_to_end(&text[..], 50_000).unwrap().len(), 40_000);
        assert_eq!(read_to_end(&text[..], 30_000).unwrap().len(), 30_001);
        assert_eq!(read_to_end(&text[..], u64::MAX).unwrap().len(), 40_000);
    }
}
