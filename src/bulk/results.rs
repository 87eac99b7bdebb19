//! One results file per run, whole: every attempt rewrites it from the journal — each row's
//! latest status, what was done, the Zoom number id, the Movius account id, attempts, duration,
//! and the first failure's reason beside the last — into a temporary file renamed over the old
//! one, so a reader (or a crash) never sees half a file.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use crate::host::header::Header;
use crate::journal::{BulkRow, Journal, RunId};

use super::identity::record_key;

/// The columns after the input's own.
pub const COLUMNS: [&str; 8] = [
    "line",
    "status",
    "detail",
    "zoom_number_id",
    "movius_account_id",
    "attempts",
    "duration_ms",
    "first_failure",
];

/// Write the run's results for the rows of `csv` (in its order), then the run's rows that are
/// not in it.
pub fn write(
    journal: &Journal,
    run: RunId,
    csv: &Path,
    header: &Header,
    columns: &[String],
    out: &Path,
) -> anyhow::Result<()> {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "results.csv".into());
    let tmp = out.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let file = std::fs::File::create(&tmp)
        .map_err(|e| anyhow::anyhow!("results file {}: {e}", tmp.display()))?;
    {
        let mut w = csv::Writer::from_writer(std::io::BufWriter::new(&file));
        let mut head = columns.to_vec();
        head.extend(COLUMNS.map(String::from));
        w.write_record(&head)?;
        // The file's rows in its order, each looked up by key (memory stays flat: only the
        // keys are kept, to find the run's rows the file left out).
        let mut in_file: HashSet<String> = HashSet::new();
        let mut rd = super::lines::Records::open(csv)?;
        rd.headers()?;
        let mut rec = csv::StringRecord::new();
        while let Some(line) = rd
            .read(&mut rec)
            .map_err(|(line, e)| anyhow::anyhow!("{}: line {line}: {e}", csv.display()))?
        {
            let key = record_key(header, columns, &rec, line);
            let mut out: Vec<String> = rec.iter().map(str::to_string).collect();
            out.resize(columns.len(), String::new());
            match journal.bulk_row(run, &key)? {
                Some(r) => out.extend(tail(&r, line.to_string(), "")),
                None => out.extend([line.to_string(), "pending".to_string()]),
            }
            out.resize(columns.len() + COLUMNS.len(), String::new());
            w.write_record(&out)?;
            in_file.insert(key);
        }
        // Rows of the run the latest file left out: still the run's, so still reported.
        let mut left: Vec<Vec<String>> = Vec::new();
        journal.for_each_bulk_row(run, |r| {
            if !in_file.contains(&r.key) {
                let mut out: Vec<String> = columns
                    .iter()
                    .map(|c| match r.row.get(c) {
                        Some(serde_json::Value::String(s)) => s.clone(),
                        Some(serde_json::Value::Null) | None => String::new(),
                        Some(v) => v.to_string(),
                    })
                    .collect();
                out.extend(tail(&r, String::new(), "not in the latest file; "));
                left.push(out);
            }
            Ok(())
        })?;
        for out in left {
            w.write_record(&out)?;
        }
        w.flush()?;
        let mut f = w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
        f.flush()?;
    }
    file.sync_all()?;
    std::fs::rename(&tmp, out)
        .map_err(|e| anyhow::anyhow!("results file {}: {e}", out.display()))?;
    Ok(())
}

fn tail(r: &BulkRow, line: String, note: &str) -> [String; 8] {
    [
        line,
        r.status.as_str().to_string(),
        if note.is_empty() || r.detail.is_empty() {
            format!("{}{}", note.trim_end_matches("; "), r.detail)
        } else {
            format!("{note}{}", r.detail)
        },
        r.zoom_number_id.clone().unwrap_or_default(),
        r.movius_account_id.clone().unwrap_or_default(),
        r.attempts.to_string(),
        r.duration_ms.map(|d| d.to_string()).unwrap_or_default(),
        r.first_failure.clone().unwrap_or_default(),
    ]
}
