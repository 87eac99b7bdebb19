//! `vline journal list|show|export`: read the audit journal.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use serde_json::json;

use super::Usage;
use crate::cli::{Global, JournalCmd, JournalFilter};
use crate::journal::{Journal, RunFilter, RunOutcome, RunSummary, WriteRow};

pub fn run(global: &Global, cmd: JournalCmd) -> anyhow::Result<()> {
    let path = crate::config::journal_path();
    match cmd {
        JournalCmd::List { limit, filter } => {
            list(global, &path, limit, &run_filter(global, filter)?)
        }
        JournalCmd::Verify => verify(global, &path),
        JournalCmd::Show { run } => show(global, &path, run),
        JournalCmd::Export {
            csv,
            format,
            run,
            out,
            filter,
        } => {
            // `--format`, `--csv` and the global `-o`/`--json` say the same thing: one may.
            use crate::output::Format;
            let global_format =
                (global.output().format != Format::Table).then_some(global.output().format);
            let format = match (format.as_deref(), csv, global_format) {
                (Some(_), true, _) | (Some(_), _, Some(_)) | (None, true, Some(_)) => {
                    return Err(Usage(
                        "choose one output format: --format csv|json|jsonl (or --csv, -o FORMAT)"
                            .into(),
                    )
                    .into())
                }
                (Some("csv"), ..) | (None, _, None) | (None, false, Some(Format::Csv)) => {
                    Export::Csv
                }
                (Some("json"), ..) | (None, false, Some(Format::Json)) => Export::Json,
                (Some("jsonl"), ..) | (None, false, Some(Format::Jsonl)) => Export::Jsonl,
                (None, false, Some(Format::Yaml | Format::Table)) => {
                    return Err(Usage(
                        "journal export writes csv, json or jsonl (-o yaml is not one)".into(),
                    )
                    .into())
                }
                (Some(other), ..) => {
                    return Err(Usage(format!("--format {other}: use csv, json or jsonl")).into())
                }
            };
            let filter = run_filter(global, filter)?;
            export(format, &path, run, &filter, out.as_deref())
        }
    }
}

/// The journal if it exists; reading must not create one.
fn open_existing(path: &Path) -> anyhow::Result<Option<Journal>> {
    if !path.exists() {
        return Ok(None);
    }
    Ok(Some(Journal::open(path)?))
}

/// The list's filters; `--ticket` and `--profile` are the global flags.
fn run_filter(global: &Global, f: JournalFilter) -> anyhow::Result<RunFilter> {
    let outcome = match f.outcome.as_deref() {
        None => None,
        Some(o) => Some(o.parse::<RunOutcome>().map_err(|_| {
            Usage(format!(
                "--outcome {o}: use done, failed, refused, interrupted or running"
            ))
        })?),
    };
    Ok(RunFilter {
        operator: f.operator,
        target: f.target,
        op: f.op,
        ticket: global.ticket.clone(),
        profile: global.profile.clone(),
        outcome,
        since: f.since,
        until: f.until,
    })
}

/// `vline journal verify`: exit 0 when the chain holds, 1 naming the first altered row.
fn verify(global: &Global, path: &Path) -> anyhow::Result<()> {
    let Some(j) = open_existing(path)? else {
        println!("No journal yet ({}): nothing to verify.", path.display());
        return Ok(());
    };
    let v = j.verify()?;
    if global.structured() {
        super::print_doc(global, &v, None)?;
        super::json_document_printed();
    }
    match &v.problem {
        None => {
            if !global.structured() {
                println!(
                    "journal intact: {} events chained, head {} ({})",
                    v.events,
                    v.head,
                    path.display()
                );
            }
            Ok(())
        }
        Some(p) => Err(anyhow::anyhow!(
            "the journal was altered behind vline's back: {p} (chain checked up to event {}). Keep this file as evidence and tell your security team",
            v.events
        )),
    }
}

fn list(global: &Global, path: &Path, limit: usize, filter: &RunFilter) -> anyhow::Result<()> {
    let runs = match open_existing(path)? {
        Some(j) => j.runs_where(filter, limit)?,
        None => Vec::new(),
    };
    if global.structured() {
        super::print_doc(global, &runs, None)?;
        return Ok(());
    }
    if runs.is_empty() {
        println!("No runs in the journal ({}).", path.display());
        return Ok(());
    }
    // What a reader scans for first leads; on a narrow terminal the last columns give way.
    let header = [
        "run", "outcome", "started", "operator", "ticket", "script", "writes", "profile", "mode",
    ];
    let mut rows = Vec::new();
    for r in &runs {
        rows.push(vec![
            r.id.to_string(),
            r.outcome.to_string(),
            short_time(&r.started_at),
            r.operator.clone(),
            r.ticket.clone().unwrap_or_default(),
            r.script.clone(),
            r.writes.to_string(),
            r.profile.clone(),
            r.mode.clone(),
        ]);
    }
    println!("{}", crate::output::grid(&header, rows));
    Ok(())
}

fn show(global: &Global, path: &Path, id: crate::journal::RunId) -> anyhow::Result<()> {
    let found = match open_existing(path)? {
        Some(j) => j.run(id)?,
        None => None,
    };
    let Some((run, writes)) = found else {
        anyhow::bail!(
            "no run {id} in the journal {} (`vline journal list` shows the runs)",
            path.display()
        );
    };
    if global.structured() {
        super::print_doc(global, &json!({ "run": run, "writes": writes }), None)?;
        return Ok(());
    }
    print_run(&run);
    if writes.is_empty() {
        println!("\nNo writes.");
        return Ok(());
    }
    // Numbered in the order they were journaled: a resumed run's attempts each count their
    // writes from 1, so their own sequence numbers repeat.
    let header = [
        "#",
        "op",
        "target",
        "outcome",
        "impact",
        "http",
        "error",
        "at",
        "duration_ms",
        "params",
    ];
    let mut rows = Vec::new();
    for (n, w) in writes.iter().enumerate() {
        rows.push(vec![
            (n + 1).to_string(),
            w.op.clone(),
            w.target.clone(),
            w.outcome.to_string(),
            w.impact.to_string(),
            w.http_status.map(|s| s.to_string()).unwrap_or_default(),
            w.error.clone().unwrap_or_default(),
            short_time(&w.at),
            w.duration_ms.to_string(),
            w.params.to_string(),
        ]);
    }
    println!("\n{}", crate::output::grid(&header, rows));
    Ok(())
}

fn print_run(r: &RunSummary) {
    let ended = r
        .finished_at
        .as_deref()
        .map(short_time)
        .unwrap_or_else(|| "…".into());
    println!(
        "run {}  {}  ({} → {})",
        r.id,
        r.outcome,
        short_time(&r.started_at),
        ended
    );
    println!("operator  {}@{}", r.operator, r.host);
    println!("profile   {}", r.profile);
    println!("mode      {}", r.mode);
    if r.script_digest.is_empty() {
        println!("script    {}", r.script);
    } else {
        println!("script    {} (sha256 {})", r.script, r.script_digest);
    }
    println!("params    {}", r.params);
    if let Some(reason) = &r.outside_window_reason {
        println!("outside maintenance window: {reason}");
    }
    if !r.detail.is_empty() {
        println!("detail    {}", r.detail);
    }
}

const CSV_HEADER: [&str; 17] = [
    "run",
    "run_started_at",
    "operator",
    "host",
    "profile",
    "script",
    "mode",
    "seq",
    "at",
    "op",
    "impact",
    "target",
    "outcome",
    "http_status",
    "duration_ms",
    "error",
    "params",
];

/// How `journal export` writes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Export {
    Csv,
    Json,
    Jsonl,
}

fn export(
    format: Export,
    path: &Path,
    run: Option<crate::journal::RunId>,
    filter: &RunFilter,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let (runs, writes) = match open_existing(path)? {
        Some(j) => {
            if let Some(id) = run {
                if j.run(id)?.is_none() {
                    anyhow::bail!(
                        "no run {id} in the journal {} (`vline journal list` shows the runs)",
                        path.display()
                    );
                }
            }
            let runs = j.runs_where(filter, usize::MAX)?;
            let chosen: std::collections::HashSet<_> = runs.iter().map(|r| r.id).collect();
            let writes = j
                .writes(run)?
                .into_iter()
                .filter(|w| chosen.contains(&w.run))
                // Within the chosen runs, a target or op filter keeps only its writes.
                .filter(|w| {
                    filter
                        .target
                        .as_ref()
                        .is_none_or(|t| w.target.contains(t.as_str()))
                })
                .filter(|w| {
                    filter
                        .op
                        .as_ref()
                        .is_none_or(|o| w.op == *o || w.op.ends_with(&format!("::{o}")))
                })
                .collect();
            (runs, writes)
        }
        None => match run {
            Some(id) => anyhow::bail!(
                "no run {id} in the journal {} (it does not exist yet)",
                path.display()
            ),
            None => (Vec::new(), Vec::new()),
        },
    };
    let runs: std::collections::HashMap<_, _> = runs.into_iter().map(|r| (r.id, r)).collect();
    let mut sink: Box<dyn Write> = match out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    if format == Export::Json {
        let rows: Vec<_> = writes
            .iter()
            .map(|w| export_json(runs.get(&w.run), w))
            .collect();
        serde_json::to_writer_pretty(&mut sink, &rows)?;
        writeln!(sink)?;
    } else if format == Export::Jsonl {
        for w in &writes {
            serde_json::to_writer(&mut sink, &export_json(runs.get(&w.run), w))?;
            writeln!(sink)?;
        }
    } else {
        let mut csv = csv::Writer::from_writer(&mut sink);
        csv.write_record(CSV_HEADER)?;
        for w in &writes {
            csv.write_record(csv_record(runs.get(&w.run), w))?;
        }
        csv.flush()?;
    }
    sink.flush()?;
    drop(sink);
    if let Some(p) = out {
        eprintln!("wrote {} write(s) to {}", writes.len(), p.display());
    }
    Ok(())
}

fn csv_record(r: Option<&RunSummary>, w: &WriteRow) -> [String; 17] {
    let from_run = |f: fn(&RunSummary) -> String| r.map(f).unwrap_or_default();
    [
        w.run.to_string(),
        from_run(|r| r.started_at.clone()),
        from_run(|r| r.operator.clone()),
        from_run(|r| r.host.clone()),
        from_run(|r| r.profile.clone()),
        from_run(|r| r.script.clone()),
        from_run(|r| r.mode.clone()),
        w.seq.to_string(),
        w.at.clone(),
        w.op.clone(),
        w.impact.to_string(),
        w.target.clone(),
        w.outcome.to_string(),
        w.http_status.map(|s| s.to_string()).unwrap_or_default(),
        w.duration_ms.to_string(),
        w.error.clone().unwrap_or_default(),
        w.params.to_string(),
    ]
}

fn export_json(r: Option<&RunSummary>, w: &WriteRow) -> serde_json::Value {
    let mut v = json!(w);
    if let (Some(r), serde_json::Value::Object(m)) = (r, &mut v) {
        for (k, val) in [
            ("run_started_at", json!(r.started_at)),
            ("operator", json!(r.operator)),
            ("host", json!(r.host)),
            ("profile", json!(r.profile)),
            ("script", json!(r.script)),
            ("mode", json!(r.mode)),
            ("ticket", json!(r.ticket)),
        ] {
            m.insert(k.into(), val);
        }
    }
    v
}

/// "2026-11-23T12:00:00.123Z" → "2026-11-23 12:00:00Z" for tables.
fn short_time(rfc3339: &str) -> String {
    match rfc3339.parse::<jiff::Timestamp>() {
        Ok(t) => t.strftime("%Y-%m-%d %H:%M:%SZ").to_string(),
        Err(_) => rfc3339.to_string(),
    }
}
