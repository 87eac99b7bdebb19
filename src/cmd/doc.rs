//! `vline doc`, `vline procedures`, `vline check` and `vline completions`: what a script can call,
//! which procedures exist, whether a script compiles.

use std::io::Write;

use serde_json::json;

use crate::cli::Global;
use crate::host::bundle;
use crate::host::catalog::{self, CATALOG};
use crate::host::header::Header;
use crate::host::script::Script;

use super::Usage;

/// `vline doc [module|module::fn|fn]`.
pub fn doc(global: &Global, name: Option<&str>) -> anyhow::Result<()> {
    let entries: Vec<_> = match name {
        None => CATALOG.iter().collect(),
        Some(n) => catalog::find(n),
    };
    if entries.is_empty() {
        return Err(Usage(format!(
            "no function or module '{}' (modules: {})",
            name.unwrap_or_default(),
            catalog::modules().join(", ")
        ))
        .into());
    }
    if global.structured() {
        let v: Vec<_> = entries
            .iter()
            .map(|d| json!({"name": d.qualified(), "signature": d.signature, "impact": d.impact, "doc": d.doc}))
            .collect();
        super::print_doc(global, &v, None)?;
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    if name.is_none() {
        for m in catalog::modules() {
            writeln!(out, "{m}::")?;
            for d in CATALOG.iter().filter(|d| d.module == m) {
                let imp = d.impact.map(|i| i.as_str()).unwrap_or("-");
                writeln!(out, "  {:<60} {imp}", d.signature)?;
            }
        }
        writeln!(
            out,
            "\n`vline doc zoom::assign_number` shows one function; `vline doc zoom` one module."
        )?;
        return Ok(());
    }
    for d in entries {
        writeln!(out, "{}", catalog::render(d))?;
    }
    Ok(())
}

/// `vline procedures`: the bundled procedures with their guide section.
pub fn procedures(global: &Global) -> anyhow::Result<()> {
    let dir = crate::config::data_dir();
    let mut rows = Vec::new();
    for name in bundle::procedure_names() {
        let (src, header) = Script::load(name, Some(&dir)).map_err(|e| anyhow::anyhow!(e))?;
        let overridden = !matches!(src.origin, bundle::Origin::Bundled);
        rows.push((name, header, overridden));
    }
    if global.structured() {
        let v: Vec<_> = rows
            .iter()
            .map(|(n, h, o)| json!({"name": n, "title": h.title, "section": h.section, "impact": h.impact, "window_required": h.window_required, "params": h.params, "overridden": o}))
            .collect();
        super::print_doc(global, &v, None)?;
        return Ok(());
    }
    // The name and its impact never wrap; the guide's section is the first to give way.
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|(n, h, o)| {
            let name = if *o {
                format!("{n} (local override)")
            } else {
                n.to_string()
            };
            vec![
                name,
                h.impact.map(|i| i.to_string()).unwrap_or_default(),
                h.title.clone(),
                h.section.clone(),
            ]
        })
        .collect();
    println!(
        "{}",
        crate::output::grid(
            &["procedure", "impact", "what it does", "guide section"],
            table
        )
    );
    println!("`vline run <procedure> --help` shows its parameters.");
    Ok(())
}

/// `vline check FILE…`: compile without running; report every error with its position.
pub fn check(global: &Global, files: &[String]) -> anyhow::Result<()> {
    if files.is_empty() {
        return Err(Usage("name one or more scripts: vline check FILE…".into()).into());
    }
    let engine = super::setup::compile_engine()?;
    let mut failed = Vec::new();
    let mut report = Vec::new();
    for f in files {
        let outcome = Script::load(f, Some(&crate::config::data_dir()))
            .map_err(|e| e.to_string())
            .and_then(|(src, h): (_, Header)| {
                Script::compile(&engine, src, h).map_err(|e| e.to_string())
            });
        match outcome {
            Ok(s) => report.push(json!({"script": f, "ok": true, "params": s.header.params.len()})),
            Err(e) => {
                report.push(json!({"script": f, "ok": false, "error": e}));
                failed.push(e);
            }
        }
    }
    if global.structured() {
        super::print_doc(global, &report, None)?;
        super::json_document_printed();
    } else {
        for r in &report {
            match r["ok"].as_bool() {
                Some(true) => println!("ok      {}", r["script"].as_str().unwrap_or_default()),
                _ => println!("error   {}", r["error"].as_str().unwrap_or_default()),
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Usage(format!("{} script(s) do not compile", failed.len())).into())
    }
}

/// `vline completions <shell>`.
pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<()> {
    print!("{}", crate::cli::complete::registration(shell)?);
    Ok(())
}
