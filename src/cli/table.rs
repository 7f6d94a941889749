//! Plain-text tables for the terminal: columns as wide as their widest cell.

use std::io::Write;

/// Left-aligned columns, two spaces apart, the last one unpadded; `paint` may
/// colour a row's finished line.
pub(super) fn write_table(
    out: &mut impl Write,
    header: &[&str],
    rows: &[Vec<String>],
    paint: impl Fn(usize, String) -> String,
) -> std::io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  "));
            }
        }
        s.trim_end().to_string()
    };
    writeln!(out, "{}", line(header.to_vec()))?;
    for (i, row) in rows.iter().enumerate() {
        writeln!(
            out,
            "{}",
            paint(i, line(row.iter().map(String::as_str).collect()))
        )?;
    }
    Ok(())
}
