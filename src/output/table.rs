//! Tables that fit: the columns in the order the producer declares, as wide as the terminal (or
//! `COLUMNS`); the widest text columns wrap first; a column of single tokens (an E.164 number,
//! an id, an email) is never split; when even that does not fit, the last columns are left out
//! and named under the table. On a pipe nothing is cut.

use comfy_table::{
    presets::UTF8_FULL_CONDENSED, Cell, Color, ColumnConstraint, ContentArrangement, Table, Width,
};

use super::color::{self, Meaning};

/// Width a text column may wrap down to before columns are left out.
const TEXT_MIN: usize = 12;

/// A table: header and rows of text, ready to lay out.
#[derive(Debug, Clone, Default)]
pub struct Grid {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The width tables are laid out to: `COLUMNS` when set, else the terminal's, else none (a
/// pipe or file gets every column whole).
pub fn target_width() -> Option<usize> {
    width_when(std::io::IsTerminal::is_terminal(&std::io::stdout()))
}

/// The width prose on stderr (errors, the plan before its question) wraps at: `COLUMNS` when
/// set, else the terminal's when stderr is one, else none (a log file keeps each line whole).
pub fn stderr_width() -> Option<usize> {
    width_when(std::io::IsTerminal::is_terminal(&std::io::stderr()))
}

fn width_when(terminal: bool) -> Option<usize> {
    if let Some(w) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|w| *w > 0)
    {
        return Some(w);
    }
    if terminal {
        // comfy-table asks the terminal for its size.
        return Table::new().width().map(usize::from);
    }
    None
}

fn text_width(s: &str) -> usize {
    s.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

/// Longest cell that is still read as one token; longer ones (JSON params) may break.
const TOKEN_MAX: usize = 48;

/// A column whose every cell is one token (no space, not long): ids, E.164 numbers, emails,
/// statuses. Such a cell is never split.
fn is_atomic(grid: &Grid, c: usize) -> bool {
    grid.rows.iter().all(|r| {
        r.get(c).is_none_or(|v| {
            !v.trim().contains(char::is_whitespace) && v.chars().count() <= TOKEN_MAX
        })
    })
}

/// A header split where it may break (`assignee.` / `extension_number`): its narrowest width.
fn header_min(h: &str) -> usize {
    h.split_inclusive(['.', ' '])
        .map(|p| p.chars().count())
        .max()
        .unwrap_or(0)
}

/// The header broken at `.` and spaces to fit `w`.
fn wrap_header(h: &str, w: usize) -> String {
    if h.chars().count() <= w {
        return h.to_string();
    }
    let mut lines: Vec<String> = vec![String::new()];
    for part in h.split_inclusive(['.', ' ']) {
        let cur = lines.last_mut().expect("one line");
        if !cur.is_empty() && cur.chars().count() + part.chars().count() > w {
            lines.push(part.to_string());
        } else {
            cur.push_str(part);
        }
    }
    lines
        .iter()
        .map(|l| l.trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The width of each column to lay out at `width`, and how many leading columns are kept.
fn fit(grid: &Grid, width: usize) -> (Vec<usize>, usize) {
    let n = grid.header.len();
    let natural: Vec<usize> = (0..n)
        .map(|c| {
            grid.rows
                .iter()
                .filter_map(|r| r.get(c))
                .map(|v| text_width(v))
                .chain([text_width(&grid.header[c])])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let min: Vec<usize> = (0..n)
        .map(|c| {
            let cells = grid
                .rows
                .iter()
                .filter_map(|r| r.get(c))
                .map(|v| text_width(v))
                .max()
                .unwrap_or(0);
            let floor = if is_atomic(grid, c) {
                cells
            } else {
                // Down to the longest word (words are not split while the column can wrap).
                let word = grid
                    .rows
                    .iter()
                    .filter_map(|r| r.get(c))
                    .flat_map(|v| v.split_whitespace())
                    .map(|w| w.chars().count())
                    .max()
                    .unwrap_or(0);
                word.min(TEXT_MIN)
            };
            floor
                .max(header_min(&grid.header[c]))
                .min(natural[c])
                .max(1)
        })
        .collect();
    // Borders: `│ a ┆ b │` is 3 per column and 1.
    let overhead = |k: usize| 3 * k + 1;
    let mut keep = n;
    while keep > 1 && min[..keep].iter().sum::<usize>() + overhead(keep) > width {
        keep -= 1;
    }
    let mut widths: Vec<usize> = natural[..keep].to_vec();
    let budget = width.saturating_sub(overhead(keep));
    // The widest column that can still give gives one character at a time.
    while widths.iter().sum::<usize>() > budget {
        let Some(c) = (0..keep)
            .filter(|&c| widths[c] > min[c])
            .max_by_key(|&c| (widths[c], std::cmp::Reverse(c)))
        else {
            break;
        };
        widths[c] -= 1;
    }
    // A token column whose header wraps anyway needs no more than its cells or the header's
    // longest part: the spare width would only be blank.
    for c in 0..keep {
        if widths[c] < natural[c] && is_atomic(grid, c) {
            widths[c] = min[c];
        }
    }
    (widths, keep)
}

/// The grid as text at `width` (none: every column whole); `paint` colours cells by meaning.
pub fn render(grid: &Grid, width: Option<usize>, paint: bool) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    if paint {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    let (widths, keep) = match width {
        Some(w) => fit(grid, w),
        None => (Vec::new(), grid.header.len()),
    };
    let fixed = !widths.is_empty() && width.is_some();
    if fixed {
        t.set_content_arrangement(ContentArrangement::Dynamic);
        t.set_width(width.unwrap_or(80).min(u16::MAX as usize) as u16);
    } else {
        t.set_content_arrangement(ContentArrangement::Disabled);
    }
    t.set_header(
        grid.header[..keep]
            .iter()
            .enumerate()
            .map(|(c, h)| match widths.get(c) {
                Some(&w) => wrap_header(h, w),
                None => h.clone(),
            })
            .collect::<Vec<_>>(),
    );
    for r in &grid.rows {
        t.add_row(
            (0..keep)
                .map(|c| {
                    let v = r.get(c).cloned().unwrap_or_default();
                    let cell_color = if paint {
                        Meaning::of(&grid.header[c], &v).map(color_of)
                    } else {
                        None
                    };
                    match cell_color {
                        Some(col) => Cell::new(v).fg(col),
                        None => Cell::new(v),
                    }
                })
                .collect::<Vec<_>>(),
        );
    }
    if fixed {
        t.set_constraints(
            widths
                .iter()
                .map(|&w| ColumnConstraint::Absolute(Width::Fixed((w + 2) as u16))),
        );
    }
    let mut out = t.to_string();
    if keep < grid.header.len() {
        let hidden = &grid.header[keep..];
        let note = format!(
            "{} more column(s) not shown at {} columns: {} (choose with --fields, or -o json)",
            hidden.len(),
            width.unwrap_or(0),
            hidden.join(", ")
        );
        out.push('\n');
        out.push_str(&wrap_words(&note, width.unwrap_or(usize::MAX)));
    }
    out
}

fn color_of(m: Meaning) -> Color {
    match m {
        Meaning::Done => Color::Green,
        Meaning::Refused => Color::Yellow,
        Meaning::Irreversible | Meaning::Failed => Color::Red,
    }
}

/// Text wrapped at spaces to `width` (a word longer than the line keeps its own line).
pub fn wrap_words(text: &str, width: usize) -> String {
    wrap_indented(text, width, "")
}

/// Lines of prose wrapped at spaces to `width`, continuation lines indented by `indent`;
/// lines of a table (box drawing) are left as they are.
pub fn wrap_prose(text: &str, width: Option<usize>, indent: &str) -> String {
    let Some(width) = width else {
        return text.to_string();
    };
    text.lines()
        .map(|l| {
            if l.starts_with(['┌', '│', '╞', '├', '└']) {
                l.to_string()
            } else {
                wrap_indented(l, width, indent)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn wrap_indented(text: &str, width: usize, indent: &str) -> String {
    // A line's own indentation is kept, and its continuation lines go further in.
    let body = text.trim_start_matches(' ');
    let lead = &text[..text.len() - body.len()];
    let mut out = lead.to_string();
    let mut line = lead.chars().count();
    let mut first = true;
    for word in body.split(' ').filter(|w| !w.is_empty()) {
        let w = word.chars().count();
        if !first && line + 1 + w > width {
            out.push('\n');
            out.push_str(lead);
            out.push_str(indent);
            line = lead.chars().count() + indent.chars().count();
        } else if !first {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += w;
        first = false;
    }
    out
}

/// Whether tables painted now would be coloured (stdout a terminal, colour allowed).
pub fn paint_stdout() -> bool {
    color::enabled(color::Stream::Stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers_grid() -> Grid {
        Grid {
            header: [
                "number",
                "status",
                "assignee.name",
                "assignee.extension_number",
                "site.name",
                "detail",
                "id",
                "carrier.name",
            ]
            .map(String::from)
            .to_vec(),
            rows: (0..3)
                .map(|i| {
                    vec![
                        format!("+1312617000{i}"),
                        "available".into(),
                        "Alice Adams".into(),
                        "1001".into(),
                        "Chicago".into(),
                        "a long free text that explains a great deal about the number".into(),
                        format!("num1312617000{i}"),
                        "Movius".into(),
                    ]
                })
                .collect(),
        }
    }

    #[test]
    fn fits_the_width_and_never_splits_a_number() {
        for w in [60, 80, 100, 160] {
            let out = render(&numbers_grid(), Some(w), false);
            for line in out.lines() {
                assert!(line.chars().count() <= w, "{w}: {line:?}\n{out}");
            }
            assert!(out.contains("+13126170002"), "{out}");
        }
    }

    #[test]
    fn an_id_is_never_split_while_text_wraps_around_it() {
        let g = Grid {
            header: vec!["id".into(), "detail".into()],
            rows: vec![vec![
                "num13126170002".into(),
                "a long free text that wraps".into(),
            ]],
        };
        // 14 for the id, 12 for the text, and the borders: the id stays whole, the text wraps.
        let out = render(&g, Some(33), false);
        assert!(out.contains("│ num13126170002 ┆"), "{out}");
        assert!(out.lines().all(|l| l.chars().count() <= 33), "{out}");
    }

    #[test]
    fn leaves_out_last_columns_and_names_them() {
        let out = render(&numbers_grid(), Some(60), false);
        assert!(out.contains("not shown at 60 columns"), "{out}");
        assert!(out.contains("carrier.name"), "{out}");
    }

    #[test]
    fn a_pipe_gets_every_column_whole() {
        let out = render(&numbers_grid(), None, false);
        assert!(out
            .lines()
            .any(|l| l.contains("a long free text that explains a great deal about the number")));
        assert!(!out.contains("not shown"));
    }

    #[test]
    fn prose_wraps_with_its_indent_and_leaves_tables_alone() {
        assert_eq!(
            wrap_prose("  need four words here\n│ a ┆ b │", Some(12), "  "),
            "  need four\n    words\n    here\n│ a ┆ b │"
        );
    }

    #[test]
    fn headers_break_at_dots() {
        assert_eq!(
            wrap_header("assignee.extension_number", 16),
            "assignee.\nextension_number"
        );
    }
}
