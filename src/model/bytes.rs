//! Reading little-endian model files from memory. A short read is an error
//! that says where; callers put it in their own error type with the path.

pub(super) struct ByteReader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> ByteReader<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// `reason`, with where in the file it applies.
    pub(super) fn fail(&self, reason: String) -> String {
        format!("{reason} (at byte {})", self.pos)
    }

    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let Some(slice) = self.pos.checked_add(n).and_then(|end| self.bytes.get(self.pos..end)) else {
            return Err(self.fail(format!("file ends early: wanted {n} more bytes")));
        };
        self.pos += n;
        Ok(slice)
    }

    pub(super) fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    pub(super) fn u16(&mut self) -> Result<u16, String> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    pub(super) fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(super) fn i32(&mut self) -> Result<i32, String> {
        self.u32().map(|v| v as i32)
    }
}
