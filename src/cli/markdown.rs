//! `tributary export --format markdown`: one Markdown file per story in a
//! folder, each replaced whole, and what was written told on stderr.

use std::path::Path;

use anyhow::Context;

use super::CliError;
use crate::model::Story;
use crate::render::markdown::{markdown_file_name, render_markdown, unique_file_name};

/// One file per story. A name already used in this export gets the story's id
/// appended, so no story overwrites another; a story that cannot be written is
/// reported and the others are still written. Returns how many were written and
/// how many failed.
fn write_markdown(dir: &Path, stories: &[Story]) -> anyhow::Result<(usize, usize)> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // Compared without case: several file systems do not tell "A.md" from "a.md".
    let mut used = std::collections::HashSet::new();
    let (mut written, mut failed) = (0, 0);
    for story in stories {
        let mut name = markdown_file_name(story);
        if !used.insert(name.to_lowercase()) {
            name = unique_file_name(&name, story);
            used.insert(name.to_lowercase());
        }
        let path = dir.join(&name);
        let text = std::panic::catch_unwind(|| render_markdown(story));
        let result = match text {
            Ok(text) => write_replacing(&path, text.as_bytes()).map_err(|e| e.to_string()),
            Err(_) => Err("the story could not be converted to Markdown".to_string()),
        };
        match result {
            Ok(()) => written += 1,
            Err(e) => {
                failed += 1;
                eprintln!("cannot write {}: {e}", path.display());
            }
        }
    }
    Ok((written, failed))
}

/// Writes `bytes` to `path` through a temporary file renamed over it, so a file
/// of an earlier export is replaced whole and a link at `path` is not followed.
fn write_replacing(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".part");
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Writes `stories` into `dir` and says how that went; a story that could not
/// be written fails the export.
pub(super) fn export_markdown(dir: &Path, stories: &[Story]) -> Result<(), CliError> {
    let (written, failed) = write_markdown(dir, stories)?;
    let files = if written == 1 { "file" } else { "files" };
    if failed == 0 {
        eprintln!("wrote {written} {files} to {}", dir.display());
        return Ok(());
    }
    Err(CliError::Failed(format!(
        "wrote {written} {files} to {}; {failed} could not be written",
        dir.display()
    )))
}
