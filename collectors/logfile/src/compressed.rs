//! Compressed logs, recognised by their first bytes (never by their name):
//! gzip (every member of a multi-member file), bzip2, xz and zstd, streamed
//! through their decoders so memory does not grow with the file. The
//! decompressed size is capped against compression bombs.

use std::io::{self, BufRead, BufReader, Read};

/// A compression format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    Gzip,
    Bzip2,
    Xz,
    Zstd,
}

impl Codec {
    pub fn name(self) -> &'static str {
        match self {
            Codec::Gzip => "gzip",
            Codec::Bzip2 => "bzip2",
            Codec::Xz => "xz",
            Codec::Zstd => "zstd",
        }
    }

    /// The format whose magic bytes start `head`.
    pub fn sniff(head: &[u8]) -> Option<Codec> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Codec::Gzip)
        } else if head.starts_with(b"BZh") && head.get(3).is_some_and(|d| (b'1'..=b'9').contains(d)) {
            Some(Codec::Bzip2)
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
            Some(Codec::Xz)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Codec::Zstd)
        } else {
            None
        }
    }
}

/// Decompressed bytes allowed per compressed byte; real logs compress 5 to
/// 50 times, a bomb thousands of times.
pub const MAX_RATIO: u64 = 1000;
/// …but never less than this, so small archives of repetitive logs are read whole.
pub const MIN_CAP: u64 = 64 << 20;

/// Stops a decoder past `cap` bytes with an error that says why.
pub struct Capped<R> {
    inner: R,
    left: u64,
    cap: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            // One byte more tells a file exactly at the cap from a bomb.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(format!(
                    "decompressed size passed {} MiB, {MAX_RATIO} times the file: a compression bomb? reading stopped",
                    self.cap >> 20
                ))),
            };
        }
        let want = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(buf.get_mut(..want).unwrap_or_default())?;
        self.left = self.left.saturating_sub(n as u64);
        Ok(n)
    }
}

/// The file's bytes as text: decompressed when its first bytes name a
/// format, else as they are. `size` is the file's size, for the cap.
pub fn open<R: Read + Send + 'static>(input: R, size: u64) -> io::Result<(Box<dyn Read + Send>, Option<Codec>)> {
    let mut buffered = BufReader::with_capacity(1 << 16, input);
    let head = buffered.fill_buf()?;
    let Some(codec) = Codec::sniff(head) else { return Ok((Box::new(buffered), None)) };
    let cap = size.saturating_mul(MAX_RATIO).max(MIN_CAP);
    let decoder: Box<dyn Read + Send> = match codec {
        Codec::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
        Codec::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(buffered)),
        Codec::Xz => Box::new(liblzma::bufread::XzDecoder::new_multi_decoder(buffered)),
        Codec::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(buffered)?),
    };
    Ok((Box::new(Capped { inner: decoder, left: cap, cap }), Some(codec)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const TEXT: &[u8] = b"2025-12-26T14:30:15Z ERROR boom\n2025-12-26T14:30:16Z INFO ok\n";

    fn gzip(b: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }

    fn all(bytes: Vec<u8>) -> (io::Result<Vec<u8>>, Option<Codec>) {
        let size = bytes.len() as u64;
        let (mut r, c) = open(io::Cursor::new(bytes), size).unwrap();
        let mut out = Vec::new();
        (r.read_to_end(&mut out).map(|_| out), c)
    }

    #[test]
    fn every_format_by_its_magic_bytes() {
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        bz.write_all(TEXT).unwrap();
        let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 6);
        xz.write_all(TEXT).unwrap();
        let zst = zstd::stream::encode_all(TEXT, 3).unwrap();
        for (bytes, codec) in [
            (gzip(TEXT), Some(Codec::Gzip)),
            (bz.finish().unwrap(), Some(Codec::Bzip2)),
            (xz.finish().unwrap(), Some(Codec::Xz)),
            (zst, Some(Codec::Zstd)),
            (TEXT.to_vec(), None),
        ] {
            let (out, c) = all(bytes);
            assert_eq!((out.unwrap(), c), (TEXT.to_vec(), codec));
        }
    }

    #[test]
    fn every_member_of_a_multi_member_gzip() {
        let mut two = gzip(b"a\n");
        two.extend(gzip(b"b\n"));
        assert_eq!(all(two).0.unwrap(), b"a\nb\n");
        let mut z = zstd::stream::encode_all(&b"a\n"[..], 1).unwrap();
        z.extend(zstd::stream::encode_all(&b"b\n"[..], 1).unwrap());
        assert_eq!(all(z).0.unwrap(), b"a\nb\n");
    }

    #[test]
    fn a_truncated_archive_gives_what_came_before_then_an_error() {
        let big: Vec<u8> = (0..20_000).flat_map(|i| format!("2025-12-26T14:30:15Z line {i}\n").into_bytes()).collect();
        let gz = gzip(&big);
        let cut = gz[..gz.len() / 2].to_vec();
        let (mut r, _) = open(io::Cursor::new(cut), 0).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        let err = loop {
            match r.read(&mut buf) {
                Ok(0) => break None,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => break Some(e),
            }
        };
        assert!(err.is_some(), "a cut archive is an error, not a silent end");
        assert!(got.len() > 100_000 && big.starts_with(&got), "{} bytes before the damage", got.len());
    }

    #[test]
    fn a_bomb_stops_at_the_cap() {
        let zeros = vec![b'x'; 8 << 20];
        let gz = gzip(&zeros);
        let (r, _) = open(io::Cursor::new(gz.clone()), gz.len() as u64).unwrap();
        // A small cap for the test: the same reader type.
        let mut capped = Capped { inner: r, left: 1 << 20, cap: 1 << 20 };
        let mut out = Vec::new();
        let e = capped.read_to_end(&mut out).unwrap_err();
        assert!(e.to_string().contains("compression bomb"), "{e}");
        assert_eq!(out.len(), 1 << 20);
    }
}
