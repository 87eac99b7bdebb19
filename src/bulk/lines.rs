//! A CSV's records with their physical lines: the line an editor shows, blank lines and line
//! breaks inside quoted cells counted. The csv crate's position of a record is where it began
//! to scan, before the blank lines it skips, so every reader of an input file goes through here
//! and a row is named by one line number in the refusal, the results file and the journal.

use std::io::Cursor;
use std::path::Path;

/// A file's records, read from memory (a 100,000-row file is a few MB).
pub struct Records {
    rd: csv::Reader<Cursor<Vec<u8>>>,
}

impl Records {
    pub fn open(path: &Path) -> std::io::Result<Records> {
        Ok(Records::from_bytes(std::fs::read(path)?))
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Records {
        Records {
            rd: csv::ReaderBuilder::new()
                .flexible(false)
                .from_reader(Cursor::new(bytes)),
        }
    }

    /// The header row (the file's line 1).
    pub fn headers(&mut self) -> csv::Result<&csv::StringRecord> {
        self.rd.headers()
    }

    /// Read the next record into `rec`: its physical line, or `None` at the end. An unreadable
    /// record is an error with its physical line.
    pub fn read(&mut self, rec: &mut csv::StringRecord) -> Result<Option<u64>, (u64, csv::Error)> {
        let before = self.rd.position().clone();
        match self.rd.read_record(rec) {
            Ok(false) => Ok(None),
            Ok(true) => Ok(Some(self.line_at(rec.position().unwrap_or(&before)))),
            Err(e) => {
                let at = e.position().cloned().unwrap_or(before);
                Err((self.line_at(&at), e))
            }
        }
    }

    /// The line where the record scanned from `pos` starts: past the blank lines at `pos`.
    fn line_at(&self, pos: &csv::Position) -> u64 {
        let bytes = self.rd.get_ref().get_ref();
        let mut line = pos.line();
        for &b in bytes.iter().skip(pos.byte() as usize) {
            match b {
                b'\n' => line += 1,
                b'\r' => {}
                _ => break,
            }
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_count_blank_lines_and_quoted_breaks() {
        let text = "a,b\n\n1,2\n\r\n\n\"x\ny\",3\n4,5\n";
        let mut r = Records::from_bytes(text.as_bytes().to_vec());
        assert_eq!(r.headers().unwrap().len(), 2);
        let mut rec = csv::StringRecord::new();
        let mut lines = Vec::new();
        while let Some(l) = r.read(&mut rec).unwrap() {
            lines.push((l, rec.get(1).unwrap().to_string()));
        }
        assert_eq!(lines, [(3, "2".into()), (6, "3".into()), (8, "5".into())]);
    }
}
