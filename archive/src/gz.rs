//! Deterministic parallel gzip, in the manner of pigz: the input is cut into fixed
//! 1 MiB blocks, each block is deflated on its own thread (level 6, raw deflate ending
//! in a sync flush, so the blocks join into one deflate stream), and the results are
//! written in order, inside one gzip member whose CRC-32 is combined from the blocks'.
//! The block size is fixed, so the bytes never depend on the number of cores; only
//! the speed does. At most `threads` blocks are in flight, so memory stays bounded.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::thread::JoinHandle;

use flate2::{Compress, Compression, FlushCompress, Status};

const BLOCK: usize = 1 << 20;
const LEVEL: u32 = 6;
/// Names how bundles are compressed; it is part of every bundle's action key, so a
/// change here (block size, level, deflate implementation) must change it too, and
/// caches never hand out bytes made the old way under the new key.
pub const GZIP_FORMAT: &str = "gzip=zlib-rs-0.6/level6/1MiB-blocks";
/// ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=255 (unknown): no name, no time.
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];

type Block = JoinHandle<io::Result<(Vec<u8>, crc32fast::Hasher)>>;

pub struct GzWriter<W: Write> {
    out: W,
    buf: Vec<u8>,
    in_flight: VecDeque<Block>,
    threads: usize,
    crc: crc32fast::Hasher,
    total: u64,
    header_written: bool,
}

impl<W: Write> GzWriter<W> {
    pub fn new(out: W) -> Self {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        GzWriter {
            out,
            buf: Vec::with_capacity(BLOCK),
            in_flight: VecDeque::new(),
            threads,
            crc: crc32fast::Hasher::new(),
            total: 0,
            header_written: false,
        }
    }

    /// Compress what is buffered as the last block, write the trailer, return the writer.
    pub fn finish(mut self) -> io::Result<W> {
        let last = std::mem::take(&mut self.buf);
        self.total += last.len() as u64;
        let (bytes, crc) = compress_block(&last, true)?;
        while !self.in_flight.is_empty() {
            self.write_oldest()?;
        }
        self.emit(&bytes, &crc)?;
        let total = self.total;
        let sum = self.crc.clone().finalize();
        self.out.write_all(&sum.to_le_bytes())?;
        self.out.write_all(&(total as u32).to_le_bytes())?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn start_block(&mut self) -> io::Result<()> {
        if self.in_flight.len() >= self.threads {
            self.write_oldest()?;
        }
        let block = std::mem::replace(&mut self.buf, Vec::with_capacity(BLOCK));
        self.total += block.len() as u64;
        self.in_flight
            .push_back(std::thread::spawn(move || compress_block(&block, false)));
        Ok(())
    }

    fn write_oldest(&mut self) -> io::Result<()> {
        let handle = self.in_flight.pop_front().expect("a block is in flight");
        let (bytes, crc) = handle
            .join()
            .map_err(|_| io::Error::other("a compression thread panicked"))??;
        self.emit(&bytes, &crc)
    }

    fn emit(&mut self, bytes: &[u8], crc: &crc32fast::Hasher) -> io::Result<()> {
        if !self.header_written {
            self.out.write_all(&HEADER)?;
            self.header_written = true;
        }
        self.crc.combine(crc);
        self.out.write_all(bytes)
    }
}

impl<W: Write> Write for GzWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(BLOCK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == BLOCK {
            self.start_block()?;
        }
        Ok(n)
    }

    /// Blocks are cut by size only, so flushing cannot end one early: it does nothing.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Deflate one block on its own: a sync flush ends a middle block on a byte boundary,
/// the last one ends the stream.
fn compress_block(data: &[u8], last: bool) -> io::Result<(Vec<u8>, crc32fast::Hasher)> {
    let mut crc = crc32fast::Hasher::new();
    crc.update(data);
    let mut c = Compress::new(Compression::new(LEVEL), false);
    let mut out = Vec::with_capacity(data.len() + data.len() / 64 + 1024);
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    loop {
        let done_in = c.total_in() as usize;
        let status = c
            .compress_vec(&data[done_in..], &mut out, flush)
            .map_err(io::Error::other)?;
        // A flush is complete once all input is taken and there was room to spare.
        let complete = if last {
            status == Status::StreamEnd
        } else {
            c.total_in() as usize == data.len() && out.len() < out.capacity()
        };
        if complete {
            return Ok((out, crc));
        }
        out.reserve(out.capacity().max(64 * 1024));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gz(data: &[u8], threads: usize) -> Vec<u8> {
        let mut w = GzWriter::new(Vec::new());
        w.threads = threads;
        // Uneven writes, to cross block boundaries mid-write.
        for chunk in data.chunks(300_007) {
            w.write_all(chunk).unwrap();
        }
        w.finish().unwrap()
    }

    fn sample(len: usize) -> Vec<u8> {
        let mut x: u32 = 12345;
        (0..len)
            .map(|i| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                if i % 3 == 0 {
                    (x >> 24) as u8
                } else {
                    b'a' + (i % 7) as u8
                }
            })
            .collect()
    }

    #[test]
    fn same_bytes_whatever_the_thread_count_and_gunzip_restores_the_input() {
        for len in [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 12_345] {
            let data = sample(len);
            let one = gz(&data, 1);
            assert_eq!(one, gz(&data, 4), "len {len}");
            let mut back = Vec::new();
            flate2::read::GzDecoder::new(one.as_slice())
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back, data, "len {len}");
        }
    }

    #[test]
    fn the_output_is_pinned() {
        // A change of block size, level or deflate implementation changes every bundle's
        // sha256: it must be a deliberate, documented change (docs/bundle.md).
        let out = gz(&sample(2 * BLOCK + 100), 2);
        assert_eq!(
            release::Digest::of_bytes(&out).hex(),
            "dc5298ce119be304c4263ed4abb6de902d594b37821a274c690b28c3244ae54c"
        );
    }
}
